"""Reads for connectors and definitions. Everything workspace-owned goes through workspaces.access."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import UTC, datetime
from typing import Any

from django.db.models import Q, QuerySet

from core.errors import Conflict, FieldError, InvalidInput, NotFound, NotFoundWithErrors
from core.ids import is_uuid
from core.prepared import PreparedQuery
from workspaces.access import get_scoped, get_scoped_prepared, scoped
from workspaces.models import Workspace

from . import crypto
from .catalog import manifest_for
from .catalog.manifest import AuthScheme, UnknownAuthScheme
from .limits import allowed_connectors, check_connector, limit_connectors
from .models import Connector, ConnectorDefinition, OAuthApp


def definition_list(*, name: str | None = None) -> QuerySet[ConnectorDefinition]:
    qs = ConnectorDefinition.objects.all().order_by("name")
    if name:
        qs = qs.filter(Q(name__iexact=name) | Q(slug__iexact=name))
    return qs


def definition_get(*, definition_id: Any) -> ConnectorDefinition:
    try:
        return ConnectorDefinition.objects.get(pk=uuid.UUID(str(definition_id)))
    except (ValueError, ConnectorDefinition.DoesNotExist):
        raise NotFound(f"No connector type has definition_id {definition_id}.") from None


def definition_get_by_slug(*, slug: str) -> ConnectorDefinition:
    definition = ConnectorDefinition.objects.filter(slug__iexact=slug).first()
    if definition is None:
        raise NotFound(f"No connector type is called {slug!r}.")
    return definition


def definition_resolve(*, definition_id: Any = None, connector_type: str | None = None) -> ConnectorDefinition:
    """Exactly one of definition_id / connector_type (the slug); anything else is a field error."""
    if bool(definition_id) == bool(connector_type):
        message = (
            "Give either definition_id or connector_type, not both."
            if definition_id
            else "Give definition_id or connector_type (the slug, e.g. 'github')."
        )
        raise InvalidInput(
            message,
            [
                FieldError("definition_id", message, "exactly_one"),
                FieldError("connector_type", message, "exactly_one"),
            ],
        )
    try:
        if definition_id:
            return definition_get(definition_id=definition_id)
        return definition_get_by_slug(slug=str(connector_type))
    except NotFound as exc:
        field = "definition_id" if definition_id else "connector_type"
        raise InvalidInput(exc.message, [FieldError(field, exc.message, "unknown_connector_type")]) from None


def auth_scheme_of(connector: Connector) -> AuthScheme:
    try:
        return manifest_for(connector.definition).scheme(connector.auth_scheme)
    except UnknownAuthScheme:
        raise NotFound(
            f"Connector {connector.pk}: auth scheme {connector.auth_scheme!r} no longer exists in the catalog."
        ) from None


def connector_list(
    *,
    workspace: Workspace,
    connector_type: str | None = None,
    definition_id: Any = None,
    end_user_id: str | None = None,
    principal: Any = None,
) -> QuerySet[Connector]:
    """The workspace's connectors; with `principal` (an API key), only those its limits allow."""
    qs = limit_connectors(scoped(Connector.objects.select_related("definition"), workspace), principal)
    if end_user_id:
        qs = qs.filter(end_user_id=end_user_id)
    if connector_type:
        qs = qs.filter(definition__slug__iexact=connector_type)
    if definition_id:
        try:
            qs = qs.filter(definition_id=uuid.UUID(str(definition_id)))
        except ValueError:
            raise InvalidInput(
                "definition_id must be a UUID.", [FieldError("definition_id", "Must be a UUID.", "invalid_value")]
            ) from None
    return qs.order_by("-created_at", "-id")


# Every execute starts here: compiled once per connection, since compiling the join cost more CPU than running it.
# The manifest text is read only on a cache miss (connectors.catalog.manifest_for): it is most of the row.
CONNECTOR_IN_WORKSPACE = PreparedQuery(
    lambda: Connector.objects.select_related("definition").defer("definition__manifest_json"), "workspace_id", "pk"
)


def connector_get(*, workspace: Workspace, connector_id: Any, principal: Any = None) -> Connector:
    """404 outside the workspace; with `principal` (an API key), 403 when its limits leave the connector out."""
    connector = get_scoped_prepared(CONNECTOR_IN_WORKSPACE, workspace, what="Connector", pk=connector_id)
    return check_connector(principal, connector)


