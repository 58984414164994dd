"""Webhooks: endpoints, events written to an outbox in the transaction of the change, signed deliveries with retries.

- `emit` writes one WebhookMessage per interested endpoint inside the caller's transaction and asks a worker to
  deliver it after commit: a rolled-back change sends nothing, a committed one is never lost (the sweeper sends what
  a lost task or a dead worker left pending).
- `deliver` makes one attempt: it claims the message with a lease (a conditional UPDATE, so two workers never send it
  at once), checks the target resolves to a public address (unless PATCHBAY_WEBHOOKS_ALLOW_PRIVATE), signs the body
  in the Standard Webhooks format (`standardwebhooks`), POSTs it with a timeout and no redirects, logs the attempt,
  and says when the next one is due (PATCHBAY_WEBHOOK_RETRY_SCHEDULE): a worker's task queues it with that
  countdown. An endpoint failing for PATCHBAY_WEBHOOK_DISABLE_AFTER_DAYS is disabled, with an audit event.
Payloads carry ids and non-secret facts only.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import logging
import secrets
import socket
import time
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from connectors import crypto
from core.errors import FieldError, InvalidInput
from workspaces.models import Workspace
from workspaces.services import Actor, audit

from .models import EVENT_TYPES, MessageStatus, WebhookAttempt, WebhookEndpoint, WebhookMessage

logger = logging.getLogger("patchbay.webhooks")
SECRET_PREFIX = "whsec_"  # noqa: S105 - a format tag
CLAIM_GRACE_SECONDS = 2
MAX_ENDPOINTS = 20


# --- Endpoints ----------------------------------------------------------------------------------------------------


def _clean_events(events: Iterable[str] | None) -> list[str]:
    cleaned = list(dict.fromkeys(str(e).strip() for e in (events or ()) if str(e).strip()))
    unknown = [e for e in cleaned if e not in EVENT_TYPES]
    if unknown:
        message = f"Unknown event types: {', '.join(unknown)}. Known: {', '.join(EVENT_TYPES)}."
        raise InvalidInput(message, [FieldError("events", message, "invalid_value")])
    return cleaned


def _clean_url(url: str) -> str:
    url = (url or "").strip()
    parts = urlsplit(url)
    problem = None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        problem = "Must be an http(s) URL."
    elif parts.username or parts.password:
        problem = "Must not contain credentials."
    elif parts.scheme == "http" and not settings.PATCHBAY_WEBHOOKS_ALLOW_PRIVATE:
        problem = "Must be an https URL."
    elif not settings.PATCHBAY_WEBHOOKS_ALLOW_PRIVATE and _private_literal(parts.hostname):
        problem = "Must not point at a loopback, private or link-local address."
    if problem:
        raise InvalidInput(f"Invalid webhook url: {problem}", [FieldError("url", problem, "invalid_value")])
    return url


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def endpoint_secret(endpoint: WebhookEndpoint) -> str:
    return crypto.decrypt_json(endpoint.secret_encrypted, owner=f"Webhook endpoint {endpoint.pk}")["secret"]


@transaction.atomic
def webhook_endpoint_create(
    *, workspace: Workspace, url: str, events: Iterable[str] | None = None, description: str = "", actor: Actor
) -> tuple[WebhookEndpoint, str]:
    """The endpoint and its signing secret, which is shown once (stored encrypted, to sign with)."""
    if WebhookEndpoint.objects.filter(workspace=workspace).count() >= MAX_ENDPOINTS:
        message = f"A workspace has at most {MAX_ENDPOINTS} webhook endpoints."
        raise InvalidInput(message, [FieldError("url", message, "too_many")])
    secret = new_secret()
    endpoint = WebhookEndpoint.objects.create(
        workspace=workspace,
        url=_clean_url(url),
        events=_clean_events(events),
        description=(description or "").strip()[:200],
        secret_encrypted=crypto.encrypt_json({"secret": secret}),
    )
    audit(workspace=workspace, actor=actor, action="webhook.create", target=endpoint, metadata={"url": endpoint.url})
    return endpoint, secret


@transaction.atomic
def webhook_endpoint_update(
    *,
    endpoint: WebhookEndpoint,
    actor: Actor,
    url: str | None = None,
    events: Iterable[str] | None = None,
    enabled: bool | None = None,
    description: str | None = None,
) -> WebhookEndpoint:
    if url is not None:
        endpoint.url = _clean_url(url)
    if events is not None:
        endpoint.events = _clean_events(events)
    if description is not None:
        endpoint.description = description.strip()[:200]
    if enabled is not None:
        endpoint.enabled = enabled
        if enabled:
            endpoint.disabled_reason, endpoint.failing_since = "", None
    endpoint.save()
    audit(workspace=endpoint.workspace, actor=actor, action="webhook.update", target=endpoint)
    return endpoint


@transaction.atomic
def webhook_endpoint_delete(*, endpoint: WebhookEndpoint, actor: Actor) -> None:
    audit(workspace=endpoint.workspace, actor=actor, action="webhook.delete", target=endpoint)
    endpoint.delete()


# --- Events ---------------------------------------------------------------------------------------------------------


def emit(*, workspace_id: int, event_type: str, data: dict[str, Any]) -> list[WebhookMessage]:
    """Owe `event_type` to every enabled endpoint of the workspace that wants it. Call inside the transaction of
    the change; delivery starts after commit."""
    endpoints = [
        e for e in WebhookEndpoint.objects.filter(workspace_id=workspace_id, enabled=True) if e.wants(event_type)
    ]
    if not endpoints:
        return []
    now = timezone.now()
    payload = {"type": event_type, "timestamp": now.isoformat().replace("+00:00", "Z"), "data": data}
    messages = WebhookMessage.objects.bulk_create(
        [
            WebhookMessage(
                endpoint=e, workspace_id=workspace_id, event_type=event_type, payload=payload, next_attempt_at=now
            )
            for e in endpoints
        ]
    )
    ids = [str(m.pk) for m in messages]
    transaction.on_commit(lambda: _dispatch(ids))
    return messages


def _dispatch(message_ids: list[str]) -> None:
    from .tasks import deliver_webhook

    for message_id in message_ids:
        try:
            deliver_webhook.delay(message_id)
        except Exception:  # noqa: BLE001 - the broker is down: the sweeper sends it
            logger.warning("could not queue webhook message %s; the sweeper will send it", message_id)


def redeliver(*, message: WebhookMessage, actor: Actor) -> WebhookMessage:
    """Send a message again now (a delivered or failed one too): the dashboard's "redeliver" button."""
    WebhookMessage.objects.filter(pk=message.pk).update(status=MessageStatus.PENDING, next_attempt_at=timezone.now())
    audit(workspace=message.endpoint.workspace, actor=actor, action="webhook.redeliver", target=message.endpoint)
    transaction.on_commit(lambda: _dispatch([str(message.pk)]))
    message.refresh_from_db()
    return message


