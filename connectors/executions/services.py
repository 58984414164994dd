"""Executions: validate, record, run on a worker (or in-process), and record the outcome.

The request creates an Execution and hands its id to Celery; the worker loads everything it needs from the
database, so no credential or parameter ever travels in a Celery message. HTTP shaping lives in connectors/api.py.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections, transaction
from django.db.models import F, Q
from django.utils import timezone

from core.errors import FieldError, InvalidInput, ServiceUnavailable, TokenUnavailable, UpstreamError
from core.prepared import PreparedFilterUpdate, PreparedInsert, PreparedQuery, PreparedUpdate, RowGone
from webhooks.services import emit
from workspaces.services import Actor, touch_last_used

from .. import crypto, metrics
from ..catalog import manifest_for
from ..catalog.manifest import AuthScheme, Manifest, UnknownOperation
from ..catalog.params import validate_params
from ..engine import Limits, execute_operation
from ..hosts import allow_http_hosts
from ..limits import check_operation
from ..models import Connector, ConnectorStatus, Execution, ExecutionStatus
from ..oauth import client as oauth_client
from ..oauth.apps import oauth_client_for
from ..oauth.tokens import credentials_with_fresh_token, merge_token, request_refresh
from ..selectors import auth_scheme_of, connector_credentials
from ..status import connector_proven, connector_set_status
from ..validation import secret_fields
from . import completion
from .dispatch import dispatch_after_commit, runner_id
from .recovery import recover_execution

logger = logging.getLogger("patchbay.execution")


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    message: str
    execution_id: str | None = None


def upstream_limits(**overrides: Any) -> Limits:
    """The engine's limits from the PATCHBAY_UPSTREAM_* settings (`overrides` replace single ones)."""
    limits = Limits(
        timeout=settings.PATCHBAY_UPSTREAM_TIMEOUT,
        max_attempts=settings.PATCHBAY_UPSTREAM_MAX_ATTEMPTS,
        max_retry_seconds=settings.PATCHBAY_UPSTREAM_MAX_RETRY_SECONDS,
        max_body_bytes=settings.PATCHBAY_UPSTREAM_MAX_BODY_BYTES,
    )
    return dataclasses.replace(limits, **overrides)


# Every execute writes one row: its INSERT is compiled once per connection (core.prepared).
EXECUTION_INSERT = PreparedInsert(Execution)


class _SuccessOutcome:
    """A worker's write of a successful outcome (what _perform and _finish set), compiled once per connection."""

    keys = frozenset(
        {"status", "result", "connector_metadata", "upstream_status", "attempts"}  # _perform
        | {"duration_ms", "finished_at", "params_encrypted"}  # _finish
    )

    def __init__(self) -> None:
        self.update = PreparedUpdate(Execution, sorted(self.keys))

    def write(self, execution: Execution) -> None:
        try:
            self.update.save(execution)
        except RowGone:
            logger.warning("execution %s was deleted before its outcome was written", execution.pk)


SUCCESS_OUTCOME = _SuccessOutcome()

# A waiting caller's poll of its execution.
EXECUTION_ROW = PreparedQuery(lambda: Execution.objects.all(), "pk")
# What a worker loads to run a claimed execution, compiled likewise; the manifest text (most of the definition row)
# is read only on a cache miss (manifest_for).
EXECUTION_TO_RUN = PreparedQuery(
    lambda: Execution.objects.select_related("connector", "connector__definition").defer(
        "connector__definition__manifest_json"
    ),
    "pk",
)


def validate_execution_request(
    manifest: Manifest, entity: str, action: str, params: dict[str, Any] | None
) -> dict[str, Any]:
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise InvalidInput("params must be an object.", [FieldError("params", "Expected object.", "invalid_type")])
    try:
        errors = validate_params(manifest, entity, action, params)
    except UnknownOperation as exc:
        field = "entity" if exc.entity not in exc.available else "action"
        raise InvalidInput(str(exc), [FieldError(field, str(exc), "unknown_operation")]) from None
    if errors:
        field_errors = [FieldError(**e) for e in errors]
        names = ", ".join(e.field for e in field_errors)
        raise InvalidInput(f"Invalid params for {entity}.{action}: {names}.", field_errors)
    return params


