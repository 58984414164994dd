"""Executions: validate, record, run on a worker (or in-process), and shape the answer.

The request creates an Execution and hands its id to Celery; the worker loads everything it needs from the
database, so no credential or parameter ever travels in a Celery message.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import socket
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections, transaction
from django.db.models import F, Q
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import RedisError

from workspaces.errors import FieldError, InvalidInput, ServiceUnavailable
from workspaces.services import Actor

from . import crypto, metrics
from .catalog import manifest_for
from .catalog.manifest import AuthScheme, Manifest, UnknownOperation
from .catalog.params import validate_params
from .engine import Limits, UpstreamError, execute_operation
from .engine.errors import ERROR_CODES
from .hosts import allow_http_hosts
from .models import Connector, ConnectorStatus, Execution, ExecutionStatus
from .oauth import client as oauth_client
from .oauth.apps import oauth_client_for
from .oauth.errors import TokenUnavailable
from .oauth.tokens import credentials_with_fresh_token, merge_token, request_refresh
from .selectors import auth_scheme_of, connector_credentials
from .tasks import run_execution_task
from .validation import secret_fields

logger = logging.getLogger("patchbay.execution")
LAST_USED_GRANULARITY = timedelta(seconds=60)


def _http_statuses() -> dict[str, int]:
    """Error code -> HTTP status Patchbay answers with: the engine's table, plus what only this layer knows."""
    return {
        **{code: status for code, (_permanent, status) in ERROR_CODES.items()},
        # The third party refused our stored credentials: a failed dependency, not the caller's own 401/403/502.
        "credentials_rejected": 424,
        "needs_reauth": 424,
        "token_refresh_failed": 503,
        "internal_error": 500,
        # Patchbay's own machinery, not the vendor: the queue or a worker went away.
        "deadline_exceeded": 503,
        "worker_lost": 503,
    }


HTTP_STATUS_FOR_ERROR = _http_statuses()


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
) -> Execution:
    """Validate, record and run (in-process) or queue (Celery) one operation.

    Queued: the row is committed first and the task sent after commit. When the broker cannot take it, the row stays
    pending for the sweeper and ServiceUnavailable (503) tells the caller which execution will still run."""
    manifest = manifest_for(connector.definition)
    params = validate_execution_request(manifest, entity, action, params)
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
    )
    if in_process:
        _run(execution, params)  # written once, with its outcome (see _finish)
        return execution
    execution.save(force_insert=True)
    execution._began = began  # type: ignore[attr-defined]  # execution_wait counts the caller's time from here
    _dispatch(execution)
    if getattr(execution, "_dispatch_failed", False):
        raise ServiceUnavailable(
            "The task queue is unavailable. Patchbay kept this execution and starts it when the queue is back "
            f'(until {execution.deadline_at:%H:%M:%S} UTC, then it fails with error_code "deadline_exceeded"): '
            "poll it rather than sending the request again.",
            retry_after=settings.PATCHBAY_OUTAGE_RETRY_AFTER_SECONDS,
            extra={"execution_id": str(execution.pk), "status": execution.status},
        )
    return execution


def _dispatch(execution: Execution) -> None:
    def send() -> None:
        # Kept so a synchronous caller can wait on the result backend (Redis pub/sub) instead of polling the DB.
        execution._async_result = send_to_queue(execution.pk)  # type: ignore[attr-defined]
        if execution._async_result is None:  # type: ignore[attr-defined]
            execution._dispatch_failed = True  # type: ignore[attr-defined]
            Execution.objects.filter(pk=execution.pk, status=ExecutionStatus.PENDING).update(dispatched_at=None)

    transaction.on_commit(send)


# One quick retry, then give up: the sweeper re-sends, and the caller is told at once rather than after minutes.
DISPATCH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0.1, "interval_step": 0.2, "interval_max": 0.5}
# RuntimeError: what Celery's Redis result backend raises when it cannot subscribe to the result (Redis is down);
# it comes before the message is published, so nothing was sent. The next call reconnects.
BROKER_ERRORS: tuple[type[BaseException], ...] = (KombuOperationalError, RedisError, OSError, RuntimeError)


def send_to_queue(execution_id: Any) -> Any:
    """Queue one execution by id. Returns the AsyncResult, or None when the broker could not take it."""
    try:
        return run_execution_task.apply_async(args=[str(execution_id)], retry=True, retry_policy=DISPATCH_RETRY_POLICY)
    except BROKER_ERRORS as exc:
        logger.warning("could not queue execution %s: %s", execution_id, type(exc).__name__)
        return None