def sweep(limit: int = 500) -> int:
    """Queue every pending message that is due (lost sends, dead workers, retries whose task was lost)."""
    due = list(
        WebhookMessage.objects.filter(status=MessageStatus.PENDING, next_attempt_at__lte=timezone.now())
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    _dispatch([str(pk) for pk in due])
    return len(due)


# --- Delivery -------------------------------------------------------------------------------------------------------


def deliver(message_id: str) -> float | None:
    """One attempt at one message. Returns the seconds until the next attempt is due when one is (the task queues it
    with that countdown; the sweeper sends it if that is lost), else None (delivered, failed, or not ours)."""
    now = timezone.now()
    # A retry queued with a countdown may start a moment before the row says it is due (clocks, rounding).
    due_by = now + timedelta(seconds=CLAIM_GRACE_SECONDS)
    claimed = (
        WebhookMessage.objects.filter(pk=message_id, status=MessageStatus.PENDING)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=due_by))
        .update(next_attempt_at=now + timedelta(seconds=settings.PATCHBAY_WEBHOOK_LEASE_SECONDS))
    )
    if not claimed:
        return None  # delivered, failed, or another worker holds it
    message = WebhookMessage.objects.select_related("endpoint", "endpoint__workspace").get(pk=message_id)
    endpoint = message.endpoint
    if not endpoint.enabled:
        WebhookMessage.objects.filter(pk=message.pk).update(status=MessageStatus.FAILED)
        return None
    status_code, error, duration_ms = _send(endpoint, message)
    WebhookAttempt.objects.create(message=message, status_code=status_code, error=error[:300], duration_ms=duration_ms)
    return _record_outcome(message, endpoint, status_code)


