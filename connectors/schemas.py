"""API request and response shapes (pydantic via django-ninja). They drive validation and the OpenAPI schema."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from ninja import Schema
from pydantic import ConfigDict, Field, field_validator

# Field projection: at most this many paths, each at most this long (dot-separated keys).
MAX_PROJECTION_PATHS = 100
MAX_PROJECTION_PATH_LENGTH = 300


class FieldErrorOut(Schema):
    field: str
    message: str
    error_code: str
    userPresentableMessage: str | None = Field(  # noqa: N815 - the name Airbyte's SDK reads
        None, description="'field: message', for showing to a person."
    )


class ErrorOut(Schema):
    message: str
    errors: list[FieldErrorOut] = []


class CandidateOut(Schema):
    id: str
    name: str


class ConflictOut(ErrorOut):
    candidates: list[CandidateOut] = []


class AuthSchemeSummary(Schema):
    key: str
    title: str
    type: str


class DefinitionSummary(Schema):
    sourceDefinitionId: UUID  # noqa: N815 - the hosted product's field name
    name: str
    slug: str
    iconUrl: str | None  # noqa: N815
    authSchemes: list[AuthSchemeSummary]  # noqa: N815


class DefinitionListOut(Schema):
    definitions: list[DefinitionSummary]


class ConnectorCreateIn(Schema):
    # Unknown top-level keys are checked against the raw body in the handler, for a pointed error.

    definition_id: UUID | None = Field(None, description="sourceDefinitionId of the connector type.")
    connector_type: str | None = Field(None, description="The connector type's slug, e.g. 'github'.")
    name: str
    credentials: dict[str, Any] = Field(..., description="Shape depends on the connector type's auth scheme.")
    replication_config: dict[str, Any] | None = None
    auth_scheme: str | None = Field(None, description="Auth scheme key; chosen from the credentials when omitted.")
    check: bool = Field(False, description="Verify the credentials against the service before saving.")
    workspace_name: str | None = Field(None, description="'default', or this workspace's name or slug.")
    end_user_id: str | None = Field(None, max_length=200, description="Your id for the end user who owns it.")


class ConnectorUpdateIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    credentials: dict[str, Any] | None = Field(None, description="Only the keys given are replaced.")
    replication_config: dict[str, Any] | None = None


class SummarizedSourceTemplateOut(Schema):
    name: str = Field(..., description="Display name of the connector type (the hosted product's field).")


class SourceTemplateOut(Schema):
    source_definition_id: UUID


class ConnectorInfoOut(Schema):
    id: UUID
    name: str
    connector_type: str = Field(..., description="Display name of the connector type, e.g. 'GitHub'.")
    slug: str
    definition_id: UUID
    status: str
    end_user_id: str | None = Field(None, description="The end user it belongs to (connect sessions), if any.")
    created_at: datetime
    updated_at: datetime
    last_used_at: datetime | None = None
    summarized_source_template: SummarizedSourceTemplateOut
    source_template: SourceTemplateOut


class ConnectorDetailOut(ConnectorInfoOut):
    auth_scheme: str
    replication_config: dict[str, Any]
    credential_fields: list[str] = Field(..., description="Names of the credential fields that are set (never values).")
    status_detail: str = ""
    token_expires_at: datetime | None = None
    token_scopes: str = ""


class ConnectorListOut(Schema):
    data: list[ConnectorInfoOut]
    next: str | None = Field(None, description="URL of the next page, or null.")


class ExecuteIn(Schema):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    entity: str = Field(..., min_length=1, examples=["customers"])
    action: str = Field(..., min_length=1, examples=["list"])
    params: dict[str, Any] = Field(default_factory=dict, examples=[{"limit": 10}])
    run_async: bool = Field(False, alias="async", description="Answer 202 at once; poll GET /executions/{id}.")
    select_fields: list[str] | None = Field(
        None, description="Dot paths to keep in each record of `result` (e.g. 'id', 'address.city')."
    )
    exclude_fields: list[str] | None = Field(None, description="Dot paths to remove from each record of `result`.")
    skip_truncation: bool = Field(
        True, description="false: strings longer than 200 characters in `result` are cut, with a marker."
    )
    intent: str | None = Field(None, max_length=512, description="Why this runs, in a few words; kept with it.")

    @field_validator("select_fields", "exclude_fields")
    @classmethod
    def _dot_paths(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        if len(value) > MAX_PROJECTION_PATHS:
            raise ValueError(f"At most {MAX_PROJECTION_PATHS} paths.")
        for path in value:
            if not path or len(path) > MAX_PROJECTION_PATH_LENGTH or any(not part for part in path.split(".")):
                raise ValueError(f"{path[:50]!r} is not a dot path such as 'address.city'.")
        return value


class ConnectorMetadataOut(Schema):
    model_config = ConfigDict(extra="allow")  # the vendor's own pagination keys, e.g. Stripe's has_more

    has_next_page: bool
    end_cursor: str | None = None


class ExecutionMetadataOut(Schema):
    execution_id: str
    execution_time_ms: int | None = None
    attempts: int


class ExecutionOut(Schema):
    status: str = Field(..., description="success | error | pending | running")
    result: Any = None
    connector_metadata: ConnectorMetadataOut
    execution_metadata: ExecutionMetadataOut
    message: str | None = None
    error_code: str | None = None
    errors: list[FieldErrorOut] | None = None
    upstream_status: int | None = None
    retry_after: int | None = None


class ExecutionAcceptedOut(Schema):
    execution_id: str
    status: str


class CheckOut(Schema):
    ok: bool
    message: str
    execution_id: str | None = None


class OAuthInitiateIn(Schema):
    model_config = ConfigDict(extra="forbid")

    connector_type: str | None = None
    definition_id: UUID | None = None
    redirect_url: str = Field(..., description="Where the user's browser is sent afterwards, with ?connector_id=…")
    name: str | None = None
    replication_config: dict[str, Any] | None = None
    auth_scheme: str | None = None
    connector_id: UUID | None = Field(None, description="Re-authorise this connector (keeps its id).")


class OAuthInitiateOut(Schema):
    consent_url: str


class OAuthAppIn(Schema):
    model_config = ConfigDict(extra="forbid")

    client_id: str
    client_secret: str | None = Field(None, description="Required when creating; omit to keep the stored one.")
    scopes: list[str] | str | None = None


class OAuthAppOut(Schema):
    connector_type: str
    definition_id: UUID
    client_id: str
    scopes: list[str]
    created_at: datetime
    updated_at: datetime


class RevokeOut(Schema):
    revoked_at_provider: bool
    status: str


class ProxyIn(Schema):
    model_config = ConfigDict(extra="forbid")

    method: str = Field("GET", examples=["GET"], description="GET, HEAD, POST, PUT, PATCH or DELETE.")
    path: str = Field(
        ...,
        min_length=1,
        max_length=2000,
        examples=["/v1/customers"],
        description=(
            "Relative to the connector's base URL. Absolute URLs, '//host', '..' segments and a query in the path "
            "are refused."
        ),
    )
    query: dict[str, Any] = Field(default_factory=dict, description="Query parameters.")
    headers: dict[str, str] = Field(
        default_factory=dict, description="Extra headers. Authorization, Cookie, Host and the like are refused."
    )
    body: Any = Field(None, description="A JSON value (sent as JSON) or a string (sent as text).")
    intent: str | None = Field(None, max_length=512, description="Why this runs, in a few words; kept with it.")


class ToolsOut(Schema):
    tools: list[dict[str, Any]]
    routes: dict[str, dict[str, Any]] = Field(
        ..., description="Tool name -> {connector_id, connector_type, entity, action}: how to run a tool call."
    )
