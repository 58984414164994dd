"""Webhook endpoints: signed Standard Webhooks deliveries to a real loopback receiver, retries, the outbox written in
the transaction of the change, private targets refused at delivery time, the delivery log, and no secrets."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook
from werkzeug import Request, Response

from connectors.models import ConnectorDefinition
from connectors.services import connector_create
from tests.conftest import ApiClient
from webhooks import services
from webhooks.models import MessageStatus, WebhookEndpoint, WebhookMessage
from workspaces.models import AuditEvent
from workspaces.services import Actor, api_key_create

# Deliveries start after commit: these tests commit for real.
pytestmark = pytest.mark.django_db(transaction=True)

HOOKS = "/api/v1/integrations/webhooks"
STRIPE_KEY = "sk_test_WEBHOOK_5ec2e7"


class Receiver:
    """A loopback webhook receiver that verifies every signature with `standardwebhooks`; `fail_first` answers 500."""

    def __init__(self) -> None:
        self.secret: str | None = None
        self.fail_first = 0
        self.received: list[dict] = []
        self.raw: list[bytes] = []
        self.calls = 0

    def __call__(self, request: Request) -> Response:
        self.calls += 1
        body = request.get_data()
        self.raw.append(body)
        if self.calls <= self.fail_first:
            return Response("try later", status=500)
        headers = {k.lower(): v for k, v in request.headers.items()}
        payload = Webhook(self.secret).verify(body, headers)  # raises on a bad signature
        self.received.append({"id": headers["webhook-id"], **payload})
        return Response("ok")


@pytest.fixture
def receiver(httpserver) -> Receiver:
    hook = Receiver()
    httpserver.expect_request("/hooks").respond_with_handler(hook)
    return hook


@pytest.fixture
def endpoint(api, receiver, httpserver):
    created = api.post(HOOKS, {"url": httpserver.url_for("/hooks"), "description": "ops"})
    assert created.status_code == 201, created.content
    receiver.secret = created.json()["secret"]
    return created.json()


def make_stripe(workspace, name="Stripe"):
    return connector_create(
        workspace=workspace,
        definition=ConnectorDefinition.objects.get(slug="stripe"),
        name=name,
        credentials={"api_key": STRIPE_KEY},
        actor=Actor.system(),
    )


def test_a_connector_change_arrives_signed(api, workspace, endpoint, receiver) -> None:
    assert endpoint["secret"].startswith("whsec_") and endpoint["events"] == []
    created = api.post(
        "/api/v1/integrations/connectors",
        {"connector_type": "stripe", "name": "Billing", "credentials": {"api_key": STRIPE_KEY}},
    )
    assert created.status_code == 201
    (event,) = receiver.received
    assert event["type"] == "connector.created"
    assert event["data"]["connector_id"] == created.json()["id"]
    assert event["data"]["connector_type"] == "stripe" and event["timestamp"].endswith("Z")
    assert event["id"].startswith("msg_")
    api.delete(f"/api/v1/integrations/connectors/{created.json()['id']}")
    assert [e["type"] for e in receiver.received] == ["connector.created", "connector.deleted"]
    assert all(STRIPE_KEY.encode() not in raw for raw in receiver.raw)
    log = api.get(f"{HOOKS}/{endpoint['id']}/deliveries").json()
    assert [m["status"] for m in log] == ["delivered", "delivered"]
    assert log[0]["attempt_log"][0]["status_code"] == 200
    assert STRIPE_KEY not in json.dumps(log)


def test_a_forged_signature_is_rejected_by_the_receivers_library(api, workspace, endpoint, receiver) -> None:
    receiver.secret = "whsec_" + "A" * 32  # not the endpoint's secret: verification fails, the receiver answers 500
    make_stripe(workspace)
    assert receiver.received == [] and receiver.calls == 1
    message = WebhookMessage.objects.get()
    assert message.status == MessageStatus.PENDING and message.last_status_code == 500


def test_a_rolled_back_change_sends_nothing(workspace, endpoint, receiver) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        make_stripe(workspace)
        raise RuntimeError("the rest of the change failed")
    assert not WebhookMessage.objects.exists()
    assert receiver.calls == 0


def test_failed_attempts_are_retried_until_delivered(api, workspace, endpoint, receiver) -> None:
    receiver.fail_first = 2
    make_stripe(workspace)  # attempt 1 fails (in-process tasks: retries come from the sweeper)
    for _ in range(2):
        time.sleep(0.25)
        services.sweep()
    message = WebhookMessage.objects.get()
    assert message.status == MessageStatus.DELIVERED and message.attempts == 3
    assert [e["type"] for e in receiver.received] == ["connector.created"]
    assert list(message.attempt_log.values_list("status_code", flat=True)) == [200, 500, 500]


def test_retries_give_up_after_the_schedule(workspace, endpoint, receiver, settings) -> None:
    settings.PATCHBAY_WEBHOOK_RETRY_SCHEDULE = [0.05]
    receiver.fail_first = 99
    make_stripe(workspace)
    time.sleep(0.1)
    services.sweep()
    message = WebhookMessage.objects.get()
    assert message.status == MessageStatus.FAILED and message.attempts == 2


def test_an_endpoint_failing_for_days_is_disabled_and_audited(workspace, endpoint, receiver) -> None:
    receiver.fail_first = 99
    WebhookEndpoint.objects.filter(pk=endpoint["id"]).update(failing_since=timezone.now() - timedelta(days=6))
    make_stripe(workspace)
    hook = WebhookEndpoint.objects.get(pk=endpoint["id"])
    assert not hook.enabled and "failed since" in hook.disabled_reason
    assert AuditEvent.objects.filter(action="webhook.disabled", target_id=str(hook.pk)).exists()
    make_stripe(workspace, name="Second")
    assert WebhookMessage.objects.count() == 1  # a disabled endpoint is owed nothing new


def test_private_targets_are_refused_when_saved_and_when_sent(api, workspace, endpoint, receiver, settings) -> None:
    settings.PATCHBAY_WEBHOOKS_ALLOW_PRIVATE = False
    for url in ("http://127.0.0.1:9/hooks", "https://10.0.0.5/x", "https://localhost/x", "https://[::1]/x",
                "https://user:pw@example.com/x", "ftp://example.com/x"):  # fmt: skip
        refused = api.post(HOOKS, {"url": url})
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "url", url
    make_stripe(workspace)  # the endpoint saved earlier points at loopback: checked again at delivery time
    assert receiver.calls == 0
    attempt = WebhookMessage.objects.get().attempt_log.get()
    assert attempt.status_code is None and "non-public" in attempt.error


def test_execution_failed_is_opt_in(api, workspace, receiver, httpserver, settings) -> None:
    settings.PATCHBAY_CATALOG_OVERRIDES = {"stripe": {"base_url": httpserver.url_for("").rstrip("/")}}
    settings.PATCHBAY_UPSTREAM_MAX_ATTEMPTS = 1
    httpserver.expect_request("/v1/customers").respond_with_json({"error": {"message": "nope"}}, status=400)
    opted = api.post(HOOKS, {"url": httpserver.url_for("/hooks"), "events": ["execution.failed"]}).json()
    receiver.secret = opted["secret"]
    connector = make_stripe(workspace)
    response = api.post(f"/api/v1/integrations/connectors/{connector.pk}/execute", {"entity": "customers",
                                                                                    "action": "list"})  # fmt: skip
    assert response.status_code == 400
    (event,) = receiver.received  # not connector.created: this endpoint named its one event
    assert event["type"] == "execution.failed"
    assert event["data"]["error_code"] == "bad_request" and event["data"]["connector_id"] == str(connector.pk)


def test_redeliver_sends_a_message_again(api, workspace, endpoint, receiver) -> None:
    make_stripe(workspace)
    message = WebhookMessage.objects.get()
    again = api.post(f"{HOOKS}/{endpoint['id']}/deliveries/{message.pk}/redeliver")
    assert again.status_code == 200
    assert [e["id"] for e in receiver.received] == [message.msg_id, message.msg_id]  # same webhook-id: de-duplicable


def test_endpoints_are_managed_and_scoped(api, other_api, workspace, endpoint) -> None:
    assert [e["id"] for e in api.get(HOOKS).json()] == [endpoint["id"]]
    assert "secret" not in api.get(f"{HOOKS}/{endpoint['id']}").json()
    patched = api.patch(f"{HOOKS}/{endpoint['id']}", {"events": ["connector.deleted"], "enabled": False})
    assert patched.json()["events"] == ["connector.deleted"] and patched.json()["enabled"] is False
    bad = api.patch(f"{HOOKS}/{endpoint['id']}", {"events": ["connector.exploded"]})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "events"
    for call in (lambda c: c.get(f"{HOOKS}/{endpoint['id']}"), lambda c: c.delete(f"{HOOKS}/{endpoint['id']}"),
                 lambda c: c.get(f"{HOOKS}/{endpoint['id']}/deliveries")):  # fmt: skip
        assert call(other_api).status_code == 404
    limited = ApiClient(api_key_create(workspace=workspace, name="ro", read_only=True)[1])
    assert limited.get(HOOKS).status_code == 403
    assert api.delete(f"{HOOKS}/{endpoint['id']}").status_code == 204
    assert api.get(HOOKS).json() == []


def test_the_secret_is_encrypted_at_rest(endpoint) -> None:
    row = WebhookEndpoint.objects.get(pk=endpoint["id"])
    assert endpoint["secret"] not in row.secret_encrypted
    assert services.endpoint_secret(row) == endpoint["secret"]


def test_a_real_worker_delivers_and_retries(celery_worker, workspace, receiver, httpserver) -> None:
    """Real Celery worker processes and Redis: the first attempt fails, the countdown retry arrives."""
    hook, secret = services.webhook_endpoint_create(
        workspace=workspace, url=httpserver.url_for("/hooks"), actor=Actor.system()
    )
    receiver.secret = secret
    receiver.fail_first = 1
    make_stripe(workspace)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not receiver.received:
        time.sleep(0.1)
    assert [e["type"] for e in receiver.received] == ["connector.created"]
    # The worker records the attempt once the receiver has answered: give it that moment.
    message = WebhookMessage.objects.get(endpoint=hook)
    while time.monotonic() < deadline and message.attempts < 2:
        time.sleep(0.05)
        message.refresh_from_db()
    assert message.attempts == 2
