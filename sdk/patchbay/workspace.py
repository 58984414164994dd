"""Workspace: create, list, get and delete connectors; definitions; OAuth."""

from __future__ import annotations

from types import TracebackType
from typing import Any
from uuid import UUID

import httpx

from . import errors
from ._http import HttpClient, query_of, resolve_config
from .executor import CONNECTORS, EXECUTIONS, HostedExecutor, _path_id, typed_connector_class
from .models import CheckResult, ConnectorDetail, ConnectorInfo, ConnectSession, Definition, ExecutionResult

DEFINITIONS = "/integrations/definitions/sources"
CONNECT_SESSIONS = "/integrations/connect-sessions"
MAX_PAGES = 10_000  # a guard against a server that keeps returning `next`


class Workspace:
    """The workspace the API key belongs to. `async with Workspace() as ws: ...`

    Configuration: explicit arguments, else PATCHBAY_API_KEY and PATCHBAY_URL (default http://127.0.0.1:8000).
    """

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        timeout: float | None = None,
        max_retries: int | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._config = resolve_config(api_key, base_url, timeout=timeout, max_retries=max_retries)
        self._transport = transport
        self._http = HttpClient(self._config, transport=transport)

    @property
    def base_url(self) -> str:
        return self._config.base_url

    async def __aenter__(self) -> Workspace:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        await self._http.aclose()

    # --- connectors ----------------------------------------------------------------------------------------------

    async def create_connector(
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
        """Store a connector and return its id. Give definition_id (sourceDefinitionId) or connector_type (slug).

        Non-credential settings (GitHub's `repositories`) go in replication_config. `check=True` tries the
        credentials against the service before saving. Raises ConnectorValidationError with `.errors` on a 422.
        """
        body: dict[str, Any] = {"name": name, "credentials": credentials}
        if definition_id is not None:
            body["definition_id"] = str(definition_id)
        if connector_type is not None:
            body["connector_type"] = connector_type
        if replication_config is not None:
            body["replication_config"] = replication_config
        if auth_scheme is not None:
            body["auth_scheme"] = auth_scheme
        if check:
            body["check"] = True
        if end_user_id is not None:
            body["end_user_id"] = end_user_id
        response = await self._http.call("POST", CONNECTORS, json=body)
        return str(response.json()["id"])

    async def list_connectors(
        self,
        *,
        connector_type: str | None = None,
        definition_id: str | UUID | None = None,
        end_user_id: str | None = None,
        page_size: int = 200,
    ) -> list[ConnectorInfo]:
        """Every connector of the workspace (following `next` through all pages), newest first.

        `connector_type` (a slug) or `definition_id` keep only that type, `end_user_id` only that end user's;
        `page_size` is per request (1-200).
        """
        params: dict[str, Any] = {
            "connector_type": connector_type,
            "definition_id": str(definition_id) if definition_id else None,
            "end_user_id": end_user_id,
            "limit": page_size,
        }
        out: list[ConnectorInfo] = []
        for _ in range(MAX_PAGES):
            response = await self._http.call("GET", CONNECTORS, params=params)
            body = response.json()
            out.extend(ConnectorInfo.from_api(item) for item in body.get("data", []))
            if not body.get("next"):
                return out
            params = {**params, **query_of(body["next"])}
        raise errors.PatchbayError(f"Listing connectors did not end after {MAX_PAGES} pages.")

    async def describe_connector(self, connector_id: str | UUID) -> ConnectorDetail:
        """One connector's details: auth scheme, replication config, which credential fields are set, status."""
        response = await self._http.call("GET", f"{CONNECTORS}/{_path_id(connector_id)}", what="Connector")
        return ConnectorDetail.from_api(response.json())

    async def get_connector(self, connector_id: str | UUID) -> HostedExecutor:
        """An executor for a known connector id (typed when its type has a generated connector).

        The executor has its own connection pool: close it (or use `async with`) when done.
        """
        detail = await self.describe_connector(connector_id)
        cls = typed_connector_class(detail.slug) or HostedExecutor
        return cls(slug=detail.slug, connector_id=detail.id, config=self._config, transport=self._transport)

    async def update_connector(
        self,
        connector_id: str | UUID,
        *,
        name: str | None = None,
        credentials: dict[str, Any] | None = None,
        replication_config: dict[str, Any] | None = None,
    ) -> ConnectorDetail:
        """Rename, replace some credential fields (only the keys given), or replace the replication config."""
        body = {
            k: v
            for k, v in {"name": name, "credentials": credentials, "replication_config": replication_config}.items()
            if v is not None
        }
        response = await self._http.call("PATCH", f"{CONNECTORS}/{_path_id(connector_id)}", json=body, what="Connector")
        return ConnectorDetail.from_api(response.json())

    async def delete_connector(self, connector_id: str | UUID) -> None:
        """Delete the connector and its stored credentials."""
        await self._http.call("DELETE", f"{CONNECTORS}/{_path_id(connector_id)}", what="Connector")

    async def check_connector(self, connector_id: str | UUID) -> CheckResult:
        """Ask the service whether the connector's stored credentials still work."""
        response = await self._http.call("POST", f"{CONNECTORS}/{_path_id(connector_id)}/check", what="Connector")
        body = response.json()
        return CheckResult(
            ok=bool(body.get("ok")), message=str(body.get("message", "")), execution_id=body.get("execution_id")
        )

    async def get_execution(self, execution_id: str) -> ExecutionResult:
        """An execution's state (e.g. one started with HostedExecutor.submit); raises its error if it failed."""
        response = await self._http.call("GET", f"{EXECUTIONS}/{_path_id(execution_id)}", what="Execution")
        return ExecutionResult.from_api(response.json())

    async def initiate_oauth(
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
        """Start an OAuth connection and return the consent URL to send the user's browser to.

        After consent Patchbay stores the connector and redirects to `redirect_url?connector_id=…`. Pass
        `connector_id` (instead of a type and name) to re-authorise an existing connector, keeping its id.
        """
        body: dict[str, Any] = {"redirect_url": redirect_url}
        optional = {
            "name": name,
            "connector_type": connector_type,
            "definition_id": str(definition_id) if definition_id is not None else None,
            "replication_config": replication_config,
            "auth_scheme": auth_scheme,
            "connector_id": str(connector_id) if connector_id is not None else None,
        }
        body.update({k: v for k, v in optional.items() if v is not None})
        response = await self._http.call("POST", f"{CONNECTORS}/oauth/initiate", json=body)
        return str(response.json()["consent_url"])

    async def create_connect_session(
        self,
        end_user_id: str,
        *,
        email: str | None = None,
        display_name: str | None = None,
        allowed_connector_types: list[str] | None = None,
        redirect_url: str | None = None,
        expires_in: int | None = None,
        connector_id: str | UUID | None = None,
    ) -> ConnectSession:
        """A one-time link for your end user to connect their own account (docs/connect.md).

        Open `.connect_url` for them (a page, a popup or an iframe). On success the connector carries
        `end_user_id`, so `connect(type, end_user_id=...)` finds it. `connector_id` re-connects that connector.
        """
        end_user = {"id": end_user_id, "email": email, "display_name": display_name}
        body: dict[str, Any] = {"end_user": {k: v for k, v in end_user.items() if v is not None}}
        optional = {
            "allowed_connector_types": allowed_connector_types,
            "redirect_url": redirect_url,
            "expires_in": expires_in,
            "connector_id": str(connector_id) if connector_id is not None else None,
        }
        body.update({k: v for k, v in optional.items() if v is not None})
        response = await self._http.call("POST", CONNECT_SESSIONS, json=body)
        return ConnectSession.from_api(response.json())

    # --- definitions (public) ------------------------------------------------------------------------------------

    async def list_definitions(self, name: str | None = None) -> list[Definition]:
        """Connector types; `name` matches the display name or the slug, case-insensitively."""
        response = await self._http.call("GET", DEFINITIONS, params={"name": name}, auth=False)
        return [Definition.from_api(d) for d in response.json().get("definitions", [])]

    async def get_definition(self, definition_id: str | UUID) -> dict[str, Any]:
        """A connector type's full description: credential schemas, replication config schema, entities, actions."""
        response = await self._http.call(
            "GET", f"{DEFINITIONS}/{_path_id(definition_id)}", auth=False, what="Connector type"
        )
        return dict(response.json())