def redact_params(manifest: Manifest, entity: str, action: str, params: dict[str, Any]) -> dict[str, Any]:
    # The action's own schema, not action_params_schema(): that deep-copies it, and the added cursor is not secret.
    secret = secret_fields(manifest.action(entity, action).params or {})
    return {k: ("[redacted]" if k in secret else v) for k, v in params.items()}


def execution_start(
    *,
    connector: Connector,
    entity: str,
    action: str,
    params: dict[str, Any] | None,
    actor: Actor,
    run_async: bool = False,
    intent: str | None = None,
) -> Execution:
    """Validate, record and run (in-process) or queue (Celery) one operation. `intent` is the caller's short reason,
    kept on the record.

    Queued: the row is committed first and the task sent after commit. When the broker cannot take it, the row stays
    pending for the sweeper and ServiceUnavailable (503) tells the caller which execution will still run."""
    manifest = manifest_for(connector.definition)
    params = validate_execution_request(manifest, entity, action, params)
    check_operation(actor, connector, read=manifest.action(entity, action).is_read_only, what=f"{entity}.{action}")
    in_process = settings.CELERY_TASK_ALWAYS_EAGER
    now = timezone.now()
    began = time.monotonic()
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
        # Optimistic: set now so the insert is the only write; a failed send clears it for the sweeper.
        dispatched_at=None if in_process else now,
        started_at=now if in_process else None,
        run_count=1 if in_process else 0,
        deadline_at=now + timedelta(seconds=settings.PATCHBAY_EXECUTION_DEADLINE_SECONDS),
        intent=intent or None,
    )
    if in_process:
        _run(execution, params)  # written once, with its outcome (see _finish)
        return execution
    EXECUTION_INSERT.insert(execution)
    execution._began = began  # type: ignore[attr-defined]  # execution_wait counts the caller's time from here
    dispatch_after_commit(execution)
    if getattr(execution, "_dispatched", None) is False:
        raise ServiceUnavailable(
            "The task queue is unavailable. Patchbay kept this execution and starts it when the queue is back "
            f'(until {execution.deadline_at:%H:%M:%S} UTC, then it fails with error_code "deadline_exceeded"): '
            "poll it rather than sending the request again.",
            retry_after=settings.PATCHBAY_OUTAGE_RETRY_AFTER_SECONDS,
            extra={"execution_id": str(execution.pk), "status": execution.status},
        )
    return execution


def execution_wait(execution: Execution, timeout: float | None = None) -> Execution:
    """Wait for a worker to finish the execution (up to PATCHBAY_EXECUTE_TIMEOUT); returns it refreshed.

    Woken by the worker's signal (completion.py) when Redis carries it, else by polling the record. Never longer
    than the timeout, and never an error: with the database gone the caller still gets the id."""
    if execution.status in (ExecutionStatus.SUCCESS, ExecutionStatus.ERROR):
        return execution  # ran in-process: the object is already up to date
    began = getattr(execution, "_began", time.monotonic())
    deadline = began + (settings.PATCHBAY_EXECUTE_TIMEOUT if timeout is None else timeout)
    signalled = getattr(execution, "_dispatched", False)
    delay = 0.002
    while True:
        if signalled:
            # A slice at a time: the record is read after each, so an outcome nobody signalled is still seen.
            signalled = completion.wait_finished(execution.pk, deadline - time.monotonic()) is not None
        try:
            _reload(execution)
        except DB_OUTAGE_ERRORS:
            logger.warning("database unavailable while waiting for execution %s", execution.pk)
            return execution
        if execution.status in (ExecutionStatus.SUCCESS, ExecutionStatus.ERROR):
            return execution
        if time.monotonic() >= deadline:
            return execution
        if not signalled:
            # Workers finish most calls in milliseconds: poll fast at first, then back off.
            time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
            delay = min(delay * 1.5, 0.05)


def _reload(execution: Execution) -> None:
    """`refresh_from_db()` for the wait loop, through a compiled statement (the caller polls it)."""
    fresh = EXECUTION_ROW.get(pk=execution.pk)
    for field in Execution._meta.concrete_fields:
        setattr(execution, field.attname, getattr(fresh, field.attname))


def credentials_for_run(connector: Connector) -> dict[str, Any]:
    """Decrypted credentials, with a valid OAuth access token minted first when the scheme needs one."""
    if auth_scheme_of(connector).is_oauth:
        return credentials_with_fresh_token(connector)
    return connector_credentials(connector)