def _send(endpoint: WebhookEndpoint, message: WebhookMessage) -> tuple[int | None, str, int]:
    started = time.monotonic()
    try:
        check_target(endpoint.url)
        body = json.dumps(message.payload, separators=(",", ":"))
        sent_at = timezone.now()
        signature = Webhook(endpoint_secret(endpoint)).sign(message.msg_id, sent_at, body)
        response = requests.post(
            endpoint.url,
            data=body.encode(),
            headers={
                "Content-Type": "application/json",
                "User-Agent": "Patchbay-Webhooks/1.0",
                "webhook-id": message.msg_id,
                "webhook-timestamp": str(int(sent_at.timestamp())),
                "webhook-signature": signature,
            },
            timeout=settings.PATCHBAY_WEBHOOK_TIMEOUT,
            allow_redirects=False,
        )
        response.close()
        return response.status_code, "", _ms(started)
    except _Refused as exc:
        return None, str(exc), _ms(started)
    except requests.Timeout:
        return None, f"No answer within {settings.PATCHBAY_WEBHOOK_TIMEOUT:g}s.", _ms(started)
    except requests.RequestException as exc:
        return None, f"Could not connect ({type(exc).__name__}).", _ms(started)


def _record_outcome(message: WebhookMessage, endpoint: WebhookEndpoint, status_code: int | None) -> float | None:
    now = timezone.now()
    attempts = message.attempts + 1
    schedule = settings.PATCHBAY_WEBHOOK_RETRY_SCHEDULE
    fields: dict[str, Any] = {"attempts": attempts, "last_status_code": status_code}
    retry_in: float | None = None
    if status_code is not None and 200 <= status_code < 300:
        fields.update(status=MessageStatus.DELIVERED, delivered_at=now, next_attempt_at=None)
        if endpoint.failing_since is not None:
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=None)
    elif attempts <= len(schedule):
        retry_in = schedule[attempts - 1]
        fields.update(next_attempt_at=now + timedelta(seconds=retry_in))
    else:
        fields.update(status=MessageStatus.FAILED, next_attempt_at=None)
    WebhookMessage.objects.filter(pk=message.pk).update(**fields)
    if fields.get("status") != MessageStatus.DELIVERED:
        _note_failure(endpoint, now)
    return retry_in


def _note_failure(endpoint: WebhookEndpoint, now: datetime) -> None:
    if endpoint.failing_since is None:
        WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(failing_since=now)
        return
    if now - endpoint.failing_since < timedelta(days=settings.PATCHBAY_WEBHOOK_DISABLE_AFTER_DAYS):
        return
    reason = f"Every delivery failed since {endpoint.failing_since:%Y-%m-%d %H:%M} UTC."
    if WebhookEndpoint.objects.filter(pk=endpoint.pk, enabled=True).update(enabled=False, disabled_reason=reason):
        audit(
            workspace=endpoint.workspace,
            actor=Actor.system(),
            action="webhook.disabled",
            target=endpoint,
            metadata={"reason": reason},
        )


# --- Where a webhook may go -------------------------------------------------------------------------------------


class _Refused(Exception):
    pass


def _private_literal(host: str) -> bool:
    try:
        return not ipaddress.ip_address(host.strip("[]")).is_global
    except ValueError:
        return host.lower() in ("localhost",) or host.lower().endswith(".localhost")


def check_target(url: str) -> None:
    """At delivery time: every address the host resolves to must be public (no loopback, private, link-local or
    reserved ranges), unless PATCHBAY_WEBHOOKS_ALLOW_PRIVATE. A name that changed to point inside is caught here."""
    if settings.PATCHBAY_WEBHOOKS_ALLOW_PRIVATE:
        return
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        infos = socket.getaddrinfo(
            host, parts.port or (443 if parts.scheme == "https" else 80), type=socket.SOCK_STREAM
        )
    except OSError:
        raise _Refused(f"Could not resolve {host}.") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise _Refused(f"{host} resolves to a non-public address; not sent.")


def _ms(started: float) -> int:
    return max(0, round((time.monotonic() - started) * 1000))
