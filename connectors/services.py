"""Writes for connectors. Views, API handlers, forms and tasks call these; they hold no business logic themselves."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from core.errors import FieldError, InvalidInput
from workspaces.models import Workspace
from workspaces.services import Actor, audit

from . import crypto
from .catalog import manifest_for
from .catalog.manifest import AuthScheme, Manifest
from .engine.auth import header_errors
from .executions.services import check_credentials_unsaved
from .hosts import host_errors, host_values, require_credentials_for_move
from .models import Connector, ConnectorDefinition, ConnectorStatus
from .selectors import auth_scheme_of, connector_credentials
from .status import connector_set_status
from .validation import canonical_credentials, validate_credentials, validate_replication_config


def _validate_name(name: str | None) -> str:
    name = (name or "").strip()
    if not name:
        raise InvalidInput("A connector needs a name.", [FieldError("name", "This field is required.", "required")])
    if len(name) > 200:
        raise InvalidInput("Name too long.", [FieldError("name", "Must be at most 200 characters.", "invalid_value")])
    return name


@transaction.atomic
def connector_create(
    *,
    workspace: Workspace,
    definition: ConnectorDefinition,
    name: str,
    credentials: dict[str, Any],
    replication_config: dict[str, Any] | None = None,
    auth_scheme: str | None = None,
    actor: Actor,
    check: bool = False,
    end_user_id: str = "",
) -> Connector:
    manifest = manifest_for(definition)
    failures: list[InvalidInput] = []
    scheme: AuthScheme | None = None
    creds: dict[str, Any] = {}
    config: dict[str, Any] = {}
    try:
        name = _validate_name(name)
    except InvalidInput as exc:
        failures.append(exc)
    try:
        scheme, creds = validate_credentials(manifest, credentials, requested_scheme=auth_scheme)
    except InvalidInput as exc:
        failures.append(exc)
    try:
        config = validate_replication_config(manifest, replication_config)
    except InvalidInput as exc:
        failures.append(exc)
    if scheme is not None and not failures:
        bound = _usability_errors(manifest, scheme, config=config, credentials=creds)
        if bound:
            failures.append(InvalidInput(bound[0].message, bound))
    if failures or scheme is None:
        # Report every field at once; the message is the most specific one (credentials/config before name).
        message = next((f.message for f in failures if not f.message.startswith("A connector needs")), None)
        raise InvalidInput(message or failures[0].message, [e for f in failures for e in f.errors])
    connector = Connector(
        workspace=workspace,
        definition=definition,
        name=name,
        auth_scheme=scheme.key,
        credentials_encrypted=crypto.encrypt_json(creds),
        replication_config=config,
        end_user_id=(end_user_id or "").strip()[:200],
    )
    if check:
        creds = check_credentials_unsaved(connector=connector, credentials=creds)
        connector.credentials_encrypted = crypto.encrypt_json(creds)
        # Proven before it exists: its first status (unknown otherwise, until a check or an execution).
        connector.status, connector.last_checked_at = ConnectorStatus.HEALTHY, timezone.now()
    connector.save()
    audit(
        workspace=workspace,
        actor=actor,
        action="connector.create",
        target=connector,
        metadata={"connector_type": definition.slug, "auth_scheme": scheme.key},
    )
    return connector


@transaction.atomic
def connector_update(
    *,
    connector: Connector,
    actor: Actor,
    name: str | None = None,
    credentials: dict[str, Any] | None = None,
    replication_config: dict[str, Any] | None = None,
) -> Connector:
    """A partial credentials object replaces only the keys it names; blank secret values keep the stored ones."""
    connector = Connector.objects.select_for_update(of=("self",)).select_related("definition").get(pk=connector.pk)
    manifest = manifest_for(connector.definition)
    stored = connector_credentials(connector)
    hosts_before = host_values(manifest, config=connector.replication_config, credentials=stored)
    changed, creds = _apply_update(
        connector, manifest, stored, name=name, credentials=credentials, replication_config=replication_config
    )
    scheme = auth_scheme_of(connector)
    hosts_after = host_values(manifest, config=connector.replication_config, credentials=creds)
    moved = require_credentials_for_move(
        manifest,
        scheme,
        before=hosts_before,
        after=hosts_after,
        given_credentials=credentials,
        stored_credentials=stored,
    )
    bound = _usability_errors(manifest, scheme, config=connector.replication_config, credentials=creds)
    if bound:
        raise InvalidInput(bound[0].message, bound)
    connector.save()
    if "credentials" in changed:
        # New credentials are unproven: whatever the old ones showed no longer applies.
        connector_set_status(connector=connector, status=ConnectorStatus.UNKNOWN, actor=actor)
    audit(
        workspace=connector.workspace,
        actor=actor,
        action="connector.update",
        target=connector,
        metadata={"changed": changed, "credential_fields": sorted(k for k, v in (credentials or {}).items() if v)},
    )
    if moved:
        audit(
            workspace=connector.workspace,
            actor=actor,
            action="connector.host_change",
            target=connector,
            metadata={
                "fields": moved,
                "from": {f: hosts_before.get(f) for f in moved},
                "to": {f: hosts_after.get(f) for f in moved},
            },
        )
    return connector


def _required_fields(scheme: AuthScheme | None) -> list[str]:
    return list((scheme.credentials_schema or {}).get("required") or []) if scheme is not None else []


def _apply_update(
    connector: Connector,
    manifest: Manifest,
    stored: dict[str, Any],
    *,
    name: str | None,
    credentials: dict[str, Any] | None,
    replication_config: dict[str, Any] | None,
) -> tuple[list[str], dict[str, Any]]:
    """Validate and apply each part that was sent; `changed` names only what really differs (a form that sends
    the name and configuration unchanged with a new token changed the credentials alone)."""
    changed: list[str] = []
    errors: list[FieldError] = []
    message = "Invalid connector."
    if name is not None:
        try:
            new_name = _validate_name(name)
            if new_name != connector.name:
                connector.name = new_name
                changed.append("name")
        except InvalidInput as exc:
            errors += exc.errors
    if replication_config is not None:
        try:
            config = validate_replication_config(manifest, replication_config)
            if config != connector.replication_config:
                connector.replication_config = config
                changed.append("replication_config")
        except InvalidInput as exc:
            errors += exc.errors
            message = exc.message
    creds = stored
    if credentials is not None:
        scheme = manifest.find_scheme(connector.auth_scheme)
        if scheme is not None:  # Airbyte's names (`token`) replace the stored field they stand for
            credentials = canonical_credentials(scheme, credentials)
        merged = {**stored, **{k: v for k, v in credentials.items() if v not in (None, "")}}
        # What the connector never held (the OAuth app's client id, when the workspace's app made it) stays optional.
        never_held = {name for name in _required_fields(scheme) if stored.get(name) in (None, "")}
        try:
            _, creds = validate_credentials(
                manifest, merged, requested_scheme=connector.auth_scheme, missing_ok=never_held
            )
            if creds != stored:
                connector.credentials_encrypted = crypto.encrypt_json(creds)
                connector.refresh_failures, connector.refresh_cooldown_until = 0, None
                changed.append("credentials")
        except InvalidInput as exc:
            errors += exc.errors
            message = exc.message
    if errors:
        raise InvalidInput(message, errors)
    return changed, creds


def _usability_errors(
    manifest: Manifest, scheme: AuthScheme, *, config: dict[str, Any], credentials: dict[str, Any]
) -> list[FieldError]:
    """What schema validation cannot see: hosts this connector may not call, values no HTTP header can carry."""
    errors = host_errors(manifest, config=config, credentials=credentials, scheme_key=scheme.key)
    errors += [FieldError(**e) for e in header_errors(scheme, credentials)]
    return errors


@transaction.atomic
def connector_delete(*, connector: Connector, actor: Actor) -> None:
    """Deletes the row, and with it the encrypted credentials: nothing of them stays in the database."""
    audit(
        workspace=connector.workspace,
        actor=actor,
        action="connector.delete",
        target=connector,
        metadata={"connector_type": connector.definition.slug, "connector_id": str(connector.pk)},
    )
    connector.delete()