DB_OUTAGE_ERRORS: tuple[type[BaseException], ...] = (OperationalError, InterfaceError)
DB_RETRY_DELAYS = (0.5, 1, 2, 4, 8)


def run_execution(execution_id: str) -> None:
    """Run a queued execution. Safe under redelivery: only the worker that claims the row runs it, and a run
    whose worker died is recovered (reads run again, writes end "worker_lost") instead of being skipped."""
    execution = _claim(execution_id)
    if execution is None:
        return
    try:
        params = crypto.decrypt_json(execution.params_encrypted, owner=f"Execution {execution.pk}")
    except crypto.DecryptionError as exc:
        _finish(execution, _error_fields(execution.connector, exc), started=time.perf_counter())
        return
    _run(execution, params)


def _claim(execution_id: str) -> Execution | None:
    now = timezone.now()
    if not _claim_pending(execution_id, now):
        execution = Execution.objects.select_related("connector__definition").filter(pk=execution_id).first()
        if execution is None or recover_execution(execution, now=now) != "rerun":
            return None  # finished, still running elsewhere, or just failed for good
        if not _claim_pending(execution_id, now):
            return None
    return EXECUTION_TO_RUN.get(pk=execution_id)


# A worker's claim of a queued execution: pending and not past its deadline -> running, here. Compiled once per
# connection (core.prepared): the ORM took longer to build it than PostgreSQL took to run it.
CLAIM_PENDING = PreparedFilterUpdate(
    Execution,
    lambda pk, now, runner: (
        Execution.objects.filter(pk=pk, status=ExecutionStatus.PENDING).filter(
            Q(deadline_at__isnull=True) | Q(deadline_at__gt=now)
        ),
        {"status": ExecutionStatus.RUNNING, "started_at": now, "runner": runner, "run_count": F("run_count") + 1},
    ),
    pk="pk",
    now="started_at",
    runner="runner",
)


def _claim_pending(execution_id: str, now: datetime) -> bool:
    return bool(CLAIM_PENDING.run(pk=execution_id, now=now, runner=runner_id()))


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
        with _atomic_if_failed(fields):
            EXECUTION_INSERT.insert(execution)
            _emit_failure(execution, fields)
    else:
        # The outcome exists only in this process now: ride out a database restart rather than lose it.
        _with_db_retries(lambda: _record_outcome(execution, fields))
        completion.signal_finished(execution.pk)  # committed: a caller waiting on it may read it now
    touch_last_used(connector, fields["finished_at"])
    metrics.record_execution(
        connector_type=connector.definition.slug,
        outcome=fields.get("error_code") or "success",
        duration_seconds=fields["duration_ms"] / 1000,
    )
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


def _record_outcome(execution: Execution, fields: dict[str, Any]) -> None:
    if fields.keys() == SUCCESS_OUTCOME.keys:
        SUCCESS_OUTCOME.write(execution)  # the common case, compiled once per connection
        return
    with _atomic_if_failed(fields):
        Execution.objects.filter(pk=execution.pk).update(**fields)
        _emit_failure(execution, fields)


def _atomic_if_failed(fields: dict[str, Any]) -> Any:
    """A failure is recorded with its webhook event in one transaction; a success is a single statement, which
    autocommit makes atomic without BEGIN and COMMIT round trips (two of the three an execute used to spend)."""
    if fields.get("status") == ExecutionStatus.ERROR:
        return transaction.atomic()
    return contextlib.nullcontext()


def _emit_failure(execution: Execution, fields: dict[str, Any]) -> None:
    """`execution.failed` for endpoints that opted in, in the transaction that records the failure."""
    if fields.get("status") != ExecutionStatus.ERROR:
        return
    data = {
        "execution_id": str(execution.pk),
        "connector_id": str(execution.connector_id),
        "entity": execution.entity,
        "action": execution.action,
        "error_code": fields.get("error_code"),
        "upstream_status": fields.get("upstream_status"),
    }
    emit(workspace_id=execution.workspace_id, event_type="execution.failed", data=data)