def execution_wait(execution: Execution, timeout: float | None = None) -> Execution:
    """Wait for a worker to finish the execution (up to PATCHBAY_EXECUTE_TIMEOUT); returns it refreshed.

    Never longer than the timeout, and never an error: with the database gone the caller still gets the id."""
    if execution.status in (ExecutionStatus.SUCCESS, ExecutionStatus.ERROR):
        return execution  # ran in-process: the object is already up to date
    began = getattr(execution, "_began", time.monotonic())
    deadline = began + (settings.PATCHBAY_EXECUTE_TIMEOUT if timeout is None else timeout)
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
        try:
            execution.refresh_from_db()
        except DB_OUTAGE_ERRORS:
            logger.warning("database unavailable while waiting for execution %s", execution.pk)
            return execution
        if execution.status in (ExecutionStatus.SUCCESS, ExecutionStatus.ERROR):
            return execution
        if time.monotonic() >= deadline:
            return execution
        # Workers finish most calls in milliseconds: poll fast at first, then back off.
        time.sleep(delay)
        delay = min(delay * 1.5, 0.05)


def credentials_for_run(connector: Connector) -> dict[str, Any]:
    """Decrypted credentials, with a valid OAuth access token minted first when the scheme needs one."""
    if auth_scheme_of(connector).is_oauth:
        return credentials_with_fresh_token(connector)
    return connector_credentials(connector)


# --- The worker's side -----------------------------------------------------------------------------------------

# A read whose worker died this many times is not tried again: it is probably what kills the worker.
MAX_RUNS = 3


def runner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


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
    return Execution.objects.select_related("connector", "connector__definition").get(pk=execution_id)


def _claim_pending(execution_id: str, now: datetime) -> bool:
    return bool(
        Execution.objects.filter(pk=execution_id, status=ExecutionStatus.PENDING)
        .filter(Q(deadline_at__isnull=True) | Q(deadline_at__gt=now))
        .update(status=ExecutionStatus.RUNNING, started_at=now, runner=runner_id(), run_count=F("run_count") + 1)
    )


def _runner_gone(execution: Execution, now: datetime) -> bool:
    """The worker that claimed this run is certainly gone: past the lease (the hard time limit has ended any run
    by then), or a process on this host that no longer exists."""
    lease = timedelta(seconds=settings.PATCHBAY_EXECUTION_LEASE_SECONDS)
    if execution.started_at is None or execution.started_at <= now - lease:
        return True
    host, _, pid = execution.runner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


def _is_read(execution: Execution) -> bool:
    try:
        return manifest_for(execution.connector.definition).action(execution.entity, execution.action).is_read_only
    except UnknownOperation:
        return False  # the catalog changed under it: treat it as a write, never run twice


def recover_execution(execution: Execution, *, now: datetime) -> str:
    """Decide the fate of an unfinished execution: "rerun" (a read back to pending), "failed", "pending" or
    "running" (left alone), "finished". Every transition is conditional on the state it was read in."""
    if execution.status == ExecutionStatus.PENDING:
        if _overdue(execution, now):
            _fail(execution, "deadline_exceeded", DEADLINE_MESSAGE, expect=ExecutionStatus.PENDING)
            return "failed"
        return "pending"
    if execution.status != ExecutionStatus.RUNNING:
        return "finished"
    if not _runner_gone(execution, now):
        return "running"
    if _is_read(execution) and execution.run_count < MAX_RUNS and not _overdue(execution, now):
        reset = Execution.objects.filter(
            pk=execution.pk, status=ExecutionStatus.RUNNING, started_at=execution.started_at
        ).update(status=ExecutionStatus.PENDING, started_at=None, runner="", dispatched_at=None)
        logger.warning("execution %s lost its worker; it only reads, so it runs again", execution.pk)
        return "rerun" if reset else "finished"
    message = (
        WORKER_LOST_READ_MESSAGE.format(runs=execution.run_count)
        if _is_read(execution)
        else WORKER_LOST_WRITE_MESSAGE.format(name=execution.connector.definition.name)
    )
    _fail(execution, "worker_lost", message, expect=ExecutionStatus.RUNNING)
    return "failed"


DEADLINE_MESSAGE = (
    "No worker could start this execution before its deadline (the task queue or the workers were unavailable). "
    "It did not run; send it again."
)
WORKER_LOST_WRITE_MESSAGE = (
    "The worker running this execution stopped before it finished. It writes, and the request may have reached "
    "{name}: check there before sending it again."
)
WORKER_LOST_READ_MESSAGE = "The worker running this execution stopped {runs} times; Patchbay stopped retrying it."


