"""execute() through the REST API against a real loopback HTTP server standing in for Stripe and GitHub."""

from __future__ import annotations

import json
import logging

import pytest
from werkzeug import Response

from connectors.models import Connector, Execution

BASE = "/api/v1/integrations/connectors"
STRIPE_KEY = "sk_test_SENTINEL_4242"
pytestmark = pytest.mark.django_db


@pytest.fixture
def stub(httpserver, settings):
    url = httpserver.url_for("").rstrip("/")
    settings.PATCHBAY_CATALOG_OVERRIDES = {"stripe": {"base_url": url}, "github": {"base_url": url}}
    return httpserver


@pytest.fixture
def stripe(api):
    body = {"connector_type": "stripe", "name": "Stripe", "credentials": {"api_key": STRIPE_KEY}}
    return api.post(BASE, body).json()["id"]


def customers_page(ids, has_more):
    return {"object": "list", "data": [{"id": i, "object": "customer"} for i in ids], "has_more": has_more}


def test_list_customers_with_pagination_metadata(api, stripe, stub, caplog):
    caplog.set_level(logging.DEBUG)
    stub.expect_ordered_request(
        "/v1/customers", query_string={"limit": "2"}, headers={"Authorization": f"Bearer {STRIPE_KEY}"}
    ).respond_with_json(customers_page(["cus_1", "cus_2"], True))
    stub.expect_ordered_request(
        "/v1/customers", query_string={"limit": "2", "starting_after": "cus_2"}
    ).respond_with_json(customers_page(["cus_3"], False))

    first = api.post(f"{BASE}/{stripe}/execute", {"entity": "customers", "action": "list", "params": {"limit": 2}})
    assert first.status_code == 200, first.json()
    body = first.json()
    assert body["status"] == "success"
    assert [c["id"] for c in body["result"]] == ["cus_1", "cus_2"]
    assert body["connector_metadata"] == {"has_next_page": True, "end_cursor": body["connector_metadata"]["end_cursor"]}
    assert body["connector_metadata"]["end_cursor"]
    assert body["execution_metadata"]["attempts"] == 1
    assert isinstance(body["execution_metadata"]["execution_time_ms"], int)

    params = {"limit": 2, "cursor": body["connector_metadata"]["end_cursor"]}
    second = api.post(f"{BASE}/{stripe}/execute", {"entity": "customers", "action": "list", "params": params}).json()
    assert [c["id"] for c in second["result"]] == ["cus_3"]
    assert second["connector_metadata"] == {"has_next_page": False, "end_cursor": None}
    stub.check_assertions()

    execution = Execution.objects.get(pk=body["execution_metadata"]["execution_id"])
    assert execution.params == {"limit": 2}
    assert execution.params_encrypted == ""
    assert execution.upstream_status == 200
    record = json.dumps([list(r) for r in Execution.objects.values_list()], default=str)
    assert STRIPE_KEY not in record and "Bearer" not in record
    assert STRIPE_KEY not in caplog.text
    assert Connector.objects.get(pk=stripe).last_used_at is not None


def test_async_execute_then_poll(api, stripe, stub):
    stub.expect_request("/v1/customers").respond_with_json(customers_page(["cus_9"], False))
    accepted = api.post(f"{BASE}/{stripe}/execute", {"entity": "customers", "action": "list", "async": True})
    assert accepted.status_code == 202
    execution_id = accepted.json()["execution_id"]
    polled = api.get(f"/api/v1/integrations/executions/{execution_id}")
    assert polled.status_code == 200
    assert polled.json()["result"] == [{"id": "cus_9", "object": "customer"}]


def test_params_are_validated_before_anything_runs(api, stripe, stub):
    bad = api.post(f"{BASE}/{stripe}/execute", {"entity": "customers", "action": "list", "params": {"limit": 1000}})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "params.limit"
    unknown = api.post(f"{BASE}/{stripe}/execute", {"entity": "customerz", "action": "list"})
    assert unknown.status_code == 422
    assert "customers" in unknown.json()["message"]
    unknown_action = api.post(f"{BASE}/{stripe}/execute", {"entity": "customers", "action": "explode"})
    assert unknown_action.status_code == 422
    assert "list" in unknown_action.json()["message"]
    missing = api.post(f"{BASE}/{stripe}/execute", {"action": "list"})
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "entity"
    assert Execution.objects.count() == 0
    assert len(stub.log) == 0


@pytest.mark.parametrize(
    ("upstream_status", "expected_status", "error_code"),
    [(401, 424, "credentials_rejected"), (404, 404, "not_found"), (500, 502, "upstream_error")],
)
def test_upstream_errors_are_mapped(api, stripe, stub, settings, upstream_status, expected_status, error_code):
    settings.PATCHBAY_UPSTREAM_MAX_ATTEMPTS = 2
    stub.expect_request("/v1/customers").respond_with_json(
        {"error": {"message": "No such thing", "type": "invalid_request_error"}}, status=upstream_status
    )
    response = api.post(f"{BASE}/{stripe}/execute", {"entity": "customers", "action": "list"})
    assert response.status_code == expected_status
    body = response.json()
    assert body["status"] == "error" and body["error_code"] == error_code
    assert body["message"]
    assert STRIPE_KEY not in response.content.decode()
    if error_code == "credentials_rejected":
        assert Connector.objects.get(pk=stripe).status == "needs_attention"


