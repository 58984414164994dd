"""Key rotation: re-encrypt every secret column with the newest key, batch by batch."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography.fernet import InvalidToken
from django.db import transaction

from . import crypto
from .models import Connector, OAuthApp, OAuthState

# (model, secret column, how to name a row in messages)
SECRET_COLUMNS = [
    (Connector, "credentials_encrypted", lambda row: f"connector {row.pk} ({row.name})"),
    (OAuthApp, "client_secret_encrypted", lambda row: f"OAuth app {row.pk} ({row.client_id})"),
    (OAuthState, "code_verifier_encrypted", lambda row: f"OAuth state {row.pk}"),
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
            batch = list(page[:batch_size])
            if not batch:
                break
            with transaction.atomic():
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
            done += len(batch)
            last_pk = batch[-1].pk
            write(f"  {model.__name__}: {done}/{total}")
    return report
