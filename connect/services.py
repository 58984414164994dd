"""Connect sessions: made by an API caller for one end user, completed by that end user on the hosted page.

The session token is the end user's only credential: random, shown once (in `connect_url`), stored as a SHA-256
hash, short-lived and good for one connector. Everything the hosted page does goes through these functions.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from connectors.catalog import manifest_for
from connectors.limits import check_new_connector, limits_of
from connectors.models import Connector, ConnectorDefinition
from connectors.oauth.services import oauth_initiate
from connectors.selectors import connector_get
from connectors.services import connector_create, connector_update
from core.errors import FieldError, InvalidInput, PermissionDenied, SessionUnavailable
from core.ids import is_uuid
from workspaces.models import Workspace
from workspaces.services import Actor, audit

from .models import ConnectSession

TOKEN_PREFIX = "pbcs_"  # noqa: S105 - a prefix, not a secret
DEFAULT_TTL = timedelta(minutes=30)
MIN_TTL_SECONDS = 60
MAX_TTL_SECONDS = 24 * 3600


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- Redirect origins -------------------------------------------------------------------------------------------


def origin_of(url: str) -> str | None:
    """`scheme://host[:port]` of an absolute http(s) URL (lower-case, default ports dropped), else None."""
    try:
        parts = urlsplit((url or "").strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    default = {"http": 80, "https": 443}[parts.scheme]
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


def public_origin() -> str:
    return origin_of(settings.PATCHBAY_PUBLIC_URL) or "http://127.0.0.1:8000"


def allowed_origins(workspace: Workspace) -> list[str]:
    """Where connect sessions may send end users back (and whom the hosted page tells the outcome)."""
    return list(workspace.allowed_redirect_origins or []) or [public_origin()]


def normalise_origins(values: list[str]) -> list[str]:
    """Each value must be a bare origin: `https://app.example.com` (no path, query or credentials)."""
    origins: list[str] = []
    errors: list[FieldError] = []
    for i, value in enumerate(values):
        origin = origin_of(value)
        parts = urlsplit(value.strip()) if origin else None
        if origin is None or parts is None or parts.path not in ("", "/") or parts.query or parts.username:
            errors.append(
                FieldError(
                    f"allowed_redirect_origins[{i}]",
                    "Must be an origin such as https://app.example.com (scheme and host, no path).",
                    "invalid_value",
                )
            )
        elif origin not in origins:
            origins.append(origin)
    if errors:
        raise InvalidInput("Some redirect origins are not origins.", errors)
    return origins


def workspace_set_redirect_origins(*, workspace: Workspace, origins: list[str], actor: Actor) -> Workspace:
    cleaned = normalise_origins(origins)
    workspace.allowed_redirect_origins = cleaned
    workspace.save(update_fields=["allowed_redirect_origins"])
    audit(
        workspace=workspace,
        actor=actor,
        action="workspace.update",
        target=workspace,
        metadata={"allowed_redirect_origins": cleaned},
    )
    return workspace


def _redirect_errors(workspace: Workspace, redirect_url: str) -> list[FieldError]:
    if not redirect_url:
        return []
    origin = origin_of(redirect_url)
    if origin is None:
        return [FieldError("redirect_url", "Must be an absolute http(s) URL.", "invalid_value")]
    if origin not in allowed_origins(workspace):
        return [
            FieldError(
                "redirect_url",
                f"{origin} is not one of this workspace's allowed redirect origins "
                "(PATCH /api/v1/workspace with allowed_redirect_origins, or the dashboard's Connect page).",
                "origin_not_allowed",
            )
        ]
    return []


# --- Creating a session ---------------------------------------------------------------------------------------


def _allowed_types(principal: Any, requested: list[str]) -> tuple[list[str], list[FieldError]]:
    """Slugs of the requested types (names or slugs accepted), each within the key's limits."""
    slugs: list[str] = []
    errors: list[FieldError] = []
    known = {d.slug.lower(): d.slug for d in ConnectorDefinition.objects.only("slug")}
    for i, ref in enumerate(requested):
        slug = known.get(str(ref).strip().lower())
        if slug is None:
            errors.append(
                FieldError(
                    f"allowed_connector_types[{i}]", f"Unknown connector type {ref!r}.", "unknown_connector_type"
                )
            )
        elif slug not in slugs:
            check_new_connector(principal, slug)
            slugs.append(slug)
    if not requested:
        limited = limits_of(principal).connectors
        if limited:
            slugs = [ref for ref in limited if not is_uuid(ref) and ref.lower() in known]
            if not slugs:
                raise PermissionDenied(
                    "This API key is limited to particular connectors; it may not offer end users every type."
                )
    return slugs, errors


