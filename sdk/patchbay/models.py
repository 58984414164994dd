"""What the API returns, as frozen dataclasses with parsed datetimes. `raw` keeps the full answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


def parse_datetime(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _required_datetime(value: Any) -> datetime:
    parsed = parse_datetime(value)
    if parsed is None:
        raise ValueError("expected a datetime")
    return parsed


@dataclass(frozen=True)
class ConnectorInfo:
    """A connector as listed. `connector_type` is the display name ("GitHub"); `slug` is what connect() takes."""

    id: str
    name: str
    connector_type: str
    slug: str
    definition_id: str
    status: str
    created_at: datetime
    updated_at: datetime
    last_used_at: datetime | None = None
    #: Your id for the end user who connected it (connect sessions), or None.
    end_user_id: str | None = None

    @classmethod
    def _fields_from_api(cls, data: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": str(data["id"]),
            "name": str(data["name"]),
            "connector_type": str(data.get("connector_type", "")),
            "slug": str(data.get("slug", "")),
            "definition_id": str(data.get("definition_id", "")),
            "status": str(data.get("status", "")),
            "created_at": _required_datetime(data["created_at"]),
            "updated_at": _required_datetime(data["updated_at"]),
            "last_used_at": parse_datetime(data.get("last_used_at")),
            "end_user_id": data.get("end_user_id") or None,
        }

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> ConnectorInfo:
        return cls(**cls._fields_from_api(data))


@dataclass(frozen=True)
class ConnectSession:
    """A one-time link for an end user. `token` and `connect_url` are shown only when it is created."""

    id: str
    token: str
    connect_url: str
    expires_at: datetime
    end_user_id: str
    allowed_connector_types: list[str]

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> ConnectSession:
        return cls(
            id=str(data["id"]),
            token=str(data["token"]),
            connect_url=str(data["connect_url"]),
            expires_at=_required_datetime(data["expires_at"]),
            end_user_id=str((data.get("end_user") or {}).get("id", "")),
            allowed_connector_types=list(data.get("allowed_connector_types") or []),
        )


@dataclass(frozen=True)
class ConnectorDetail(ConnectorInfo):
    """One connector in full. Credential values are never returned, only which fields are set."""

    auth_scheme: str = ""
    replication_config: dict[str, Any] = field(default_factory=dict)
    credential_fields: list[str] = field(default_factory=list)
    status_detail: str = ""
    token_expires_at: datetime | None = None
    token_scopes: str = ""

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> ConnectorDetail:
        return cls(
            **cls._fields_from_api(data),
            auth_scheme=str(data.get("auth_scheme", "")),
            replication_config=dict(data.get("replication_config") or {}),
            credential_fields=list(data.get("credential_fields") or []),
            status_detail=str(data.get("status_detail") or ""),
            token_expires_at=parse_datetime(data.get("token_expires_at")),
            token_scopes=str(data.get("token_scopes") or ""),
        )


@dataclass(frozen=True)
class AuthScheme:
    key: str
    title: str
    type: str


@dataclass(frozen=True)
class Definition:
    """A connector type. `id` is the API's sourceDefinitionId, which create_connector takes as definition_id."""

    id: str
    name: str
    slug: str
    icon_url: str | None
    auth_schemes: list[AuthScheme]

    @property
    def definition_id(self) -> str:
        return self.id

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Definition:
        return cls(
            id=str(data["sourceDefinitionId"]),
            name=str(data["name"]),
            slug=str(data["slug"]),
            icon_url=data.get("iconUrl"),
            auth_schemes=[
                AuthScheme(key=str(s["key"]), title=str(s["title"]), type=str(s["type"]))
                for s in data.get("authSchemes") or []
            ],
        )


@dataclass(frozen=True)
class ExecutionResult:
    """The full answer of an execution: the result plus pagination and execution metadata."""

    status: str
    result: Any
    has_next_page: bool
    end_cursor: str | None
    execution_id: str
    execution_time_ms: int | None
    attempts: int
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def done(self) -> bool:
        return self.status in ("success", "error")

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> ExecutionResult:
        connector_meta = data.get("connector_metadata") or {}
        execution_meta = data.get("execution_metadata") or {}
        execution_id = execution_meta.get("execution_id") or data.get("execution_id") or ""
        return cls(
            status=str(data.get("status", "")),
            result=data.get("result"),
            has_next_page=bool(connector_meta.get("has_next_page", False)),
            end_cursor=connector_meta.get("end_cursor"),
            execution_id=str(execution_id),
            execution_time_ms=execution_meta.get("execution_time_ms"),
            attempts=int(execution_meta.get("attempts") or 0),
            raw=data,
        )


@dataclass(frozen=True)
class CheckResult:
    """Whether the third-party service accepted the stored credentials."""

    ok: bool
    message: str
    execution_id: str | None = None


__all__ = [
    "AuthScheme",
    "CheckResult",
    "ConnectorDetail",
    "ConnectorInfo",
    "Definition",
    "ExecutionResult",
    "parse_datetime",
]
