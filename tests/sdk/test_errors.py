"""Every SDK error type, each raised from a real Patchbay response (live server, loopback upstream)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from patchbay import (
    AuthenticationError,
    ConnectorValidationError,
    CredentialsRejectedError,
    NotFoundError,
    PatchbayError,
    RateLimitError,
    UpstreamError,
    Workspace,
    connect,
)
from werkzeug import Response

from tests.sdk.conftest import GITHUB_ID


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def list_customers(**params: Any) -> Any:
    async with connect("stripe") as stripe:
        return await stripe.execute("customers", "list", params=params)


def upstream_error(upstream, status: int, headers: dict[str, str] | None = None) -> None:
    upstream.expect_request("/v1/customers").respond_with_response(
        Response(
            json.dumps({"error": {"message": "Stripe says no", "type": "invalid_request_error"}}),
            status=status,
            headers=headers or {},
            content_type="application/json",
        )
    )


def test_all_errors_derive_from_patchbay_error():
    import patchbay

    for name in patchbay.__all__:
        obj = getattr(patchbay, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, PatchbayError), name


@pytest.mark.parametrize("api_key", ["pb_00000000_doesnotexist", "not-a-key"])
def test_authentication_error_for_a_bad_key(server, api_key):
    async def main() -> Any:
        async with Workspace(api_key=api_key, base_url=server) as ws:
            return await ws.list_connectors()

    with pytest.raises(AuthenticationError) as caught:
        run(main())
    assert caught.value.status == 401
    assert "API key" in str(caught.value) and "PATCHBAY_API_KEY" in str(caught.value)


def test_authentication_error_without_any_key(server, monkeypatch):
    monkeypatch.delenv("PATCHBAY_API_KEY", raising=False)

    async def main() -> Any:
        async with Workspace(base_url=server) as ws:
            return await ws.list_connectors()

    with pytest.raises(AuthenticationError, match="PATCHBAY_API_KEY"):
        run(main())


def test_validation_error_carries_field_errors(env):
    async def main() -> Any:
        async with Workspace() as ws:
            return await ws.create_connector(
                definition_id=GITHUB_ID, name="gh", credentials={"personal_access_token": "x", "repositories": ["a/b"]}
            )

    with pytest.raises(ConnectorValidationError) as caught:
        run(main())
    error = caught.value
    assert error.status == 422
    fields = {e.field: e for e in error.errors}
    assert "replication_config" in fields["credentials.repositories"].message
    assert fields["credentials.repositories"].error_code


def test_validation_error_for_bad_params(env, make_stripe, upstream):
    make_stripe()
    with pytest.raises(ConnectorValidationError) as caught:
        run(list_customers(limit=1000))
    assert [(e.field, e.error_code) for e in caught.value.errors] == [("params.limit", "invalid_value")]
    assert len(upstream.log) == 0


def test_not_found_for_an_unknown_connector_id(env):
    async def main() -> Any:
        async with Workspace() as ws:
            return await ws.describe_connector("00000000-0000-0000-0000-000000000000")

    with pytest.raises(NotFoundError) as caught:
        run(main())
    assert caught.value.status == 404 and "Connector not found" in str(caught.value)


def test_not_found_upstream(env, make_stripe, upstream):
    make_stripe()
    upstream_error(upstream, 404)
    with pytest.raises(NotFoundError) as caught:
        run(list_customers())
    assert caught.value.status == 404 and caught.value.error_code == "not_found"
    assert caught.value.execution_id


def test_rate_limit_error_has_retry_after(env, make_stripe, upstream):
    make_stripe()
    upstream_error(upstream, 429, {"Retry-After": "7"})
    with pytest.raises(RateLimitError) as caught:
        run(list_customers())
    assert caught.value.status == 429 and caught.value.retry_after == 7.0
    assert "Retry after 7 seconds" in str(caught.value)


@pytest.mark.parametrize(
    ("upstream_status", "status", "code"), [(500, 502, "upstream_error"), (400, 400, "bad_request")]
)
def test_upstream_error(env, make_stripe, upstream, upstream_status, status, code):
    make_stripe()
    upstream_error(upstream, upstream_status)
    with pytest.raises(UpstreamError) as caught:
        run(list_customers())
    error = caught.value
    assert (error.status, error.error_code, error.upstream_status) == (status, code, upstream_status)
    assert error.execution_id and "Stripe says no" in str(error)


def test_credentials_rejected_is_an_upstream_error(env, make_stripe, upstream):
    make_stripe()
    upstream_error(upstream, 401)
    with pytest.raises(CredentialsRejectedError) as caught:
        run(list_customers())
    assert isinstance(caught.value, UpstreamError)
    assert caught.value.status == 424 and caught.value.error_code == "credentials_rejected"
    assert "Update" in str(caught.value)


def test_a_bad_cursor_is_a_validation_error(env, upstream):
    async def main() -> Any:
        async with Workspace() as ws:
            await ws.create_connector(
                connector_type="github",
                name="gh",
                credentials={"personal_access_token": "ghp_x"},
                replication_config={"repositories": ["a/b"]},
            )
        async with connect("github") as github:
            return await github.issues.list(owner="a", repo="b", cursor="not-a-cursor-patchbay-gave")

    with pytest.raises(ConnectorValidationError) as caught:
        run(main())
    assert caught.value.error_code == "invalid_cursor" and caught.value.execution_id
    assert len(upstream.log) == 0