@transaction.atomic
def connect_session_create(
    *,
    workspace: Workspace,
    end_user_id: str,
    end_user_email: str = "",
    end_user_display_name: str = "",
    allowed_connector_types: list[str] | None = None,
    redirect_url: str = "",
    expires_in: int | None = None,
    connector_id: str | None = None,
    principal: Any = None,
    actor: Actor,
) -> tuple[ConnectSession, str]:
    """A new session and its token (shown once). A session naming `connector_id` re-connects that connector."""
    errors: list[FieldError] = []
    if not end_user_id.strip():
        errors.append(FieldError("end_user.id", "This field is required.", "required"))
    connector: Connector | None = None
    if connector_id:
        connector = connector_get(workspace=workspace, connector_id=connector_id, principal=principal)
        types = [connector.definition.slug]
        if connector.end_user_id and connector.end_user_id != end_user_id:
            errors.append(
                FieldError("connector_id", "This connector belongs to another end user.", "end_user_mismatch")
            )
    else:
        types, type_errors = _allowed_types(principal, allowed_connector_types or [])
        errors += type_errors
    errors += _redirect_errors(workspace, redirect_url)
    if errors:
        raise InvalidInput("Cannot create the connect session: " + ", ".join(e.field for e in errors) + ".", errors)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    ttl = timedelta(seconds=expires_in) if expires_in else DEFAULT_TTL
    session = ConnectSession.objects.create(
        workspace=workspace,
        token_hash=token_hash(token),
        end_user_id=end_user_id.strip(),
        end_user_email=end_user_email.strip(),
        end_user_display_name=end_user_display_name.strip(),
        allowed_connector_types=types,
        redirect_url=redirect_url,
        connector=connector,
        created_by=actor.api_key,
        expires_at=timezone.now() + ttl,
    )
    audit(
        workspace=workspace,
        actor=actor,
        action="connect_session.create",
        target=session,
        metadata={"end_user_id": session.end_user_id, "connector_types": types, "reconnect": connector is not None},
    )
    return session, token


def connect_url(token: str) -> str:
    return settings.PATCHBAY_PUBLIC_URL.rstrip("/") + reverse("connect:start", kwargs={"token": token})


# --- The hosted page ------------------------------------------------------------------------------------------


def session_from_token(token: str, *, lock: bool = False) -> ConnectSession:
    """The open session this token names; SessionUnavailable for a forged, expired or used one."""
    qs = ConnectSession.objects.select_related("workspace", "connector", "connector__definition")
    if lock:
        qs = qs.select_for_update(of=("self",))
    session = qs.filter(token_hash=token_hash(token or "")).first() if token.startswith(TOKEN_PREFIX) else None
    if session is None:
        raise SessionUnavailable("invalid_session", "This connect link is not valid. Ask the app for a new one.")
    if session.completed_at is not None:
        raise SessionUnavailable("session_used", "This connect link was already used. Ask the app for a new one.")
    if session.expires_at <= timezone.now():
        raise SessionUnavailable("session_expired", "This connect link has expired. Ask the app for a new one.")
    return session


def _offered(session: ConnectSession) -> QuerySet[ConnectorDefinition]:
    qs = ConnectorDefinition.objects.defer("manifest_json")
    return qs.filter(slug__in=session.allowed_connector_types) if session.allowed_connector_types else qs


