"""Writes for workspaces, memberships, API keys and the audit log."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core import signing
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from core.errors import AuthenticationFailed, FieldError, InvalidInput, NotFound
from core.prepared import PreparedInsert

from .access import get_scoped
from .models import ApiKey, ApplicationCredential, AuditEvent, Membership, Role, Workspace

API_KEY_PREFIX = "pb_"
LAST_USED_GRANULARITY = timedelta(seconds=60)


@dataclass(frozen=True)
class Actor:
    """Who is acting: a dashboard user, an API key or an application credential's token (or the system, when all
    are None)."""

    user: AbstractBaseUser | None = None
    api_key: ApiKey | None = None
    ip: str | None = None
    application: ApplicationCredential | None = None

    @classmethod
    def system(cls) -> Actor:
        return cls()


# Token refreshes and most writes record one: the INSERT is compiled once per connection (core.prepared).
AUDIT_INSERT = PreparedInsert(AuditEvent)


def audit(
    *,
    workspace: Workspace | None,
    actor: Actor,
    action: str,
    target: Any = None,
    metadata: dict[str, Any] | None = None,
) -> AuditEvent:
    event = AuditEvent(
        workspace=workspace,
        actor_user=actor.user if actor.user is not None and actor.user.is_authenticated else None,
        actor_api_key=actor.api_key,
        actor_application=actor.application,
        action=action,
        target_type=type(target).__name__ if target is not None else "",
        target_id=str(getattr(target, "pk", "") or "") if target is not None else "",
        target_repr=str(target)[:255] if target is not None else "",
        metadata=metadata or {},
        ip=actor.ip,
    )
    return AUDIT_INSERT.insert(event)


def _unique_slug(name: str) -> str:
    base = slugify(name)[:90] or "workspace"
    slug, n = base, 2
    while Workspace.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


@transaction.atomic
def workspace_create(*, name: str, owner: AbstractBaseUser | None = None, actor: Actor | None = None) -> Workspace:
    name = (name or "").strip()
    if not name:
        raise InvalidInput("A workspace needs a name.", [FieldError("name", "This field is required.", "required")])
    workspace = Workspace.objects.create(name=name, slug=_unique_slug(name))
    actor = actor or Actor(user=owner)
    audit(workspace=workspace, actor=actor, action="workspace.create", target=workspace)
    if owner is not None:
        membership_add(workspace=workspace, user=owner, role=Role.OWNER, actor=actor)
    return workspace


@transaction.atomic
def membership_add(*, workspace: Workspace, user: AbstractBaseUser, role: str, actor: Actor) -> Membership:
    if role not in Role.values:
        raise InvalidInput(
            "Unknown role.", [FieldError("role", f"Choose one of: {', '.join(Role.values)}.", "invalid_choice")]
        )
    if Membership.objects.filter(workspace=workspace, user=user).exists():
        raise InvalidInput(
            "Already a member.", [FieldError("username", f"{user} is already a member of this workspace.", "duplicate")]
        )
    membership = Membership.objects.create(workspace=workspace, user=user, role=role)
    audit(workspace=workspace, actor=actor, action="membership.create", target=membership, metadata={"role": role})
    return membership


def _owners_left(workspace: Workspace, excluding: Membership) -> int:
    return Membership.objects.filter(workspace=workspace, role=Role.OWNER).exclude(pk=excluding.pk).count()


@transaction.atomic
def membership_update(*, membership: Membership, role: str, actor: Actor) -> Membership:
    if role not in Role.values:
        raise InvalidInput(
            "Unknown role.", [FieldError("role", f"Choose one of: {', '.join(Role.values)}.", "invalid_choice")]
        )
    if membership.role == Role.OWNER and role != Role.OWNER and _owners_left(membership.workspace, membership) == 0:
        raise InvalidInput("A workspace needs an owner.", [FieldError("role", "This is the last owner.", "last_owner")])
    old = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    audit(
        workspace=membership.workspace,
        actor=actor,
        action="membership.update",
        target=membership,
        metadata={"from": old, "to": role},
    )
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership, actor: Actor) -> None:
    if membership.role == Role.OWNER and _owners_left(membership.workspace, membership) == 0:
        raise InvalidInput("A workspace needs an owner.", [FieldError("role", "This is the last owner.", "last_owner")])
    audit(
        workspace=membership.workspace,
        actor=actor,
        action="membership.delete",
        target=membership,
        metadata={"user": str(membership.user), "role": membership.role},
    )
    membership.delete()


def _hash_secret(raw_key: str) -> str:
    # Keys carry 256 bits of randomness, so a fast hash is enough; no salt or KDF needed.
    return hashlib.sha256(raw_key.encode()).hexdigest()


MAX_CONNECTOR_LIMITS = 50


def clean_connector_limits(values: Any) -> list[str]:
    """A key's connector limits as asked for (ids or type slugs; a list, or one comma-separated string):
    stripped, deduplicated, bounded."""
    if isinstance(values, str):
        values = values.split(",")
    cleaned: list[str] = []
    for value in values or ():
        item = str(value).strip()
        if item and item not in cleaned:
            cleaned.append(item)
    problem = None
    if any(len(item) > 100 or not re.fullmatch(r"[A-Za-z0-9_-]+", item) for item in cleaned):
        problem = "Each limit is a connector id or a connector type such as 'github'."
    elif len(cleaned) > MAX_CONNECTOR_LIMITS:
        problem = f"At most {MAX_CONNECTOR_LIMITS} connectors."
    if problem:
        raise InvalidInput(problem, [FieldError("connectors", problem, "invalid_value")])
    return cleaned


def key_limits(connectors: Any, read_only: bool, agent_only: bool) -> dict[str, Any]:
    """The limit fields of an API key or application credential, cleaned (connectors/limits.py enforces them)."""
    return {
        "connector_limits": clean_connector_limits(connectors),
        "read_only": bool(read_only),
        "agent_only": bool(agent_only),
    }


@transaction.atomic
def api_key_create(
    *,
    workspace: Workspace,
    name: str,
    created_by: AbstractBaseUser | None = None,
    actor: Actor | None = None,
    connectors: Any = None,
    read_only: bool = False,
    agent_only: bool = False,
) -> tuple[ApiKey, str]:
    """Returns the key and its plaintext, which is shown once and never stored. `connectors`, `read_only` and
    `agent_only` limit what the key may do (connectors/limits.py)."""
    name = (name or "").strip()
    if not name:
        raise InvalidInput("An API key needs a name.", [FieldError("name", "This field is required.", "required")])
    limits = key_limits(connectors, read_only, agent_only)
    prefix = secrets.token_hex(4)
    while ApiKey.objects.filter(prefix=prefix).exists():
        prefix = secrets.token_hex(4)
    raw = f"{API_KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey.objects.create(
        workspace=workspace,
        name=name,
        prefix=prefix,
        hashed_secret=_hash_secret(raw),
        created_by=created_by,
        **limits,
    )
    audit(
        workspace=workspace, actor=actor or Actor(user=created_by), action="api_key.create", target=key, metadata=limits
    )
    return key, raw


@transaction.atomic
def api_key_revoke(*, api_key: ApiKey, actor: Actor) -> ApiKey:
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
        audit(workspace=api_key.workspace, actor=actor, action="api_key.revoke", target=api_key)
    return api_key


def api_key_authenticate(raw: str | None) -> ApiKey:
    """Resolve a bearer key. Every failure says what is wrong, never whether a prefix exists for another reason."""
    if not raw:
        raise AuthenticationFailed(
            "Missing API key. Send it as 'Authorization: Bearer <key>' (create one with manage.py create_api_key "
            "or in the dashboard under API keys)."
        )
    parts = raw.split("_")
    if not raw.startswith(API_KEY_PREFIX) or len(parts) < 3 or len(parts[1]) != 8:
        raise AuthenticationFailed("Malformed API key: Patchbay keys look like 'pb_<8 characters>_<secret>'.")
    key = ApiKey.objects.select_related("workspace").filter(prefix=parts[1]).first()
    if key is None or not hmac.compare_digest(key.hashed_secret, _hash_secret(raw)):
        raise AuthenticationFailed("Unknown API key.")
    if key.revoked_at is not None:
        raise AuthenticationFailed("This API key was revoked. Create a new one.")
    touch_last_used(key)
    return key


def touch_last_used(obj: Any, at: datetime | None = None) -> None:
    """Record "last used" on a key, a credential or a connector: one UPDATE a minute per row at most, not one per
    request or execution."""
    at = at or timezone.now()
    if obj.last_used_at is None or at - obj.last_used_at > LAST_USED_GRANULARITY:
        type(obj).objects.filter(pk=obj.pk).update(last_used_at=at)
        obj.last_used_at = at


def api_key_get(*, workspace: Workspace, key_id: int) -> ApiKey:
    key = ApiKey.objects.filter(workspace=workspace, pk=key_id).first()
    if key is None:
        raise NotFound("API key not found.")
    return key


# --- Application credentials (client id + secret -> short-lived bearer token) ------------------------------------

APPLICATION_CLIENT_PREFIX = "pbc_"
APPLICATION_TOKEN_PREFIX = "pbt_"  # noqa: S105 - a format tag, not a secret
_TOKEN_SALT = "patchbay.application-token"  # noqa: S105 - a signing namespace, not a secret


@dataclass(frozen=True)
class ApplicationToken:
    access_token: str
    expires_in: int
    token_type: str = "Bearer"  # noqa: S105 - a token type, not a secret


@transaction.atomic
def application_credential_create(
    *,
    workspace: Workspace,
    name: str,
    created_by: AbstractBaseUser | None = None,
    actor: Actor | None = None,
    connectors: Any = None,
    read_only: bool = False,
    agent_only: bool = False,
) -> tuple[ApplicationCredential, str]:
    """Returns the credential and its client secret, which is shown once and never stored. The limits are an API
    key's (connectors/limits.py); the tokens it mints carry them."""
    name = (name or "").strip()
    if not name:
        raise InvalidInput(
            "An application credential needs a name.", [FieldError("name", "This field is required.", "required")]
        )
    if len(name) > 200:
        raise InvalidInput("The name is too long.", [FieldError("name", "At most 200 characters.", "max_length")])
    limits = key_limits(connectors, read_only, agent_only)
    client_id = f"{APPLICATION_CLIENT_PREFIX}{secrets.token_hex(12)}"
    secret = secrets.token_urlsafe(32)
    credential = ApplicationCredential.objects.create(
        workspace=workspace,
        name=name,
        client_id=client_id,
        hashed_secret=_hash_secret(secret),
        created_by=created_by,
        **limits,
    )
    audit(
        workspace=workspace,
        actor=actor or Actor(user=created_by),
        action="application.create",
        target=credential,
        metadata={"client_id": client_id, **limits},
    )
    return credential, secret


