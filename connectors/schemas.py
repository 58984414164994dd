"""API request and response shapes (pydantic via django-ninja). They drive validation and the OpenAPI schema."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from ninja import Schema
from pydantic import ConfigDict, Field


class FieldErrorOut(Schema):
    field: str
    message: str
    error_code: str


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


class ConnectorUpdateIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    credentials: dict[str, Any] | None = Field(None, description="Only the keys given are replaced.")
    replication_config: dict[str, Any] | None = None


class ConnectorInfoOut(Schema):
    id: UUID
    name: str
    connector_type: str = Field(..., description="Display name of the connector type, e.g. 'GitHub'.")
    slug: str
    definition_id: UUID
    status: str
    created_at: datetime
    updated_at: datetime
    last_used_at: datetime | None = None


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
