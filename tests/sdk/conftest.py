"""The SDK against a live Patchbay (pytest-django's live_server) and a loopback stub standing in for the services."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from werkzeug import Response

from tests.factories import api_key_for

STRIPE_KEY = "sk_test_SDK_4242"
GITHUB_ID = "ef69ef6e-aa7f-4af1-a01d-ef775033524e"
HUBSPOT_ID = "36c891d9-4bd9-43ac-bad2-10e12756272c"


@pytest.fixture
def server(live_server, transactional_db) -> str:
    """The live Patchbay's base URL."""
    return live_server.url


@pytest.fixture
def key(workspace, transactional_db) -> str:
    return api_key_for(workspace)


@pytest.fixture
def other_key(other_workspace, transactional_db) -> str:
    return api_key_for(other_workspace)


@pytest.fixture
def env(monkeypatch, server, key) -> dict[str, str]:
    """PATCHBAY_API_KEY / PATCHBAY_URL set, so `Workspace()` and `connect("stripe")` work exactly as documented."""
    monkeypatch.setenv("PATCHBAY_API_KEY", key)
    monkeypatch.setenv("PATCHBAY_URL", server)
    return {"PATCHBAY_API_KEY": key, "PATCHBAY_URL": server}


@pytest.fixture
def upstream(httpserver, settings):
    """A loopback stand-in for Stripe, GitHub and HubSpot; the live server reads the overrides per request."""
    url = httpserver.url_for("").rstrip("/")
    settings.PATCHBAY_CATALOG_OVERRIDES = {
        "stripe": {"base_url": url},
        "github": {"base_url": url},
        "hubspot": {"base_url": url, "token_url": f"{url}/oauth/v1/token"},
    }
    settings.PATCHBAY_UPSTREAM_MAX_ATTEMPTS = 1
    return httpserver


def customers_page(ids: list[str], has_more: bool) -> dict[str, Any]:
    return {
        "object": "list",
        "data": [{"id": i, "object": "customer", "email": f"{i}@example.com"} for i in ids],
        "has_more": has_more,
    }


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, headers=headers or {}, content_type="application/json")


@pytest.fixture
def make_stripe(workspace) -> Callable[..., str]:
    """Store a Stripe connector in the test workspace through the service layer; returns its id."""

    def make(name: str = "Stripe", api_key: str = STRIPE_KEY, workspace_=None) -> str:
        from connectors.models import ConnectorDefinition
        from connectors.services import connector_create
        from workspaces.services import Actor

        connector = connector_create(
            workspace=workspace_ or workspace,
            definition=ConnectorDefinition.objects.get(slug="stripe"),
            name=name,
            credentials={"api_key": api_key},
            replication_config=None,
            auth_scheme=None,
            actor=Actor.system(),
        )
        return str(connector.pk)

    return make
