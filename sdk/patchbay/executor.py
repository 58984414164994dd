"""HostedExecutor runs operations on one stored connector; connect() builds one from a slug."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Any, ClassVar, Self, TypedDict
from urllib.parse import quote

import httpx

from . import errors
from ._http import ClientConfig, HttpClient, decode_body, error_from_response, resolve_config
from .models import CheckResult, ConnectorDetail, ExecutionResult

CONNECTORS = "/integrations/connectors"
EXECUTIONS = "/integrations/executions"
DEFAULT_WAIT_TIMEOUT = 300.0


class ConnectOptions(TypedDict, total=False):
    """The keyword options of connect() (for type checkers: `**options: Unpack[ConnectOptions]`)."""

    api_key: str | None
    base_url: str | None
    timeout: float | None
    max_retries: int | None
    end_user_id: str | None


def _path_id(value: Any) -> str:
    return quote(str(value), safe="")


async def definition_slugs(http: HttpClient, slug: str) -> list[str]:
    """Slugs of the definitions matching `slug` by name or slug (the public definitions endpoint)."""
    response = await http.call("GET", "/integrations/definitions/sources", params={"name": slug}, auth=False)
    return [str(d.get("slug")) for d in response.json().get("definitions", [])]


class HostedExecutor:
    """Executes operations on one Patchbay connector.

    Give a `slug` (resolved to the workspace's one connector of that type on first use) or a `connector_id`, or
    both. Use it as `async with` or call `await executor.close()` when done.
    """

    slug: str | None
    #: Set on generated typed connectors: the slug and definition they were generated for.
    connector_slug: ClassVar[str | None] = None
    definition_id: ClassVar[str | None] = None

    def __init__(
        self,
        slug: str | None = None,
        connector_id: str | None = None,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        config: ClientConfig | None = None,
        end_user_id: str | None = None,
    ) -> None:
        cls_slug = type(self).connector_slug
        if slug is not None and cls_slug is not None and slug.lower() != cls_slug:
            raise ValueError(f"{type(self).__name__} is the {cls_slug!r} connector, not {slug!r}.")
        slug = slug or cls_slug
        if not slug and not connector_id:
            raise ValueError("Pass a connector slug (e.g. 'stripe') or a connector_id.")
        self.slug = slug
        self._connector_id = str(connector_id) if connector_id else None
        #: With a slug: resolve that end user's one connector of the type (connect sessions tag them).
        self.end_user_id = end_user_id
        self._config = config or resolve_config(api_key, base_url, timeout=timeout, max_retries=max_retries)
        self._http = HttpClient(self._config, transport=transport)
        self._resolve_lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} slug={self.slug!r} connector_id={self._connector_id!r}>"

    # --- lifecycle ---------------------------------------------------------------------------------------------

    async def close(self) -> None:
        """Close the HTTP connection pool. The executor reopens it if used again."""
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    # --- which connector -----------------------------------------------------------------------------------------

    @property
    def connector_id(self) -> str | None:
        """The connector's id; None until a slug-only executor has resolved it (see resolve())."""
        return self._connector_id

    async def resolve(self) -> str:
        """The connector id, asking the API for the workspace's one connector of this slug if needed."""
        if self._connector_id:
            return self._connector_id
        async with self._resolve_lock:
            if self._connector_id:
                return self._connector_id
            self._connector_id = await self._resolve_slug(str(self.slug))
            return self._connector_id

    async def _resolve_slug(self, slug: str) -> str:
        params = {"connector_type": slug, **({"end_user_id": self.end_user_id} if self.end_user_id else {})}
        response = await self._http.request("GET", f"{CONNECTORS}/resolve", params=params)
        if response.status_code == 200:
            return str(response.json()["id"])
        body = decode_body(response)
        if response.status_code == 409:
            candidates = [
                errors.Candidate(id=str(c.get("id")), name=str(c.get("name")))
                for c in body.get("candidates") or []
                if isinstance(c, dict)
            ]
            listing = ", ".join(f"{c.id} ({c.name!r})" for c in candidates)
            raise errors.ConnectorAmbiguityError(
                f"This workspace has {len(candidates)} {slug} connectors; pass connector_id= to connect() to choose "
                f"one: {listing}.",
                candidates=candidates,
                status=409,
                body=body,
            )
        if response.status_code == 404:
            codes = {e.get("error_code") for e in body.get("errors") or [] if isinstance(e, dict)}
            unknown = "unknown_connector_type" in codes
            if not unknown and slug.lower() not in {s.lower() for s in await definition_slugs(self._http, slug)}:
                unknown = True
            if unknown:
                raise errors.UnknownConnectorError(
                    f"No connector type is called {slug!r}. List the types with `patchbay definitions list` "
                    "(or Workspace.list_definitions()) and use one of their slugs.",
                    status=404,
                    error_code="unknown_connector_type",
                    body=body,
                )
            raise errors.ConnectorNotFoundError(
                f"This workspace has no {slug} connector. Create one with "
                f"Workspace.create_connector(connector_type={slug!r}, ...) or pass connector_id= to connect().",
                status=404,
                body=body,
            )
        raise error_from_response(response)

    # --- execution -----------------------------------------------------------------------------------------------

    def _raise_for_execution(self, response: httpx.Response, connector_id: str) -> None:
        if response.status_code < 400:
            return
        body = decode_body(response)
        if response.status_code == 404 and not body.get("error_code"):
            raise errors.ConnectorNotFoundError(
                f"Connector {connector_id} does not exist in this workspace (or this API key cannot see it). "
                "List the connectors with `patchbay connectors list` or Workspace.list_connectors().",
                status=404,
                body=body,
            )
        raise error_from_response(response)

    async def submit(self, entity: str, action: str, params: dict[str, Any] | None = None) -> str:
        """Start an execution in the background and return its id at once; collect it with wait()."""
        connector_id = await self.resolve()
        response = await self._http.request(
            "POST",
            f"{CONNECTORS}/{_path_id(connector_id)}/execute",
            json={"entity": entity, "action": action, "params": params or {}, "async": True},
        )
        self._raise_for_execution(response, connector_id)
        body = decode_body(response)
        return str(body.get("execution_id") or (body.get("execution_metadata") or {}).get("execution_id"))

    async def get_execution(self, execution_id: str) -> ExecutionResult:
        """The execution's current state (status pending/running/success); raises its error if it failed."""
        response = await self._http.request("GET", f"{EXECUTIONS}/{_path_id(execution_id)}")
        if response.status_code >= 400:
            raise error_from_response(response, what=f"Execution {execution_id}")
        return ExecutionResult.from_api(decode_body(response))

    async def wait(
        self, execution_id: str, *, timeout: float = DEFAULT_WAIT_TIMEOUT, poll_interval: float = 0.2
    ) -> ExecutionResult:
        """Poll an execution until it finishes (up to `timeout` seconds); returns it or raises its error."""
        deadline = time.monotonic() + timeout
        delay = poll_interval
        while True:
            result = await self.get_execution(execution_id)
            if result.done:
                return result
            if time.monotonic() + delay > deadline:
                raise errors.PatchbayError(
                    f"Execution {execution_id} is still {result.status} after {timeout:g}s. "
                    "Call wait() again later, or raise timeout=.",
                    execution_id=execution_id,
                )
            await asyncio.sleep(delay)
            delay = min(delay * 1.5, 2.0)

    async def execute_raw(
        self,
        entity: str,
        action: str,
        params: dict[str, Any] | None = None,
        *,
        wait_timeout: float | None = None,
        select_fields: list[str] | None = None,
        exclude_fields: list[str] | None = None,
        skip_truncation: bool | None = None,
        intent: str | None = None,
    ) -> ExecutionResult:
        """Run `entity.action` with `params`; returns the result with pagination and execution metadata.

        `select_fields` / `exclude_fields` (dot paths) shape each record; `skip_truncation=False` cuts long strings
        (what agents want); `intent` is a short reason kept with the execution. If the server answers 202 (the
        operation outlived its synchronous window) this polls until it finishes.
        """
        connector_id = await self.resolve()
        body: dict[str, Any] = {"entity": entity, "action": action, "params": params or {}}
        options = {
            "select_fields": select_fields,
            "exclude_fields": exclude_fields,
            "skip_truncation": skip_truncation,
            "intent": intent,
        }
        body.update({k: v for k, v in options.items() if v is not None})
        response = await self._http.request("POST", f"{CONNECTORS}/{_path_id(connector_id)}/execute", json=body)
        self._raise_for_execution(response, connector_id)
        outcome = ExecutionResult.from_api(decode_body(response))
        if outcome.done:
            return outcome
        return await self.wait(outcome.execution_id, timeout=wait_timeout or DEFAULT_WAIT_TIMEOUT)

    async def execute(self, entity: str, action: str, params: dict[str, Any] | None = None) -> Any:
        """Run `entity.action` with `params` and return the result (records for list actions)."""
        return (await self.execute_raw(entity, action, params)).result

    async def pages(
        self, entity: str, action: str, params: dict[str, Any] | None = None, *, max_pages: int | None = None
    ) -> AsyncIterator[ExecutionResult]:
        """Yield one ExecutionResult per page, passing each page's end_cursor back as the `cursor` param."""
        params = dict(params or {})
        seen: set[str] = set()
        count = 0
        while True:
            page = await self.execute_raw(entity, action, params)
            yield page
            count += 1
            if not page.has_next_page or not page.end_cursor or (max_pages is not None and count >= max_pages):
                return
            if page.end_cursor in seen:
                raise errors.PatchbayError(
                    f"{entity}.{action} returned the same cursor twice ({page.end_cursor!r}); "
                    "stopping rather than loop forever.",
                    execution_id=page.execution_id,
                )
            seen.add(page.end_cursor)
            params["cursor"] = page.end_cursor

    async def paginate(
        self, entity: str, action: str, params: dict[str, Any] | None = None, *, max_pages: int | None = None
    ) -> AsyncIterator[Any]:
        """Yield the records of every page in order (a page whose result is not a list is yielded whole).

        `async for customer in stripe.paginate("customers", "list", {"limit": 100}): ...`
        Use pages() to get each page's ExecutionResult instead.
        """
        async for page in self.pages(entity, action, params, max_pages=max_pages):
            if isinstance(page.result, list):
                for record in page.result:
                    yield record
            elif page.result is not None:
                yield page.result

    # --- the connector itself ------------------------------------------------------------------------------------

    async def describe(self) -> ConnectorDetail:
        """The connector's details (never credential values)."""
        connector_id = await self.resolve()
        response = await self._http.call("GET", f"{CONNECTORS}/{_path_id(connector_id)}", what="Connector")
        return ConnectorDetail.from_api(response.json())

    async def check(self) -> CheckResult:
        """Ask the service whether the stored credentials still work."""
        connector_id = await self.resolve()
        response = await self._http.call("POST", f"{CONNECTORS}/{_path_id(connector_id)}/check", what="Connector")
        body = response.json()
        return CheckResult(
            ok=bool(body.get("ok")), message=str(body.get("message", "")), execution_id=body.get("execution_id")
        )


def typed_connector_class(slug: str) -> type[HostedExecutor] | None:
    from .connectors import TYPED_CONNECTORS

    return TYPED_CONNECTORS.get(slug.lower())


def connect(
    slug: str,
    connector_id: str | None = None,
    *,
    api_key: str | None = None,
    base_url: str | None = None,
    timeout: float | None = None,
    max_retries: int | None = None,
    end_user_id: str | None = None,
) -> HostedExecutor:
    """The typed connector for `slug` when one is generated, else a HostedExecutor.

    Nothing is sent yet: without `connector_id` the slug is resolved on first use (exactly one connector of that
    type must exist; with `end_user_id`, exactly one of that end user's), raising ConnectorNotFoundError,
    ConnectorAmbiguityError or UnknownConnectorError.
    """
    cls = typed_connector_class(slug) or HostedExecutor
    return cls(
        slug=slug,
        connector_id=connector_id,
        api_key=api_key,
        base_url=base_url,
        timeout=timeout,
        max_retries=max_retries,
        end_user_id=end_user_id,
    )
