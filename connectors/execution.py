"""Executions: validate, record, run on a worker (or in-process), and shape the answer.

The request creates an Execution and hands its id to Celery; the worker loads everything it needs from the
database, so no credential or parameter ever travels in a Celery message.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from workspaces.errors import FieldError, InvalidInput
from workspaces.services import Actor

from . import crypto
from .models import Connector, ConnectorStatus, Execution, ExecutionStatus
from .selectors import auth_scheme_of, connector_credentials, effective_manifest
from .validation import secret_fields

logger = logging.getLogger("patchbay.execution")
LAST_USED_GRANULARITY = timedelta(seconds=60)


def _http_statuses() -> dict[str, int]:
    """Error code -> HTTP status Patchbay answers with: the engine's table, plus what only this layer knows."""
    from .engine.errors import ERROR_CODES

    return {
        **{code: status for code, (_permanent, status) in ERROR_CODES.items()},
        # The third party refused our stored credentials: a failed dependency, not the caller's own 401/403/502.
        "credentials_rejected": 424,
        "needs_reauth": 424,
        "token_refresh_failed": 503,
        "internal_error": 500,
    }


HTTP_STATUS_FOR_ERROR = _http_statuses()


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    message: str
    execution_id: str | None = None


def _params_module():
    from .catalog import params

    return params


def validate_execution_request(
    manifest: dict[str, Any], entity: str, action: str, params: dict[str, Any] | None
) -> dict[str, Any]:
    params_mod = _params_module()
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise InvalidInput("params must be an object.", [FieldError("params", "Expected object.", "invalid_type")])
    try:
        errors = params_mod.validate_params(manifest, entity, action, params)
    except params_mod.UnknownOperation as exc:
        field = "entity" if exc.entity not in exc.available else "action"
        raise InvalidInput(str(exc), [FieldError(field, str(exc), "unknown_operation")]) from None
    if errors:
        field_errors = [FieldError(**e) for e in errors]
        names = ", ".join(e.field for e in field_errors)
        raise InvalidInput(f"Invalid params for {entity}.{action}: {names}.", field_errors)
    return params


def redact_params(manifest: dict[str, Any], entity: str, action: str, params: dict[str, Any]) -> dict[str, Any]:
    # The action's own schema, not action_params_schema(): that deep-copies it, and the added cursor is not secret.
    secret = secret_fields(_params_module().get_action(manifest, entity, action).get("params") or {})
    return {k: ("[redacted]" if k in secret else v) for k, v in params.items()}


def execution_start(
    *,
    connector: Connector,
    entity: str,
    action: str,
    params: dict[str, Any] | None,
    actor: Actor,
    run_async: bool = False,
) -> Execution:
    manifest = effective_manifest(connector.definition)
    params = validate_execution_request(manifest, entity, action, params)
    in_process = settings.CELERY_TASK_ALWAYS_EAGER
    execution = Execution(
        workspace_id=connector.workspace_id,  # not .workspace: that would load it, one more query per execute
        connector=connector,
        entity=entity,
        action=action,
        params=redact_params(manifest, entity, action, params),
        # A worker needs the parameters from the database (messages carry ids only); in-process it has them.
        params_encrypted="" if in_process else crypto.encrypt_json(params),
        status=ExecutionStatus.RUNNING if in_process else ExecutionStatus.PENDING,
        actor_api_key=actor.api_key,
        actor_user=actor.user if actor.user is not None and actor.user.is_authenticated else None,
    )
    if in_process:
        _run(execution, params)  # written once, with its outcome (see _finish)
    else:
        execution.save(force_insert=True)
        _dispatch(execution)
    return execution


def _dispatch(execution: Execution) -> None:
    from .tasks import run_execution_task

    def send() -> None:
        # Kept so a synchronous caller can wait on the result backend (Redis pub/sub) instead of polling the DB.
        execution._async_result = run_execution_task.apply_async(args=[str(execution.pk)])  # type: ignore[attr-defined]

    transaction.on_commit(send)


