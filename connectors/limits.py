"""Least-privilege API keys and application credentials: the one place their limits are read and enforced.

A key (or an application credential, and the tokens it mints) may be limited to some connectors (by id or by type
slug), to read operations (actions the manifest marks as reads; GET/HEAD proxy calls), and to the agent surface
(/mcp and /api/v1/integrations/tools). Dashboard users have no such limits. A refused call raises PermissionDenied
(403) saying why.

Where each check runs:
- the surface: at authentication (workspaces/auth.py for the REST API, connectors/mcp/view.py for /mcp);
- connectors: every connector lookup of the API and MCP (`check_connector`, `limit_connectors`);
- operations: the services that run them (`execution_start`, `proxy_run`), so no surface can skip it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.db.models import Q, QuerySet

from core.errors import PermissionDenied
from core.ids import is_uuid
from workspaces.models import KeyLimitsMixin
from workspaces.services import Actor

from .models import Connector


class Surface(StrEnum):
    API = "api"  # the REST API (and the SDK, which speaks it)
    MCP = "mcp"
    TOOLS = "tools"  # GET /api/v1/integrations/tools


AGENT_SURFACES = frozenset({Surface.MCP, Surface.TOOLS})
READ_METHODS = frozenset({"GET", "HEAD"})


@dataclass(frozen=True)
class KeyLimits:
    connectors: tuple[str, ...] = ()
    read_only: bool = False
    agent_only: bool = False

    @property
    def unlimited(self) -> bool:
        return not (self.connectors or self.read_only or self.agent_only)

    def as_dict(self) -> dict[str, Any]:
        return {"connectors": list(self.connectors), "read_only": self.read_only, "agent_only": self.agent_only}

    def summary(self) -> str:
        """In words, for pages and messages: "connectors github, stripe; read-only; MCP and tools only"."""
        parts = []
        if self.connectors:
            parts.append("connectors " + ", ".join(self.connectors))
        if self.read_only:
            parts.append("read-only")
        if self.agent_only:
            parts.append("MCP and tools only")
        return "; ".join(parts) or "no limits"


def limits_of(principal: Any) -> KeyLimits:
    """The limits of whoever authenticated: an API key, an application credential, or an Actor holding one. A
    dashboard user (or the system) has none."""
    holder = principal
    if isinstance(principal, Actor):
        holder = principal.api_key or principal.application
    if not isinstance(holder, KeyLimitsMixin):
        return KeyLimits()
    return KeyLimits(tuple(holder.connector_limits or ()), bool(holder.read_only), bool(holder.agent_only))


def check_surface(principal: Any, surface: Surface) -> None:
    limits = limits_of(principal)
    if limits.agent_only and surface not in AGENT_SURFACES:
        raise PermissionDenied(
            "This API key is limited to the agent surface: use it with /mcp or GET /api/v1/integrations/tools."
        )


def connector_allowed(limits: KeyLimits, connector: Connector) -> bool:
    if not limits.connectors:
        return True
    return str(connector.pk) in limits.connectors or connector.definition.slug in limits.connectors


def check_connector(principal: Any, connector: Connector) -> Connector:
    limits = limits_of(principal)
    if not connector_allowed(limits, connector):
        raise PermissionDenied(
            f"This API key is limited to connectors {', '.join(limits.connectors)}; "
            f"it may not use this {connector.definition.name} connector."
        )
    return connector


def allowed_connectors(principal: Any, candidates: list[Connector]) -> list[Connector]:
    """The candidates the key may use; PermissionDenied (saying why) when there are some but it may use none."""
    limits = limits_of(principal)
    allowed = [c for c in candidates if connector_allowed(limits, c)]
    if candidates and not allowed:
        check_connector(principal, candidates[0])
    return allowed


def check_new_connector(principal: Any, slug: str) -> None:
    """A key limited to some connectors may create connectors of the types it names, no others."""
    limits = limits_of(principal)
    if limits.connectors and slug not in limits.connectors:
        raise PermissionDenied(
            f"This API key is limited to connectors {', '.join(limits.connectors)}; it may not create a {slug} one."
        )


def limit_connectors(queryset: QuerySet[Connector], principal: Any) -> QuerySet[Connector]:
    """Only the connectors the key may use (a workspace-scoped queryset in, a narrower one out)."""
    limits = limits_of(principal)
    if not limits.connectors:
        return queryset
    ids = [c for c in limits.connectors if is_uuid(c)]
    return queryset.filter(Q(pk__in=ids) | Q(definition__slug__in=limits.connectors))


def check_operation(principal: Any, connector: Connector, *, read: bool, what: str) -> None:
    """May this principal run `what` (an operation or a proxy call) on `connector`? `read` says it only reads."""
    check_connector(principal, connector)
    if limits_of(principal).read_only and not read:
        raise PermissionDenied(
            f"This API key is read-only; {what} changes data. Use a key without the read-only limit."
        )