@transaction.atomic
def application_credential_revoke(*, credential: ApplicationCredential, actor: Actor) -> ApplicationCredential:
    """Revoked at once: every token issued for it stops working on its next request."""
    if credential.revoked_at is None:
        credential.revoked_at = timezone.now()
        credential.save(update_fields=["revoked_at"])
        audit(
            workspace=credential.workspace,
            actor=actor,
            action="application.revoke",
            target=credential,
            metadata={"client_id": credential.client_id},
        )
    return credential


def application_credential_get(*, workspace: Workspace, client_id: str) -> ApplicationCredential:
    return get_scoped(
        ApplicationCredential.objects.select_related("workspace"),
        workspace,
        what="Application credential",
        client_id=client_id,
    )


def application_token_issue(*, client_id: str, client_secret: str) -> ApplicationToken:
    """Exchange a client id and secret for a bearer token valid PATCHBAY_APPLICATION_TOKEN_SECONDS.

    The token is signed (django.core.signing, salted, timestamped), not stored: issuing one writes nothing, and
    clients that fetch a token per process (Airbyte's SDK does, every 14 minutes) leave no rows behind. It carries
    the credential's id, and every request re-reads that row, so revoking the credential kills its tokens at once.
    """
    credential = (
        ApplicationCredential.objects.select_related("workspace").filter(client_id=str(client_id or "")).first()
    )
    if credential is None or not hmac.compare_digest(credential.hashed_secret, _hash_secret(str(client_secret or ""))):
        raise AuthenticationFailed("Unknown client_id or wrong client_secret.")
    if credential.revoked_at is not None:
        raise AuthenticationFailed("These application credentials were revoked. Create new ones.")
    touch_last_used(credential)
    lifetime = int(settings.PATCHBAY_APPLICATION_TOKEN_SECONDS)
    signed = signing.dumps({"c": credential.pk}, salt=_TOKEN_SALT)
    return ApplicationToken(access_token=f"{APPLICATION_TOKEN_PREFIX}{signed}", expires_in=lifetime)


def application_token_authenticate(raw: str) -> ApplicationCredential:
    """The credential behind a bearer token from application_token_issue, or AuthenticationFailed."""
    try:
        payload = signing.loads(
            raw.removeprefix(APPLICATION_TOKEN_PREFIX),
            salt=_TOKEN_SALT,
            max_age=int(settings.PATCHBAY_APPLICATION_TOKEN_SECONDS),
        )
    except signing.SignatureExpired:
        raise AuthenticationFailed(
            "This access token expired. Request a new one from /api/v1/account/applications/token."
        ) from None
    except signing.BadSignature:
        raise AuthenticationFailed("Unknown access token.") from None
    credential = (
        ApplicationCredential.objects.select_related("workspace").filter(pk=payload.get("c")).first()
        if isinstance(payload, dict)
        else None
    )
    if credential is None:
        raise AuthenticationFailed("Unknown access token.")
    if credential.revoked_at is not None:
        raise AuthenticationFailed("The application credentials behind this access token were revoked.")
    touch_last_used(credential)
    return credential