def execution_wait(execution: Execution, timeout: float | None = None) -> Execution:
    """Wait for a worker to finish the execution (up to PATCHBAY_EXECUTE_TIMEOUT); returns it refreshed."""
    if execution.status in (ExecutionStatus.SUCCESS, ExecutionStatus.ERROR):
        return execution  # ran in-process: the object is already up to date
    deadline = time.monotonic() + (settings.PATCHBAY_EXECUTE_TIMEOUT if timeout is None else timeout)
    async_result = getattr(execution, "_async_result", None)
    if async_result is not None:
        try:
            async_result.get(
                timeout=max(0.0, deadline - time.monotonic()), propagate=False, disable_sync_subtasks=False
            )
        except Exception:  # noqa: BLE001 - timeouts and backend hiccups fall through to reading the record
            logger.debug("waiting on the result backend for execution %s failed; reading the record", execution.pk)
    delay = 0.002
    while True:
        execution.refresh_from_db()
        if execution.status in (ExecutionStatus.SUCCESS, ExecutionStatus.ERROR):
            return execution
        if time.monotonic() >= deadline:
            return execution
        # Workers finish most calls in milliseconds: poll fast at first, then back off.
        time.sleep(delay)
        delay = min(delay * 1.5, 0.05)


def credentials_for_run(connector: Connector) -> dict[str, Any]:
    """Decrypted credentials, with a valid OAuth access token minted first when the scheme needs one."""
    scheme = auth_scheme_of(connector)
    if scheme["type"] == "oauth2":
        from .oauth.tokens import credentials_with_fresh_token

        return credentials_with_fresh_token(connector)
    return connector_credentials(connector)


def run_execution(execution_id: str) -> None:
    """The worker's side. Idempotent: an execution that already ran is left alone (acks_late redeliveries)."""
    updated = Execution.objects.filter(pk=execution_id, status=ExecutionStatus.PENDING).update(
        status=ExecutionStatus.RUNNING
    )
    if not updated:
        return
    execution = Execution.objects.select_related("connector", "connector__definition").get(pk=execution_id)
    try:
        params = crypto.decrypt_json(execution.params_encrypted, owner=f"Execution {execution.pk}")
    except crypto.DecryptionError as exc:
        _finish(execution, _error_fields(execution.connector, exc), started=time.perf_counter())
        return
    _run(execution, params)


def _run(execution: Execution, params: dict[str, Any]) -> None:
    started = time.perf_counter()
    try:
        fields = _perform(execution.connector, execution.entity, execution.action, params)
    except Exception as exc:  # noqa: BLE001 - every failure becomes a recorded, explained error
        fields = _error_fields(execution.connector, exc)
    _finish(execution, fields, started=started)


def _finish(execution: Execution, fields: dict[str, Any], *, started: float) -> None:
    connector = execution.connector
    fields.update(
        duration_ms=max(0, round((time.perf_counter() - started) * 1000)),
        finished_at=timezone.now(),
        params_encrypted="",
    )
    for name, value in fields.items():
        setattr(execution, name, value)
    if execution._state.adding:
        # In-process runs insert the finished record: one statement instead of insert + update.
        execution.save(force_insert=True)
    else:
        Execution.objects.filter(pk=execution.pk).update(**fields)
    if connector.last_used_at is None or fields["finished_at"] - connector.last_used_at > LAST_USED_GRANULARITY:
        # At most one write a minute per connector for "last used", not one per execution.
        Connector.objects.filter(pk=connector.pk).update(last_used_at=fields["finished_at"])
        connector.last_used_at = fields["finished_at"]
    logger.info(
        "execution %s %s.%s on connector %s: %s in %sms (%s attempts)",
        execution.pk,
        execution.entity,
        execution.action,
        connector.pk,
        fields.get("error_code") or "success",
        fields["duration_ms"],
        fields.get("attempts", 0),
    )


