"""POST /api/v1/integrations/connectors/{id}/proxy: one request to the connector's own API, credentials applied,
the vendor's answer passed through; every way out of the base URL refused; secrets kept."""

from __future__ import annotations

import json
import logging

import pytest
from pytest_httpserver import HTTPServer

from connectors.models import Execution

from .conftest import STRIPE_KEY, make_connector


def proxy_url(connector) -> str:
    return f"/api/v1/integrations/connectors/{connector.pk}/proxy"


def test_get_passes_the_vendors_answer_through(api, workspace, vendor) -> None:
    stripe = make_connector(workspace, "stripe")
    response = api.post(proxy_url(stripe), {"method": "GET", "path": "/v1/customers", "query": {"limit": 2}})
    assert response.status_code == 200
    assert response.json()["data"][0]["id"] == "cus_1"
    assert vendor.last["path"] == "/v1/customers" and vendor.last["query"] == {"limit": ["2"]}
    assert vendor.last["headers"]["Authorization"] == f"Bearer {STRIPE_KEY}"
    execution = Execution.objects.get(pk=response["X-Patchbay-Execution-Id"])
    assert (execution.entity, execution.action, execution.status) == ("proxy", "get", "success")
    assert execution.params["path"] == "/v1/customers" and execution.upstream_status == 200


def test_error_status_headers_and_text_bodies_pass_through_minus_cookies(api, workspace, vendor) -> None:
    stripe = make_connector(workspace, "stripe")
    response = api.post(proxy_url(stripe), {"path": "v1/teapot"})  # GET by default; a leading slash is optional
    assert response.status_code == 418
    assert response.content == b"short and stout"
    assert response["X-Vendor"] == "yes"
    assert "Set-Cookie" not in response
    execution = Execution.objects.get(pk=response["X-Patchbay-Execution-Id"])
    assert execution.upstream_status == 418 and execution.error_code == "upstream_status"


def test_post_sends_a_json_body_and_custom_headers(api, workspace, vendor) -> None:
    stripe = make_connector(workspace, "stripe")
    response = api.post(
        proxy_url(stripe),
        {"method": "post", "path": "/v1/things", "body": {"name": "x"}, "headers": {"Stripe-Version": "2026-01-01"}},
    )
    assert response.status_code == 200
    assert vendor.last["method"] == "POST" and json.loads(vendor.last["body"]) == {"name": "x"}
    assert vendor.last["headers"]["Stripe-Version"] == "2026-01-01"
    assert vendor.last["headers"]["Idempotency-Key"]  # Stripe's manifest de-duplicates writes: proxied ones too


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("https://evil.example/v1/customers", "path"),
        ("http:/v1/customers", "path"),
        ("//evil.example/v1/customers", "path"),
        ("/v1/../../admin", "path"),
        ("/v1/%2e%2e/admin", "path"),
        ("/v1/%252e%252e/admin", "path"),
        ("\\\\evil.example\\x", "path"),
        ("/v1/customers?limit=1", "path"),
        ("/v1/customers#frag", "path"),
        ("/v1/cus tomers", "path"),
        ("", "path"),
    ],
)
def test_escapes_from_the_base_url_are_refused(api, workspace, vendor, path, field) -> None:
    stripe = make_connector(workspace, "stripe")
    response = api.post(proxy_url(stripe), {"method": "GET", "path": path})
    assert response.status_code == 422, response.content
    assert response.json()["errors"][0]["field"] == field
    assert vendor.requests == []
    assert not Execution.objects.filter(entity="proxy").exists()  # refused before anything is recorded


@pytest.mark.parametrize(
    "headers",
    [{"Authorization": "Bearer mine"}, {"authorization": "x"}, {"Cookie": "a=b"}, {"Host": "evil.example"},
     {"Proxy-Authorization": "x"}, {"X-Bad": "a\r\nInjected: yes"}, {"Bad Name": "x"}],
)  # fmt: skip
def test_headers_that_would_replace_our_authentication_are_refused(api, workspace, vendor, headers) -> None:
    stripe = make_connector(workspace, "stripe")
    response = api.post(proxy_url(stripe), {"path": "/v1/customers", "headers": headers})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"].startswith("headers.")
    assert vendor.requests == []


def test_methods_are_checked(api, workspace, vendor) -> None:
    stripe = make_connector(workspace, "stripe")
    response = api.post(proxy_url(stripe), {"method": "TRACE", "path": "/v1/customers"})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "method"


def test_credentials_never_reach_another_host(api, workspace, vendor, caplog) -> None:
    """A second loopback server listens: a redirect from the vendor to it is not followed, and no path or header
    gets the credentials there."""
    caplog.set_level(logging.DEBUG)
    elsewhere = HTTPServer(host="127.0.0.1", port=0)
    elsewhere.expect_request("/steal").respond_with_data("stolen")
    elsewhere.start()
    try:
        vendor.elsewhere = elsewhere.url_for("/steal")
        stripe = make_connector(workspace, "stripe")
        redirected = api.post(proxy_url(stripe), {"path": "/v1/redirect"})
        assert redirected.status_code == 302  # passed through, not followed
        for path in (f"//127.0.0.1:{elsewhere.port}/steal", elsewhere.url_for("/steal")):
            assert api.post(proxy_url(stripe), {"path": path}).status_code == 422
        assert elsewhere.log == []
    finally:
        elsewhere.clear()
        elsewhere.stop()
    records = json.dumps(list(Execution.objects.values()), default=str)
    assert STRIPE_KEY not in records
    assert STRIPE_KEY not in caplog.text
    assert STRIPE_KEY not in redirected.content.decode()


def test_another_workspaces_connector_is_404(api, other_workspace, vendor) -> None:
    theirs = make_connector(other_workspace, "stripe")
    response = api.post(proxy_url(theirs), {"path": "/v1/customers"})
    assert response.status_code == 404
    assert vendor.requests == []


def test_a_timeout_is_a_recorded_504(api, workspace, settings, httpserver) -> None:
    import time

    settings.PATCHBAY_CATALOG_OVERRIDES = {"stripe": {"base_url": httpserver.url_for("").rstrip("/")}}
    settings.PATCHBAY_UPSTREAM_TIMEOUT = 0.3
    settings.PATCHBAY_UPSTREAM_MAX_ATTEMPTS = 1
    httpserver.expect_request("/v1/slow").respond_with_handler(lambda r: time.sleep(1) or None)
    stripe = make_connector(workspace, "stripe")
    response = api.post(proxy_url(stripe), {"path": "/v1/slow"})
    assert response.status_code == 504
    body = response.json()
    assert body["error_code"] == "timeout" and body["execution_metadata"]["execution_id"]