def session_definitions(session: ConnectSession) -> list[ConnectorDefinition]:
    """The services the end user may pick, in catalog order."""
    return list(_offered(session).order_by("name"))


def session_offers_several(session: ConnectSession) -> bool:
    """Whether there is another service to go back to (an empty list offers every type)."""
    return len(session.allowed_connector_types) != 1


def session_definition(session: ConnectSession, slug: str) -> ConnectorDefinition:
    definition = _offered(session).filter(slug=slug).first()
    if definition is not None:
        return definition
    raise InvalidInput(
        "This service is not offered by this connect link.",
        [FieldError("connector_type", "Not one of the services this link offers.", "not_allowed")],
    )


def _end_user_actor(session: ConnectSession, ip: str | None) -> Actor:
    return Actor(api_key=session.created_by, ip=ip)


def _default_name(session: ConnectSession, definition: ConnectorDefinition) -> str:
    who = session.end_user_display_name or session.end_user_email or session.end_user_id
    return f"{definition.name} ({who})"[:200]


def complete_session(*, session_id: Any, connector: Connector, actor: Actor) -> ConnectSession:
    """Close the session with its connector, in the caller's transaction. The first completion wins."""
    session = ConnectSession.objects.select_for_update().get(pk=session_id)
    if session.completed_at is not None:
        raise SessionUnavailable("session_used", "This connect link was already used. Ask the app for a new one.")
    if connector.end_user_id != session.end_user_id:
        connector.end_user_id = session.end_user_id
        connector.save(update_fields=["end_user_id"])
    session.completed_at = timezone.now()
    session.result_connector = connector
    session.save(update_fields=["completed_at", "result_connector"])
    audit(
        workspace=session.workspace,
        actor=actor,
        action="connect_session.complete",
        target=connector,
        metadata={
            "connect_session_id": str(session.pk),
            "end_user_id": session.end_user_id,
            "connector_type": connector.definition.slug,
            "reconnect": session.connector_id is not None,
        },
    )
    return session


@transaction.atomic
def connect_with_credentials(
    *,
    token: str,
    connector_type: str,
    auth_scheme: str | None,
    credentials: dict[str, Any],
    replication_config: dict[str, Any] | None,
    ip: str | None,
) -> tuple[ConnectSession, Connector]:
    """The end user's form: a new connector for the session's end user (or new credentials for the one it names)."""
    session = session_from_token(token, lock=True)
    definition = session_definition(session, connector_type)
    actor = _end_user_actor(session, ip)
    if session.connector is not None:
        connector = connector_update(
            connector=session.connector,
            actor=actor,
            credentials=credentials,
            replication_config=replication_config,
        )
    else:
        connector = connector_create(
            workspace=session.workspace,
            definition=definition,
            name=_default_name(session, definition),
            credentials=credentials,
            replication_config=replication_config,
            auth_scheme=auth_scheme,
            end_user_id=session.end_user_id,
            actor=actor,
        )
    complete_session(session_id=session.pk, connector=connector, actor=actor)
    session.refresh_from_db()
    return session, connector


def connect_with_oauth(
    *, token: str, connector_type: str, replication_config: dict[str, Any] | None, finish_url: str, ip: str | None
) -> str:
    """Start the provider's consent for the end user: returns the URL to send the browser to."""
    session = session_from_token(token)
    definition = session_definition(session, connector_type)
    manifest = manifest_for(definition)
    scheme = manifest.oauth_scheme(session.connector.auth_scheme if session.connector else None)
    return oauth_initiate(
        workspace=session.workspace,
        definition=definition,
        redirect_url=finish_url,
        name=_default_name(session, definition),
        replication_config=replication_config,
        actor=_end_user_actor(session, ip),
        connector=session.connector,
        auth_scheme=scheme.key if scheme else None,
        connect_session=session,
    )