def _perform(connector: Connector, entity: str, action: str, params: dict[str, Any]) -> dict[str, Any]:
    from .engine import execute_operation

    manifest = effective_manifest(connector.definition)
    outcome = execute_operation(
        manifest=manifest,
        credentials=credentials_for_run(connector),
        config=connector.replication_config,
        auth_scheme=connector.auth_scheme,
        entity=entity,
        action=action,
        params=params,
        timeout=settings.PATCHBAY_UPSTREAM_TIMEOUT,
        max_attempts=settings.PATCHBAY_UPSTREAM_MAX_ATTEMPTS,
        max_retry_seconds=settings.PATCHBAY_UPSTREAM_MAX_RETRY_SECONDS,
        max_body_bytes=settings.PATCHBAY_UPSTREAM_MAX_BODY_BYTES,
        validate=False,  # execution_start validated these params before recording the execution
    )
    if connector.status == ConnectorStatus.NEEDS_ATTENTION:
        Connector.objects.filter(pk=connector.pk).update(status=ConnectorStatus.HEALTHY, status_detail="")
    return {
        "status": ExecutionStatus.SUCCESS,
        "result": outcome.result,
        "connector_metadata": {"has_next_page": outcome.has_next_page, "end_cursor": outcome.end_cursor},
        "upstream_status": outcome.status_code,
        "attempts": outcome.attempts,
    }


def _error_fields(connector: Connector, exc: Exception) -> dict[str, Any]:
    from .engine import UpstreamError
    from .oauth.errors import TokenUnavailable

    fields: dict[str, Any] = {"status": ExecutionStatus.ERROR, "connector_metadata": {}}
    if isinstance(exc, UpstreamError):
        fields.update(
            error_fields=list(getattr(exc, "errors", []) or []),
            error_code=exc.code,
            error_message=exc.message,
            upstream_status=exc.status_code,
            retry_after=int(exc.retry_after) if exc.retry_after is not None else None,
            attempts=getattr(exc, "attempts", 1) or 1,
        )
        if exc.code == "credentials_rejected":
            Connector.objects.filter(pk=connector.pk).update(
                status=ConnectorStatus.NEEDS_ATTENTION,
                status_detail=f"The service rejected the credentials ({exc.status_code}).",
            )
    elif isinstance(exc, TokenUnavailable):
        fields.update(error_code=exc.code, error_message=exc.message, attempts=0, retry_after=exc.retry_after)
    elif isinstance(exc, crypto.DecryptionError):
        fields.update(error_code="internal_error", error_message=str(exc), attempts=0)
    else:
        logger.error("execution failed unexpectedly on connector %s: %s", connector.pk, type(exc).__name__)
        fields.update(
            error_code="internal_error",
            error_message="Patchbay hit an internal error running this operation; it has been logged.",
            attempts=0,
        )
    return fields


def execution_http_status(execution: Execution) -> int:
    if execution.status == ExecutionStatus.SUCCESS:
        return 200
    if execution.status != ExecutionStatus.ERROR:
        return 202
    return HTTP_STATUS_FOR_ERROR.get(execution.error_code, 502)


def execution_body(execution: Execution) -> dict[str, Any]:
    done = execution.status in (ExecutionStatus.SUCCESS, ExecutionStatus.ERROR)
    body: dict[str, Any] = {
        "status": execution.status,
        "result": execution.result if execution.status == ExecutionStatus.SUCCESS else None,
        "connector_metadata": {
            "has_next_page": bool((execution.connector_metadata or {}).get("has_next_page", False)),
            "end_cursor": (execution.connector_metadata or {}).get("end_cursor"),
        },
        "execution_metadata": {
            "execution_id": str(execution.pk),
            "execution_time_ms": execution.duration_ms,
            "attempts": execution.attempts,
        },
    }
    if execution.status == ExecutionStatus.ERROR:
        body.update(
            message=execution.error_message, errors=execution.error_fields or [], error_code=execution.error_code
        )
        if execution.upstream_status:
            body["upstream_status"] = execution.upstream_status
        if execution.retry_after is not None:
            body["retry_after"] = execution.retry_after
    elif not done:
        body.update(message=f"Still running: poll GET /api/v1/integrations/executions/{execution.pk}.")
    return body