def _overdue(execution: Execution, now: datetime) -> bool:
    deadline = execution.deadline_at or execution.created_at + timedelta(
        seconds=settings.PATCHBAY_EXECUTION_DEADLINE_SECONDS
    )
    return deadline <= now


def _fail(execution: Execution, code: str, message: str, *, expect: str) -> bool:
    now = timezone.now()
    fields = {
        "status": ExecutionStatus.ERROR,
        "error_code": code,
        "error_message": message,
        "finished_at": now,
        "params_encrypted": "",
        "connector_metadata": {},
        # Only an outage is worth retrying as it is; a write that may have happened is not.
        "retry_after": settings.PATCHBAY_OUTAGE_RETRY_AFTER_SECONDS if code == "deadline_exceeded" else None,
    }
    done = Execution.objects.filter(pk=execution.pk, status=expect).update(**fields)
    if done:
        for name, value in fields.items():
            setattr(execution, name, value)
        metrics.record_execution(
            connector_type=execution.connector.definition.slug, outcome=code, duration_seconds=None
        )
        logger.warning("execution %s ended %s", execution.pk, code)
    return bool(done)


def sweep_executions(*, now: datetime | None = None, limit: int = 500) -> dict[str, int]:
    """Beat's safety net: nothing stays pending or running forever.

    1. pending past its deadline -> error "deadline_exceeded";
    2. running past its lease -> reads back to pending (step 3 sends them), writes -> error "worker_lost";
    3. pending whose message is missing or old (the broker lost it) -> sent again.
    Every query reads only unfinished rows, through a partial index."""
    now = now or timezone.now()
    report: Counter[str] = Counter()
    unfinished = Execution.objects.select_related("connector__definition").order_by("created_at")
    deadline_cutoff = now - timedelta(seconds=settings.PATCHBAY_EXECUTION_DEADLINE_SECONDS)
    overdue = Q(deadline_at__lte=now) | Q(deadline_at__isnull=True, created_at__lte=deadline_cutoff)
    for execution in unfinished.filter(overdue, status=ExecutionStatus.PENDING)[:limit]:
        report[recover_execution(execution, now=now)] += 1
    lease_cutoff = now - timedelta(seconds=settings.PATCHBAY_EXECUTION_LEASE_SECONDS)
    for execution in unfinished.filter(status=ExecutionStatus.RUNNING, started_at__lte=lease_cutoff)[:limit]:
        report[recover_execution(execution, now=now)] += 1
    resend_cutoff = now - timedelta(seconds=settings.PATCHBAY_REDISPATCH_AFTER_SECONDS)
    lost = unfinished.filter(status=ExecutionStatus.PENDING).exclude(overdue)
    for execution in lost.filter(Q(dispatched_at__isnull=True) | Q(dispatched_at__lte=resend_cutoff))[:limit]:
        claimed = Execution.objects.filter(
            pk=execution.pk, status=ExecutionStatus.PENDING, dispatched_at=execution.dispatched_at
        ).update(dispatched_at=now)
        if not claimed:
            continue
        if send_to_queue(execution.pk) is None:
            Execution.objects.filter(pk=execution.pk, status=ExecutionStatus.PENDING).update(dispatched_at=None)
            report["dispatch_failed"] += 1
            break  # the broker is down: the next sweep tries again
        report["redispatched"] += 1
    if report:
        logger.info("execution sweep: %s", dict(report))
    return dict(report)


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
        # The outcome exists only in this process now: ride out a database restart rather than lose it.
        _with_db_retries(lambda: Execution.objects.filter(pk=execution.pk).update(**fields))
    if connector.last_used_at is None or fields["finished_at"] - connector.last_used_at > LAST_USED_GRANULARITY:
        # At most one write a minute per connector for "last used", not one per execution.
        Connector.objects.filter(pk=connector.pk).update(last_used_at=fields["finished_at"])
        connector.last_used_at = fields["finished_at"]
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


DB_OUTAGE_ERRORS: tuple[type[BaseException], ...] = (OperationalError, InterfaceError)
DB_RETRY_DELAYS = (0.5, 1, 2, 4, 8)


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
    check = manifest_for(connector.definition).check
    if check is None:
        return CheckResult(ok=True, message="This connector type has no check operation; nothing to verify.")
    execution = execution_wait(
        execution_start(
            connector=connector, entity=check.entity, action=check.action, params=dict(check.params), actor=actor
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
