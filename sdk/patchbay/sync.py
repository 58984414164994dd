"""A synchronous facade for scripts and notebooks: the same API without `await`.

    from patchbay.sync import Workspace, connect

    with Workspace() as ws:
        print(ws.list_connectors())
    with connect("stripe") as stripe:
        customers = stripe.customers.list(limit=10)

Calls run on one private event loop in a background thread, so this also works inside Jupyter (which already
runs a loop in the main thread).
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from collections.abc import AsyncIterator, Awaitable, Coroutine, Iterator
from types import TracebackType
from typing import Any, TypeVar
from uuid import UUID

from . import executor as _executor
from . import workspace as _workspace
from .models import CheckResult, ConnectorDetail, ConnectorInfo, ConnectSession, Definition, ExecutionResult
from .typed import Entity

T = TypeVar("T")

_loop: asyncio.AbstractEventLoop | None = None
_loop_lock = threading.Lock()


def _background_loop() -> asyncio.AbstractEventLoop:
    global _loop
    with _loop_lock:
        if _loop is None or _loop.is_closed():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="patchbay-sync", daemon=True).start()
            _loop = loop
        return _loop


def run(awaitable: Awaitable[T]) -> T:
    """Run a coroutine on the facade's loop and wait for its result."""

    async def wrapper() -> T:
        return await awaitable

    return asyncio.run_coroutine_threadsafe(wrapper(), _background_loop()).result()


def iterate(agen: AsyncIterator[T]) -> Iterator[T]:
    """An async iterator as a plain iterator (each step runs on the facade's loop)."""

    async def step() -> tuple[bool, T | None]:
        try:
            return True, await agen.__anext__()
        except StopAsyncIteration:
            return False, None

    try:
        while True:
            more, item = run(step())
            if not more:
                return
            yield item  # type: ignore[misc]
    finally:
        aclose = getattr(agen, "aclose", None)
        if aclose is not None:
            run(aclose())


def _wrap(value: Any) -> Any:
    if isinstance(value, Entity):
        return SyncProxy(value)
    if inspect.isasyncgenfunction(value):
        return lambda *a, **k: iterate(value(*a, **k))
    if inspect.iscoroutinefunction(value):
        return lambda *a, **k: run(value(*a, **k))
    if callable(value) and not isinstance(value, type):

        def call(*a: Any, **k: Any) -> Any:
            out = value(*a, **k)
            if isinstance(out, Coroutine):
                return run(out)
            if isinstance(out, AsyncIterator):
                return iterate(out)
            return _wrap(out) if isinstance(out, Entity) else out

        return call
    return value


class SyncProxy:
    """Wraps an async object: coroutine methods become blocking calls, async iterators plain iterators."""

    def __init__(self, target: Any) -> None:
        object.__setattr__(self, "_target", target)

    def __getattr__(self, name: str) -> Any:
        return _wrap(getattr(self._target, name))

    def __repr__(self) -> str:
        return f"<sync {self._target!r}>"

    def __dir__(self) -> list[str]:
        return sorted(set(dir(type(self))) | set(dir(self._target)))


class SyncConnector(SyncProxy):
    """A HostedExecutor (or typed connector) used synchronously. Typed entities work: `stripe.customers.list()`."""

    _target: _executor.HostedExecutor

    @property
    def connector_id(self) -> str | None:
        return self._target.connector_id

    @property
    def slug(self) -> str | None:
        return self._target.slug

    def resolve(self) -> str:
        return run(self._target.resolve())

    def execute(self, entity: str, action: str, params: dict[str, Any] | None = None) -> Any:
        return run(self._target.execute(entity, action, params))

    def execute_raw(self, entity: str, action: str, params: dict[str, Any] | None = None) -> ExecutionResult:
        return run(self._target.execute_raw(entity, action, params))

    def submit(self, entity: str, action: str, params: dict[str, Any] | None = None) -> str:
        return run(self._target.submit(entity, action, params))

    def wait(self, execution_id: str, *, timeout: float = _executor.DEFAULT_WAIT_TIMEOUT) -> ExecutionResult:
        return run(self._target.wait(execution_id, timeout=timeout))

    def pages(
        self, entity: str, action: str, params: dict[str, Any] | None = None, *, max_pages: int | None = None
    ) -> Iterator[ExecutionResult]:
        return iterate(self._target.pages(entity, action, params, max_pages=max_pages))

    def paginate(
        self, entity: str, action: str, params: dict[str, Any] | None = None, *, max_pages: int | None = None
    ) -> Iterator[Any]:
        """Records of every page, like HostedExecutor.paginate()."""
        return iterate(self._target.paginate(entity, action, params, max_pages=max_pages))

    def describe(self) -> ConnectorDetail:
        return run(self._target.describe())

    def check(self) -> CheckResult:
        return run(self._target.check())

    def close(self) -> None:
        run(self._target.close())

    def __enter__(self) -> SyncConnector:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def connect(
    slug: str,
    connector_id: str | None = None,
    *,
    api_key: str | None = None,
    base_url: str | None = None,
    timeout: float | None = None,
    max_retries: int | None = None,
    end_user_id: str | None = None,
) -> SyncConnector:
    """Like patchbay.connect(), for synchronous code."""
    return SyncConnector(
        _executor.connect(
            slug,
            connector_id,
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            end_user_id=end_user_id,
        )
    )