def _with_db_retries(write: Any) -> Any:
    for delay in DB_RETRY_DELAYS:
        try:
            return write()
        except DB_OUTAGE_ERRORS:
            logger.warning("database unavailable while recording an execution; retrying in %ss", delay)
            close_old_connections()
            time.sleep(delay)
    return write()


def _perform(connector: Connector, entity: str, action: str, params: dict[str, Any]) -> dict[str, Any]:
    outcome = execute_operation(
        manifest=manifest_for(connector.definition),
        credentials=credentials_for_run(connector),
        config=connector.replication_config,
        auth_scheme=connector.auth_scheme,
        entity=entity,
        action=action,
        params=params,
        limits=upstream_limits(),
        allow_http_hosts=allow_http_hosts(),
        validate=False,  # execution_start validated these params before recording the execution
    )
    connector_proven(connector=connector)
    return {
        "status": ExecutionStatus.SUCCESS,
        "result": outcome.result,
        "connector_metadata": {"has_next_page": outcome.has_next_page, "end_cursor": outcome.end_cursor},
        "upstream_status": outcome.status_code,
        "attempts": outcome.attempts,
    }


def _error_fields(connector: Connector, exc: Exception) -> dict[str, Any]:
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
            connector_set_status(
                connector=connector,
                status=ConnectorStatus.NEEDS_ATTENTION,
                detail=f"The service rejected the credentials ({exc.status_code}).",
                metadata={"upstream_status": exc.status_code},
            )
    elif isinstance(exc, TokenUnavailable):
        fields.update(error_code=exc.code, error_message=exc.message, attempts=0, retry_after=exc.retry_after)
    elif isinstance(exc, SoftTimeLimitExceeded):
        fields.update(
            error_code="timeout",
            error_message="The operation ran past Patchbay's time limit for one execution and was stopped.",
            attempts=0,
        )
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


def check_credentials(*, connector: Connector, actor: Actor) -> CheckResult:
    """Run the definition's check operation through the normal execution path and record the verdict."""
    check = manifest_for(connector.definition).check
    if check is None:
        return CheckResult(ok=True, message="This connector type has no check operation; nothing to verify.")
    execution = execution_wait(
        execution_start(
            connector=connector, entity=check.entity, action=check.action, params=dict(check.params), actor=actor
        )
    )
    now = timezone.now()
    Connector.objects.filter(pk=connector.pk).update(last_checked_at=now)
    if execution.status == ExecutionStatus.SUCCESS:
        connector_proven(connector=connector, actor=actor)
        return CheckResult(ok=True, message="The credentials work.", execution_id=str(execution.pk))
    if execution.status != ExecutionStatus.ERROR:
        return CheckResult(ok=False, message="The check is still running.", execution_id=str(execution.pk))
    return CheckResult(ok=False, message=execution.error_message, execution_id=str(execution.pk))


def check_credentials_unsaved(*, connector: Connector, credentials: dict[str, Any]) -> dict[str, Any]:
    """`check: true` on create: try the credentials before anything is saved; InvalidInput with the reason.

    Pasted OAuth credentials (client id/secret + refresh token) first mint an access token; the returned
    credentials carry it, and a rotated refresh token, so nothing the provider issued is lost.
    """
    manifest = manifest_for(connector.definition)
    check = manifest.check
    if check is None:
        return credentials
    scheme = manifest.scheme(connector.auth_scheme)
    if scheme.is_oauth and not credentials.get("access_token"):
        credentials = _mint_for_check(connector, scheme, credentials)
    try:
        execute_operation(
            manifest=manifest,
            credentials=credentials,
            config=connector.replication_config,
            auth_scheme=connector.auth_scheme,
            entity=check.entity,
            action=check.action,
            params=dict(check.params),
            limits=upstream_limits(max_attempts=2, max_retry_seconds=5),
            allow_http_hosts=allow_http_hosts(),
        )
    except UpstreamError as exc:
        raise InvalidInput(
            f"{connector.definition.name} did not accept these credentials: {exc.message}",
            [FieldError("credentials", exc.message, exc.code)],
        ) from None
    return credentials


def _mint_for_check(connector: Connector, scheme: AuthScheme, credentials: dict[str, Any]) -> dict[str, Any]:
    app = oauth_client_for(workspace=connector.workspace, definition=connector.definition, credentials=credentials)
    if not scheme.mints_tokens and (app is None or not credentials.get("refresh_token")):
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
