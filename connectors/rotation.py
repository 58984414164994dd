"""Key rotation: re-encrypt every secret column with the newest key, batch by batch."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography.fernet import InvalidToken
from django.db import transaction

from webhooks.models import WebhookEndpoint

from . import crypto
from .models import Connector, Execution, OAuthApp, OAuthState

# (model, secret column, how to name a row in messages). Every encrypted column: a test compares this list with
# the models, so a new one cannot be forgotten.
SECRET_COLUMNS = [
    (Connector, "credentials_encrypted", lambda row: f"connector {row.pk} ({row.name})"),
    (OAuthApp, "client_secret_encrypted", lambda row: f"OAuth app {row.pk} ({row.client_id})"),
    (OAuthState, "code_verifier_encrypted", lambda row: f"OAuth state {row.pk}"),
    # Queued executions' parameters: wiped when the run ends, but a queue may hold them across a rotation.
    (Execution, "params_encrypted", lambda row: f"execution {row.pk}"),
    (WebhookEndpoint, "secret_encrypted", lambda row: f"webhook endpoint {row.pk} ({row.url})"),
]


@dataclass
class RotationReport:
    rotated: int = 0
    current: int = 0
    failed: list[str] = field(default_factory=list)


def rotate_all(*, batch_size: int = 500, write: Callable[[str], object] = print) -> RotationReport:
    report = RotationReport()
    for model, column, describe in SECRET_COLUMNS:
        qs = model.objects.exclude(**{column: ""}).order_by("pk")
        total = qs.count()
        done = 0
        last_pk = None
        while True:
            page = qs.filter(pk__gt=last_pk) if last_pk is not None else qs
            ids = list(page.values_list("pk", flat=True)[:batch_size])
            if not ids:
                break
            with transaction.atomic():
                # Locked and read again inside the transaction: a concurrent write (a token refresh, an update)
                # either lands before and is re-encrypted, or waits and writes over a row already rotated.
                batch = list(
                    model.objects.select_for_update().filter(pk__in=ids).exclude(**{column: ""}).order_by("pk")
                )
                for row in batch:
                    token = getattr(row, column)
                    if crypto.is_current(token):
                        report.current += 1
                        continue
                    try:
                        setattr(row, column, crypto.rotate_token(token))
                    except InvalidToken:
                        report.failed.append(describe(row))
                        continue
                    model.objects.filter(pk=row.pk).update(**{column: getattr(row, column)})
                    report.rotated += 1
            done += len(ids)
            last_pk = ids[-1]
            write(f"  {model.__name__}: {done}/{total}")
    return report
