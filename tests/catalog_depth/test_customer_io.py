"""Every Customer.io App API operation against a loopback stand-in that answers as Customer.io's App API reference
(docs.customer.io/integrations/api/app/) documents.

Each case is written from Customer.io's reference, not from the manifest: the request the operation must send
(method, /v1 path, query, or the exact JSON body; the App API key as a bearer token) and what comes back: a list
under its plural key, paged by `start` in and `next` out (an empty `next` on the last page), a list in one answer,
one object under its singular key (`{"campaign": {...}}`), or the whole body (a send's delivery id, a webhook).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from connectors.catalog.params import validate_params
from connectors.engine import Limits, UpstreamError, execute_operation
from connectors.validation import validate_credentials, validate_replication_config
from core.errors import InvalidInput
from tests.engine.conftest import RAW, point_at

from .conftest import query_of, reference_operations

KEY = "cio_app_4242_depth"
LIMITS = Limits(max_attempts=1)
NEXT = "MTY5OTk5OTk5OXwxMjM0"
PAGED, ALL, ONE, WHOLE = "paged", "all", "one", "whole"
WEBHOOK = {"name": "events", "endpoint": "https://hooks.example.com/cio", "events": ["email_sent", "email_opened"]}
TO_ADA = {"identifiers": {"email": "ada@example.com"}}

# (entity, action, params, method, path, expected query (GET) or exact JSON body, response key, answer kind)
CIO_CASES: list[tuple[str, str, dict[str, Any], str, str, dict[str, Any], str | None, str]] = [
    ("activities", "list", {"type": "event", "name": "purchase", "customer_id": "ada@example.com", "id_type": "email",
                            "limit": 50},
     "GET", "/v1/activities",
     {"type": "event", "name": "purchase", "customer_id": "ada@example.com", "id_type": "email", "limit": "50"},
     "activities", PAGED),
    ("broadcast_trigger", "create", {"broadcast_id": 12, "ids": ["1", "2"], "data": {"sale": "spring"}},
     "POST", "/v1/campaigns/12/triggers", {"ids": ["1", "2"], "data": {"sale": "spring"}}, None, WHOLE),
    ("campaign_actions", "get", {"campaign_id": 5, "action_id": 17}, "GET", "/v1/campaigns/5/actions/17", {},
     "action", ONE),
    ("campaign_actions", "list", {"campaign_id": 5}, "GET", "/v1/campaigns/5/actions", {}, "actions", PAGED),
    ("campaigns", "get", {"campaign_id": 5}, "GET", "/v1/campaigns/5", {}, "campaign", ONE),
    ("campaigns", "list", {}, "GET", "/v1/campaigns", {}, "campaigns", ALL),
    ("collections", "create", {"name": "prices", "data": [{"sku": "A1", "price": 9}]}, "POST", "/v1/collections",
     {"name": "prices", "data": [{"sku": "A1", "price": 9}]}, "collection", ONE),
    ("collections", "get", {"collection_id": 3}, "GET", "/v1/collections/3", {}, "collection", ONE),
    ("collections", "list", {}, "GET", "/v1/collections", {}, "collections", ALL),
    ("collections", "update", {"collection_id": 3, "url": "https://files.example.com/prices.csv"}, "PUT",
     "/v1/collections/3", {"url": "https://files.example.com/prices.csv"}, "collection", ONE),
    ("exports", "create", {"filters": {"and": [{"segment": {"id": 4}}]}}, "POST", "/v1/exports/customers",
     {"filters": {"and": [{"segment": {"id": 4}}]}}, "export", ONE),
    ("exports", "get", {"export_id": 8}, "GET", "/v1/exports/8", {}, "export", ONE),
    ("exports", "list", {}, "GET", "/v1/exports", {}, "exports", ALL),
    ("messages", "get", {"message_id": "dgOJBwUBAXCp"}, "GET", "/v1/messages/dgOJBwUBAXCp", {}, "message", ONE),
    ("messages", "list",
     {"type": "email", "metric": "opened", "campaign_id": 5, "start_ts": 1767225600, "end_ts": 1767830400,
      "limit": 1000},
     "GET", "/v1/messages",
     {"type": "email", "metric": "opened", "campaign_id": "5", "start_ts": "1767225600", "end_ts": "1767830400",
      "limit": "1000"}, "messages", PAGED),
    ("newsletters", "get", {"newsletter_id": 9}, "GET", "/v1/newsletters/9", {}, "newsletter", ONE),
    ("newsletters", "list", {"limit": 10, "sort": "asc"}, "GET", "/v1/newsletters", {"limit": "10", "sort": "asc"},
     "newsletters", PAGED),
    ("reporting_webhooks", "create", {**WEBHOOK, "with_content": True}, "POST", "/v1/reporting_webhooks",
     {**WEBHOOK, "with_content": True}, None, WHOLE),
    ("reporting_webhooks", "get", {"webhook_id": 2}, "GET", "/v1/reporting_webhooks/2", {}, None, WHOLE),
    ("reporting_webhooks", "list", {}, "GET", "/v1/reporting_webhooks", {}, "reporting_webhooks", ALL),
    ("reporting_webhooks", "update", {"webhook_id": 2, **WEBHOOK, "disabled": True}, "PUT",
     "/v1/reporting_webhooks/2", {**WEBHOOK, "disabled": True}, None, WHOLE),
    ("segments", "create", {"segment": {"name": "Beta", "description": "Opted in"}}, "POST", "/v1/segments",
     {"segment": {"name": "Beta", "description": "Opted in"}}, "segment", ONE),
    ("segments", "get", {"segment_id": 4}, "GET", "/v1/segments/4", {}, "segment", ONE),
    ("segments", "list", {}, "GET", "/v1/segments", {}, "segments", ALL),
    ("sender_identities", "get", {"sender_id": 6}, "GET", "/v1/sender_identities/6", {}, "sender_identity", ONE),
    ("sender_identities", "list", {"limit": 25, "sort": "desc"}, "GET", "/v1/sender_identities",
     {"limit": "25", "sort": "desc"}, "sender_identities", PAGED),
    ("snippets", "create", {"name": "footer", "value": "<p>Bye</p>"}, "POST", "/v1/snippets",
     {"name": "footer", "value": "<p>Bye</p>"}, "snippet", ONE),
    ("snippets", "list", {}, "GET", "/v1/snippets", {}, "snippets", ALL),
    ("snippets", "update", {"name": "footer", "value": "<p>Later</p>"}, "PUT", "/v1/snippets",
     {"name": "footer", "value": "<p>Later</p>"}, "snippet", ONE),
    ("transactional_email", "create",
     {"transactional_message_id": 44, **TO_ADA, "to": "ada@example.com", "message_data": {"code": "1234"},
      "send_at": 1767225600},
     "POST", "/v1/send/email",
     {"transactional_message_id": 44, **TO_ADA, "to": "ada@example.com", "message_data": {"code": "1234"},
      "send_at": 1767225600}, None, WHOLE),
    ("transactional_inbox_message", "create", {"transactional_message_id": "welcome", **TO_ADA}, "POST",
     "/v1/send/inbox_message", {"transactional_message_id": "welcome", **TO_ADA}, None, WHOLE),
    ("transactional_message_contents", "list", {"transactional_id": 44}, "GET", "/v1/transactional/44/contents", {},
     "contents", ALL),
    ("transactional_message_contents", "update", {"transactional_id": 44, "content_id": 2, "subject": "Your code"},
     "PUT", "/v1/transactional/44/content/2", {"subject": "Your code"}, None, WHOLE),
    ("transactional_messages", "get", {"transactional_id": 44}, "GET", "/v1/transactional/44", {}, "message", ONE),
    ("transactional_messages", "list", {}, "GET", "/v1/transactional", {}, "messages", ALL),
    ("transactional_push", "create",
     {"transactional_message_id": 45, "identifiers": {"id": "1"}, "to": "last_used", "title": "Hi"},
     "POST", "/v1/send/push",
     {"transactional_message_id": 45, "identifiers": {"id": "1"}, "to": "last_used", "title": "Hi"}, None, WHOLE),
    ("transactional_sms", "create", {"transactional_message_id": 46, "identifiers": {"cio_id": "a1b2"}}, "POST",
     "/v1/send/sms", {"transactional_message_id": 46, "identifiers": {"cio_id": "a1b2"}}, None, WHOLE),
]  # fmt: skip


def _run(httpserver, entity: str, action: str, params: dict[str, Any], **kwargs: Any):
    return execute_operation(
        manifest=point_at(RAW["customer-io"], httpserver.url_for("")),
        credentials=kwargs.pop("credentials", {"app_api_key": KEY}),
        config=kwargs.pop("config", {}),
        entity=entity,
        action=action,
        params=params,
        limits=LIMITS,
        **kwargs,
    )


def test_every_reference_operation_exists_under_its_name_and_is_covered_here(manifests) -> None:
    manifest = manifests["customer-io"]
    ours = {f"{entity}.{action}" for entity, actions in manifest.operations().items() for action in actions}
    assert ours == {f"{c[0]}.{c[1]}" for c in CIO_CASES}, "a manifest operation without a stand-in case here"
    assert manifest.definition_id == "34f697bc-b989-4eda-b06f-d0f39b88825b"
    reference = reference_operations("customer-io")
    if reference is not None:
        assert reference == ours


@pytest.mark.parametrize(
    ("entity", "action", "params", "method", "path", "expected", "key", "kind"),
    CIO_CASES,
    ids=[f"{c[0]}.{c[1]}" for c in CIO_CASES],
)
def test_customer_io_operation(httpserver, vendor, entity, action, params, method, path, expected, key, kind) -> None:
    one = {"id": 1, "name": "One"}
    answers = {
        PAGED: {key: [{"id": 1}, {"id": 2}], "next": NEXT},
        ALL: {key: [{"id": 1}, {"id": 2}]},
        ONE: {key: one},
        WHOLE: one,
    }
    vendor.answer(answers[kind])
    result = _run(httpserver, entity, action, params)
    request = vendor.last
    assert (request.method, request.path) == (method, path)
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    if method == "GET":
        assert not vendor.bodies[-1]
        assert query_of(request) == expected
    else:
        assert request.headers["Content-Type"].startswith("application/json")
        assert not query_of(request)
        assert json.loads(vendor.bodies[-1]) == expected
    assert KEY not in request.query_string.decode() + vendor.bodies[-1].decode()
    if kind in (ONE, WHOLE):
        assert result.result == one
        assert (result.has_next_page, result.end_cursor) == (False, None)
    else:
        assert [r["id"] for r in result.result] == [1, 2]
        assert (result.has_next_page, result.end_cursor) == ((True, NEXT) if kind == PAGED else (False, None))


# --- Pagination -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entity", "action", "params", "key"),
    [
        ("activities", "list", {"type": "event"}, "activities"),
        ("campaign_actions", "list", {"campaign_id": 5}, "actions"),
        ("messages", "list", {"metric": "sent", "limit": 2}, "messages"),
        ("newsletters", "list", {"sort": "asc"}, "newsletters"),
        ("sender_identities", "list", {"limit": 2}, "sender_identities"),
    ],
)
def test_next_page_sends_next_as_start(httpserver, vendor, entity, action, params, key) -> None:
    vendor.answer({key: [{"id": 1}, {"id": 2}], "next": NEXT})
    vendor.answer({key: [{"id": 3}], "next": ""})  # Customer.io's last page: an empty next
    first = _run(httpserver, entity, action, params)
    last = _run(httpserver, entity, action, {**params, "cursor": first.end_cursor})
    before, after = query_of(vendor.requests[0]), query_of(vendor.requests[1])
    assert "start" not in before
    assert after == {**before, "start": NEXT}
    assert vendor.requests[1].path == vendor.requests[0].path
    assert [r["id"] for r in last.result] == [3]
    assert (last.has_next_page, last.end_cursor) == (False, None)


# --- Params ---------------------------------------------------------------------------------------------------------


def test_airbytes_campaign_id_triggers_the_same_broadcast(httpserver, vendor) -> None:
    vendor.answer({"id": 3})
    result = _run(httpserver, "broadcast_trigger", "create", {"campaign_id": 12, "emails": ["ada@example.com"]})
    assert vendor.last.path == "/v1/campaigns/12/triggers"
    assert json.loads(vendor.bodies[-1]) == {"emails": ["ada@example.com"]}
    assert result.result == {"id": 3}


@pytest.mark.parametrize(
    ("entity", "action", "params", "field"),
    [
        ("messages", "list", {"limit": 1001}, "params.limit"),
        ("messages", "list", {"metric": "read"}, "params.metric"),
        ("activities", "list", {"limit": 101}, "params.limit"),
        ("activities", "list", {"id_type": "phone"}, "params.id_type"),
        ("reporting_webhooks", "create", {"name": "x", "endpoint": "https://e.example.com", "events": []},
         "params.events"),
        ("reporting_webhooks", "update", {"webhook_id": 2, "name": "x"}, "params.endpoint"),
        ("transactional_email", "create", {"identifiers": {"id": "1", "email": "a@example.com"}},
         "params.identifiers"),
        ("transactional_sms", "create", {"identifiers": {"id": "1"}}, "params.transactional_message_id"),
        ("transactional_push", "create", {"transactional_message_id": 1, "identifiers": {"id": "1"}, "to": "one"},
         "params.to"),
        ("snippets", "update", {"name": "footer"}, "params.value"),
        ("broadcast_trigger", "create", {"broadcast_id": 1, "campaign_id": 2}, "params.broadcast_id"),
    ],
)  # fmt: skip
def test_customer_ios_bounds_are_checked_before_any_call(manifests, entity, action, params, field) -> None:
    errors = validate_params(manifests["customer-io"], entity, action, params)
    assert field in {e["field"] for e in errors}


# --- Region, auth, errors -------------------------------------------------------------------------------------------


def test_the_region_picks_the_api_host(manifests) -> None:
    manifest = manifests["customer-io"]
    assert manifest.base_url == "https://{config.api_host}"
    assert manifest.config_defaults == {"api_host": "api.customer.io"}
    assert validate_replication_config(manifest, {"api_host": "api-eu.customer.io"}) == {
        "api_host": "api-eu.customer.io"
    }
    with pytest.raises(InvalidInput) as caught:
        validate_replication_config(manifest, {"api_host": "evil.example.com"})
    assert caught.value.errors[0].field == "replication_config.api_host"


def test_the_app_api_key_is_stored_under_its_name(manifests) -> None:
    scheme, stored = validate_credentials(manifests["customer-io"], {"app_api_key": KEY})
    assert (scheme.key, stored) == ("app_api_key", {"app_api_key": KEY})
    with pytest.raises(InvalidInput) as caught:
        validate_credentials(manifests["customer-io"], {"api_key": KEY})
    assert KEY not in str(caught.value.errors)


def test_a_rejected_key_is_credentials_rejected_with_customer_ios_message(httpserver, vendor) -> None:
    vendor.answer({"meta": {"error": "Unauthorized request"}}, status=401)
    with pytest.raises(UpstreamError) as caught:
        _run(httpserver, "campaigns", "list", {})
    assert caught.value.code == "credentials_rejected"
    assert "Unauthorized request" in str(caught.value)


def test_a_bad_send_is_a_bad_request_with_customer_ios_message(httpserver, vendor) -> None:
    vendor.answer({"meta": {"error": "transactional message not found"}}, status=400)
    with pytest.raises(UpstreamError) as caught:
        _run(httpserver, "transactional_email", "create", {"transactional_message_id": 999, **TO_ADA})
    assert caught.value.code == "bad_request"
    assert "transactional message not found" in str(caught.value)
    assert len(vendor.requests) == 1  # a send is never retried on its own
