"""Webhook events from the audit trail: the audit log already records every connector change in the transaction
that makes it, so webhooks listen to it (one place) instead of each service calling them."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from core.ids import is_uuid
from workspaces.models import AuditEvent

from .services import emit

# audit action -> webhook event type
AUDIT_EVENTS = {
    "connector.create": "connector.created",
    "connector.update": "connector.updated",
    "connector.delete": "connector.deleted",
    "connector.needs_reauth": "connector.needs_reauth",
    "connector.needs_attention": "connector.credentials_rejected",
    "connector.refresh_failed": "connector.refresh_failed",
    "connect_session.complete": "connect_session.completed",
}


@receiver(post_save, sender=AuditEvent, dispatch_uid="webhooks.from_audit")
def audit_to_webhook(sender: Any, instance: AuditEvent, created: bool, **kwargs: Any) -> None:
    event_type = AUDIT_EVENTS.get(instance.action)
    if not created or event_type is None or instance.workspace_id is None:
        return
    emit(workspace_id=instance.workspace_id, event_type=event_type, data=connector_data(instance))


def connector_data(event: AuditEvent) -> dict[str, Any]:
    """Ids and non-secret facts: the connector's id, name, type and status (what is still there to read)."""
    from connectors.models import Connector

    data: dict[str, Any] = {"connector_id": event.target_id, "name": event.target_repr}
    connector = None
    if is_uuid(event.target_id):
        connector = Connector.objects.select_related("definition").filter(pk=event.target_id).first()
    if connector is not None:
        data.update(
            connector_type=connector.definition.slug,
            status=connector.status,
            status_detail=connector.status_detail,
            end_user_id=connector.end_user_id or None,
        )
    for key in ("from", "to", "upstream_status", "error", "connect_session_id", "reconnect"):
        if key in (event.metadata or {}):
            data[key] = event.metadata[key]
    return data