def check_credentials(*, connector: Connector, actor: Actor) -> CheckResult:
    """Run the definition's check operation through the normal execution path and record the verdict."""
    manifest = effective_manifest(connector.definition)
    check = manifest.get("check")
    if not check:
        return CheckResult(ok=True, message="This connector type has no check operation; nothing to verify.")
    execution = execution_wait(
        execution_start(
            connector=connector,
            entity=check["entity"],
            action=check["action"],
            params=check.get("params") or {},
            actor=actor,
        )
    )
    now = timezone.now()
    if execution.status == ExecutionStatus.SUCCESS:
        Connector.objects.filter(pk=connector.pk).update(
            last_checked_at=now, status=ConnectorStatus.HEALTHY, status_detail=""
        )
        return CheckResult(ok=True, message="The credentials work.", execution_id=str(execution.pk))
    Connector.objects.filter(pk=connector.pk).update(last_checked_at=now)
    if execution.status != ExecutionStatus.ERROR:
        return CheckResult(ok=False, message="The check is still running.", execution_id=str(execution.pk))
    return CheckResult(ok=False, message=execution.error_message, execution_id=str(execution.pk))


def check_credentials_unsaved(*, connector: Connector, credentials: dict[str, Any]) -> dict[str, Any]:
    """`check: true` on create: try the credentials before anything is saved; InvalidInput with the reason.

    Pasted OAuth credentials (client id/secret + refresh token) first mint an access token; the returned
    credentials carry it, and a rotated refresh token, so nothing the provider issued is lost.
    """
    from .engine import UpstreamError, execute_operation

    manifest = effective_manifest(connector.definition)
    check = manifest.get("check")
    if not check:
        return credentials
    scheme = next(s for s in manifest["auth_schemes"] if s["key"] == connector.auth_scheme)
    if scheme["type"] == "oauth2" and not credentials.get("access_token"):
        credentials = _mint_for_check(connector, scheme, credentials)
    try:
        execute_operation(
            manifest=manifest,
            credentials=credentials,
            config=connector.replication_config,
            auth_scheme=connector.auth_scheme,
            entity=check["entity"],
            action=check["action"],
            params=check.get("params") or {},
            timeout=settings.PATCHBAY_UPSTREAM_TIMEOUT,
            max_attempts=2,
            max_retry_seconds=5,
            max_body_bytes=settings.PATCHBAY_UPSTREAM_MAX_BODY_BYTES,
        )
    except UpstreamError as exc:
        raise InvalidInput(
            f"{connector.definition.name} did not accept these credentials: {exc.message}",
            [FieldError("credentials", exc.message, exc.code)],
        ) from None
    return credentials


def _mint_for_check(connector: Connector, scheme: dict[str, Any], credentials: dict[str, Any]) -> dict[str, Any]:
    from .oauth import client as oauth_client
    from .oauth.apps import oauth_client_for
    from .oauth.tokens import merge_token, request_refresh

    app = oauth_client_for(workspace=connector.workspace, definition=connector.definition, credentials=credentials)
    if app is None or not credentials.get("refresh_token"):
        return credentials
    try:
        token = request_refresh(connector, scheme, credentials, app)
    except oauth_client.OAuthError as exc:
        raise InvalidInput(
            f"{connector.definition.name} refused the refresh token: {exc.error}.",
            [FieldError("credentials.refresh_token", f"The provider answered {exc.error}.", "credentials_rejected")],
        ) from None
    now = timezone.now()
    connector.token_expires_at = now + timedelta(seconds=token.expires_in) if token.expires_in else None
    connector.token_refreshed_at = now
    return merge_token(credentials, token)


def prune_executions(*, older_than_days: int | None = None) -> int:
    days = settings.PATCHBAY_EXECUTION_RETENTION_DAYS if older_than_days is None else older_than_days
    cutoff = timezone.now() - timedelta(days=days)
    deleted, _ = Execution.objects.filter(created_at__lt=cutoff).delete()
    return deleted
