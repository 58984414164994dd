"""The agent surface (MCP, tool definitions, proxy, scoped keys) against a live Patchbay and loopback vendors."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from werkzeug import Request, Response

from connectors.models import Connector, ConnectorDefinition
from connectors.services import connector_create
from workspaces.services import Actor

STRIPE_KEY = "sk_test_AGENT_7f3e9a"
GITHUB_TOKEN = "ghp_AGENT_token_51c0ffee"


class Vendor:
    """A loopback stand-in that records requests and answers Stripe- and GitHub-shaped JSON."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.elsewhere = "http://127.0.0.1:9/"  # where /v1/redirect points (a test sets a second server)

    def __call__(self, request: Request) -> Response:
        body = request.get_data()
        self.requests.append(
            {
                "method": request.method,
                "path": request.path,
                "query": request.args.to_dict(flat=False),
                "headers": dict(request.headers),
                "body": body,
            }
        )
        if request.path == "/v1/customers":
            data = [
                {"id": "cus_1", "object": "customer", "email": "a@example.com", "description": "x" * 500},
                {"id": "cus_2", "object": "customer", "email": "b@example.com", "description": "short"},
            ]
            return _json({"object": "list", "data": data, "has_more": True})
        if request.path == "/v1/customers/cus_missing":
            return _json({"error": {"message": "No such customer: 'cus_missing'"}}, status=404)
        if request.path == "/v1/redirect":
            return Response("", status=302, headers={"Location": self.elsewhere})
        if request.path.startswith("/v1/customers/"):
            return _json({"id": request.path.rsplit("/", 1)[-1], "object": "customer", "email": "a@example.com"})
        if request.path == "/v1/teapot":
            return Response("short and stout", status=418, headers={"X-Vendor": "yes", "Set-Cookie": "s=1"})
        if request.path == "/repos/octo/hello/issues":
            return _json([{"number": 1, "title": "First", "user": {"login": "octo"}}])
        return _json({"ok": True, "path": request.path})

    @property
    def last(self) -> dict[str, Any]:
        return self.requests[-1]


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


@pytest.fixture
def vendor(httpserver, settings) -> Vendor:
    url = httpserver.url_for("").rstrip("/")
    settings.PATCHBAY_CATALOG_OVERRIDES = {"stripe": {"base_url": url}, "github": {"base_url": url}}
    settings.PATCHBAY_UPSTREAM_MAX_ATTEMPTS = 1
    recorder = Vendor()
    httpserver.expect_request(re.compile(".*")).respond_with_handler(recorder)
    return recorder


def make_connector(workspace, slug: str, name: str | None = None, **credentials: Any) -> Connector:
    defaults = {"stripe": {"api_key": STRIPE_KEY}, "github": {"personal_access_token": GITHUB_TOKEN}}
    return connector_create(
        workspace=workspace,
        definition=ConnectorDefinition.objects.get(slug=slug),
        name=name or slug.capitalize(),
        credentials=credentials or defaults[slug],
        replication_config={"github": {"repositories": ["octo/hello"]}}.get(slug, {}),
        auth_scheme=None,
        actor=Actor.system(),
        check=False,
    )