class Workspace:
    """Like patchbay.Workspace, for synchronous code: `with Workspace() as ws: ws.list_connectors()`."""

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        timeout: float | None = None,
        max_retries: int | None = None,
    ) -> None:
        self._ws = _workspace.Workspace(api_key, base_url, timeout=timeout, max_retries=max_retries)

    def __enter__(self) -> Workspace:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        run(self._ws.close())

    def create_connector(
        self,
        *,
        definition_id: str | UUID | None = None,
        connector_type: str | None = None,
        name: str,
        credentials: dict[str, Any],
        replication_config: dict[str, Any] | None = None,
        auth_scheme: str | None = None,
        check: bool = False,
        end_user_id: str | None = None,
    ) -> str:
        return run(
            self._ws.create_connector(
                definition_id=definition_id,
                connector_type=connector_type,
                name=name,
                credentials=credentials,
                replication_config=replication_config,
                auth_scheme=auth_scheme,
                check=check,
                end_user_id=end_user_id,
            )
        )

    def list_connectors(
        self,
        *,
        connector_type: str | None = None,
        definition_id: str | UUID | None = None,
        end_user_id: str | None = None,
        page_size: int = 200,
    ) -> list[ConnectorInfo]:
        return run(
            self._ws.list_connectors(
                connector_type=connector_type,
                definition_id=definition_id,
                end_user_id=end_user_id,
                page_size=page_size,
            )
        )

    def create_connect_session(self, end_user_id: str, **options: Any) -> ConnectSession:
        """Like Workspace.create_connect_session(), for synchronous code."""
        return run(self._ws.create_connect_session(end_user_id, **options))

    def describe_connector(self, connector_id: str | UUID) -> ConnectorDetail:
        return run(self._ws.describe_connector(connector_id))

    def get_connector(self, connector_id: str | UUID) -> SyncConnector:
        return SyncConnector(run(self._ws.get_connector(connector_id)))

    def update_connector(
        self,
        connector_id: str | UUID,
        *,
        name: str | None = None,
        credentials: dict[str, Any] | None = None,
        replication_config: dict[str, Any] | None = None,
    ) -> ConnectorDetail:
        return run(
            self._ws.update_connector(
                connector_id, name=name, credentials=credentials, replication_config=replication_config
            )
        )

    def delete_connector(self, connector_id: str | UUID) -> None:
        run(self._ws.delete_connector(connector_id))

    def check_connector(self, connector_id: str | UUID) -> CheckResult:
        return run(self._ws.check_connector(connector_id))

    def get_execution(self, execution_id: str) -> ExecutionResult:
        return run(self._ws.get_execution(execution_id))

    def initiate_oauth(
        self,
        *,
        redirect_url: str,
        name: str | None = None,
        connector_type: str | None = None,
        definition_id: str | UUID | None = None,
        replication_config: dict[str, Any] | None = None,
        auth_scheme: str | None = None,
        connector_id: str | UUID | None = None,
    ) -> str:
        return run(
            self._ws.initiate_oauth(
                redirect_url=redirect_url,
                name=name,
                connector_type=connector_type,
                definition_id=definition_id,
                replication_config=replication_config,
                auth_scheme=auth_scheme,
                connector_id=connector_id,
            )
        )

    def list_definitions(self, name: str | None = None) -> list[Definition]:
        return run(self._ws.list_definitions(name))

    def get_definition(self, definition_id: str | UUID) -> dict[str, Any]:
        return run(self._ws.get_definition(definition_id))


__all__ = ["SyncConnector", "SyncProxy", "Workspace", "connect", "iterate", "run"]
