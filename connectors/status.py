"""A connector's health has one owner (healthchecks' Channel.notify idea): every change of `status` goes through
`connector_set_status`, which writes only on a transition — a conditional UPDATE, so concurrent workers agree on
who changed it — and audits it as `connector.<new status>`.

unknown ──(a check or an execution succeeds)──► healthy ◄──(succeeds again)── needs_attention
   │                                              │                                ▲
   └───────────────(the vendor refuses the stored credentials)────────────────────┘
OAuth: the provider refuses the refresh token, or the tokens are revoked ──► needs_reauth ──(re-authorise)──► healthy
New credentials (PATCH) ──► unknown until something proves them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils import timezone

from workspaces.services import Actor, audit

from .models import Connector, ConnectorStatus

PROVEN_BY_SUCCESS = (ConnectorStatus.UNKNOWN, ConnectorStatus.NEEDS_ATTENTION)


def connector_set_status(
    *,
    connector: Connector,
    status: str,
    detail: str = "",
    actor: Actor | None = None,
    only_from: Iterable[str] | None = None,
    metadata: dict[str, Any] | None = None,
) -> bool:
    """Move `connector` to `status` unless it is there already (or not in `only_from`). Returns whether it moved;
    `connector` is updated in memory either way it ends up."""
    if connector.status == status or (only_from is not None and connector.status not in set(only_from)):
        return False
    previous = connector.status
    rows = Connector.objects.filter(pk=connector.pk, status=previous)
    moved = rows.update(status=status, status_detail=detail[:500], updated_at=timezone.now())
    connector.status, connector.status_detail = status, detail[:500]
    if moved:
        audit(
            workspace=connector.workspace,
            actor=actor or Actor.system(),
            action=f"connector.{status}",
            target=connector,
            metadata={"from": previous, "to": status, **(metadata or {})},
        )
    return bool(moved)


def connector_proven(*, connector: Connector, actor: Actor | None = None) -> bool:
    """A check or an execution succeeded: the credentials work."""
    return connector_set_status(
        connector=connector, status=ConnectorStatus.HEALTHY, actor=actor, only_from=PROVEN_BY_SUCCESS
    )