def connector_resolve(
    *, workspace: Workspace, connector_type: str, end_user_id: str | None = None, principal: Any = None
) -> Connector:
    try:
        definition_get_by_slug(slug=connector_type)
    except NotFound as exc:
        error = FieldError("connector_type", exc.message, "unknown_connector_type")
        raise NotFoundWithErrors(exc.message, [error]) from None
    candidates = allowed_connectors(
        principal,
        list(connector_list(workspace=workspace, connector_type=connector_type, end_user_id=end_user_id)[:50]),
    )
    if not candidates:
        whose = f" for end user {end_user_id[:100]!r}" if end_user_id else ""
        raise NotFound(f"This workspace has no {connector_type} connector{whose}. Create one first.")
    if len(candidates) > 1:
        raise Conflict(
            f"This workspace has {len(candidates)} {connector_type} connectors; pass connector_id to choose one.",
            candidates=[{"id": str(c.pk), "name": c.name} for c in candidates],
        )
    return candidates[0]


def connector_select(*, workspace: Workspace, refs: list[str] | None, principal: Any = None) -> list[Connector]:
    """The connectors named by `refs` (ids or type slugs; a slug names every connector of that type), in the
    order named; without refs, every connector the principal may use. An unknown ref is 404, one outside the key's
    limits 403."""
    qs = connector_list(workspace=workspace, principal=None)
    if not refs:
        return list(limit_connectors(qs, principal).order_by("created_at", "id")[:200])
    chosen: dict[Any, Connector] = {}
    for ref in refs:
        if is_uuid(ref):
            found = [connector_get(workspace=workspace, connector_id=ref, principal=principal)]
        else:
            found = list(qs.filter(definition__slug__iexact=ref).order_by("created_at", "id")[:50])
            if not found:
                raise NotFound(f"This workspace has no connector {ref[:100]!r} (give a connector id or type).")
            found = allowed_connectors(principal, found)
        for connector in found:
            chosen.setdefault(connector.pk, connector)
    return list(chosen.values())


def connector_credentials(connector: Connector) -> dict[str, Any]:
    return crypto.decrypt_json(connector.credentials_encrypted, owner=f"Connector {connector.pk} ({connector.name})")


def connector_credential_fields(connector: Connector) -> list[str]:
    """Which credential fields are set: safe to show (names only)."""
    try:
        return sorted(k for k, v in connector_credentials(connector).items() if v not in (None, ""))
    except crypto.DecryptionError:
        return []


# --- Cursor pagination -----------------------------------------------------------------------------------------


def encode_cursor(created_at: datetime, pk: Any) -> str:
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{pk}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    """(created_at, id) from a `next` cursor; anything we did not issue is a 422 naming `cursor`, never a 500."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created_raw, pk_raw = raw.split("|", 1)
        created_at = datetime.fromisoformat(created_raw)
        if created_at.tzinfo is None:
            raise ValueError("naive timestamp")
        created_at = created_at.astimezone(UTC)  # out-of-range offsets fail here, not in the database
        pk = uuid.UUID(pk_raw)
    except (ValueError, binascii.Error, UnicodeDecodeError, OverflowError):
        raise InvalidInput(
            "Invalid cursor.", [FieldError("cursor", "Use the 'next' value of a previous page.", "invalid_value")]
        ) from None
    return created_at, pk


def paginate(qs: QuerySet, *, cursor: str | None, limit: int) -> tuple[list, str | None]:
    """Keyset pagination over (-created_at, -id): stable under inserts, O(limit) per page."""
    if cursor:
        created_at, pk = decode_cursor(cursor)
        qs = qs.filter(Q(created_at__lt=created_at) | Q(created_at=created_at, pk__lt=pk))
    rows = list(qs[: limit + 1])
    next_cursor = encode_cursor(rows[limit - 1].created_at, rows[limit - 1].pk) if len(rows) > limit else None
    return rows[:limit], next_cursor


def oauth_app_list(*, workspace: Workspace) -> QuerySet[OAuthApp]:
    return scoped(OAuthApp.objects.select_related("definition"), workspace).order_by("definition__name")


def oauth_app_get(*, workspace: Workspace, connector_type: str) -> OAuthApp:
    return get_scoped(
        OAuthApp.objects.select_related("definition"), workspace, what="OAuth app", definition__slug=connector_type
    )
