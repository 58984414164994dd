"""Proxy calls: one raw request to a connector's own API, authenticated, retried, bounded and recorded like an
operation (an Execution `proxy.<method>`, audited by who sent it). It runs in the calling process, so the vendor's
bytes never pass through the database or the task queue: the record keeps the status and size, not the body.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from core.errors import FieldError, InvalidInput, OperationInputError
from workspaces.services import Actor

from ..catalog import manifest_for
from ..engine.proxy import METHODS, READ_METHODS, ProxyRequest, ProxyResponse, check_path, proxy_call
from ..hosts import allow_http_hosts
from ..limits import check_operation
from ..models import Connector, Execution, ExecutionStatus
from .services import _error_fields, _finish, credentials_for_run, upstream_limits

PROXY_ENTITY = "proxy"


@dataclass
class ProxyOutcome:
    execution: Execution
    response: ProxyResponse | None  # None when no answer came (the execution says why)


def proxy_validate(request: ProxyRequest) -> ProxyRequest:
    """422 for a request that could not be sent safely, before anything is recorded."""
    method = (request.method or "").upper()
    if method not in METHODS:
        message = f"method must be one of {', '.join(METHODS)}."
        raise InvalidInput(message, [FieldError("method", message, "invalid_value")])
    try:
        check_path(request.path)
    except OperationInputError as exc:
        raise InvalidInput(exc.message, [FieldError(**e) for e in exc.errors]) from None
    request.method = method
    return request


def proxy_run(*, connector: Connector, request: ProxyRequest, actor: Actor, intent: str | None = None) -> ProxyOutcome:
    request = proxy_validate(request)
    check_operation(actor, connector, read=request.method in READ_METHODS, what=f"a {request.method} proxy call")
    now = timezone.now()
    execution = Execution(
        workspace_id=connector.workspace_id,
        connector=connector,
        entity=PROXY_ENTITY,
        action=request.method.lower(),
        params={"path": request.path, "query": request.query or {}, "headers": sorted(request.headers or {})},
        params_encrypted="",
        status=ExecutionStatus.RUNNING,
        actor_api_key=actor.api_key,
        actor_user=actor.user if actor.user is not None and actor.user.is_authenticated else None,
        started_at=now,
        run_count=1,
        intent=intent or None,
    )
    started = time.perf_counter()
    response: ProxyResponse | None = None
    try:
        response = proxy_call(
            manifest=manifest_for(connector.definition),
            credentials=credentials_for_run(connector),
            config=connector.replication_config,
            auth_scheme=connector.auth_scheme,
            request=request,
            limits=upstream_limits(),
            allow_http_hosts=allow_http_hosts(),
        )
    except OperationInputError as exc:
        raise InvalidInput(exc.message, [FieldError(**e) for e in exc.errors]) from None
    except Exception as exc:  # noqa: BLE001 - every failure becomes a recorded, explained error
        fields = _error_fields(connector, exc)
    else:
        fields = _answer_fields(response)
    _finish(execution, fields, started=started)
    return ProxyOutcome(execution=execution, response=response)


def _answer_fields(response: ProxyResponse) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "status": ExecutionStatus.SUCCESS if response.status_code < 400 else ExecutionStatus.ERROR,
        "result": {
            "status": response.status_code,
            "content_type": response.content_type,
            "bytes": len(response.content),
        },
        "connector_metadata": {},
        "upstream_status": response.status_code,
        "attempts": response.attempts,
    }
    if response.status_code >= 400:
        fields.update(
            error_code="upstream_status",
            error_message=f"The service answered {response.status_code}; the answer was passed to the caller.",
        )
    return fields