def test_rate_limited_after_retries_answers_429_with_retry_after(api, stripe, stub, settings):
    settings.PATCHBAY_UPSTREAM_MAX_ATTEMPTS = 1
    stub.expect_request("/v1/customers").respond_with_response(
        Response(
            json.dumps({"error": {"message": "slow down"}}),
            status=429,
            headers={"Retry-After": "7"},
            content_type="application/json",
        )
    )
    response = api.post(f"{BASE}/{stripe}/execute", {"entity": "customers", "action": "list"})
    assert response.status_code == 429
    assert response["Retry-After"] == "7"
    assert response.json()["error_code"] == "rate_limited"


def test_check_endpoint_reports_whether_credentials_work(api, stripe, stub):
    stub.expect_ordered_request("/v1/customers").respond_with_json(customers_page([], False))
    stub.expect_ordered_request("/v1/customers").respond_with_json(
        {"error": {"message": "Invalid API Key"}}, status=401
    )
    ok = api.post(f"{BASE}/{stripe}/check")
    assert ok.status_code == 200 and ok.json()["ok"] is True
    bad = api.post(f"{BASE}/{stripe}/check").json()
    assert bad["ok"] is False and bad["message"]
    assert Connector.objects.get(pk=stripe).status == "needs_attention"


def test_check_on_create_refuses_bad_credentials(api, stub):
    stub.expect_request("/v1/customers").respond_with_json(
        {"error": {"message": "Invalid API Key provided"}}, status=401
    )
    body = {"connector_type": "stripe", "name": "S", "credentials": {"api_key": "sk_bad"}, "check": True}
    response = api.post(BASE, body)
    assert response.status_code == 422
    assert "Stripe did not accept these credentials" in response.json()["message"]
    assert Connector.objects.count() == 0


def test_other_workspace_cannot_read_executions(api, other_api, stripe, stub):
    stub.expect_request("/v1/customers").respond_with_json(customers_page([], False))
    execution_id = api.post(f"{BASE}/{stripe}/execute", {"entity": "customers", "action": "list"}).json()[
        "execution_metadata"
    ]["execution_id"]
    assert other_api.get(f"/api/v1/integrations/executions/{execution_id}").status_code == 404
    assert other_api.get("/api/v1/integrations/executions/nope").status_code == 404


def test_execute_on_a_real_celery_worker(api, stripe, stub, celery_worker, monkeypatch):
    import redis

    from config.celery_app import app as celery_app
    from connectors.executions import completion

    stub.expect_request("/v1/customers").respond_with_json(customers_page(["cus_w"], False))
    answers: list = []
    wait = completion.wait_finished
    monkeypatch.setattr(completion, "wait_finished", lambda *a, **k: answers.append(wait(*a, **k)) or answers[-1])

    response = api.post(f"{BASE}/{stripe}/execute", {"entity": "customers", "action": "list"})

    assert response.status_code == 200, response.json()
    assert response.json()["result"] == [{"id": "cus_w", "object": "customer"}]
    # The caller's last wait ended because the worker signalled the committed outcome, not by polling the record.
    assert answers and answers[-1] is True
    client = redis.Redis.from_url(celery_app.conf.broker_url)
    execution_id = response.json()["execution_metadata"]["execution_id"]
    assert client.exists(f"patchbay:execution-done:{execution_id}") == 0  # the caller took its signal
    stored = [client.get(key) or b"" for key in client.scan_iter("celery-task-meta-*", count=1000)]
    assert not [meta for meta in stored if execution_id.encode() in meta]  # no result stored: the record is it


def test_a_cursor_that_is_not_ours_is_a_422_with_the_field(api, stub):
    gh = api.post(
        BASE,
        {
            "connector_type": "github",
            "name": "gh",
            "credentials": {"personal_access_token": "ghp_x"},
            "replication_config": {"repositories": ["a/b"]},
        },
    ).json()["id"]
    response = api.post(
        f"{BASE}/{gh}/execute",
        {"entity": "issues", "action": "list", "params": {"owner": "a", "repo": "b", "cursor": "garbage!"}},
    )
    assert response.status_code == 422, response.json()
    body = response.json()
    assert body["error_code"] == "invalid_cursor"
    assert body["errors"] and body["errors"][0]["field"].startswith("params.cursor")
    assert len(stub.log) == 0


def test_resolve_tells_an_unknown_type_from_a_missing_connector(api):
    unknown = api.get(f"{BASE}/resolve", {"connector_type": "nope"})
    assert unknown.status_code == 404
    assert unknown.json()["errors"][0]["error_code"] == "unknown_connector_type"
    none = api.get(f"{BASE}/resolve", {"connector_type": "stripe"})
    assert none.status_code == 404 and none.json()["errors"] == []


def test_secret_params_are_redacted_in_the_record():
    from connectors.catalog import build_manifest
    from connectors.executions.services import redact_params

    manifest = {
        "definition_id": "00000000-0000-4000-8000-000000000002",
        "slug": "things",
        "name": "Things",
        "version": "1",
        "base_url": "https://things.example.com",
        "auth_schemes": [],
        "entities": {
            "things": {
                "actions": {
                    "list": {
                        "method": "GET",
                        "path": "/things",
                        "pagination": {"type": "link_header"},
                        "params": {
                            "type": "object",
                            "properties": {
                                "q": {"type": "string"},
                                "token": {"type": "string", "secret": True},
                                "key": {"type": "string", "airbyte_secret": True},
                            },
                        },
                    }
                }
            }
        },
    }
    assert redact_params(
        build_manifest(manifest), "things", "list", {"q": "x", "token": "t0p", "key": "k3y", "cursor": "c"}
    ) == {
        "q": "x",
        "token": "[redacted]",
        "key": "[redacted]",
        "cursor": "c",
    }
