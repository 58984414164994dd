"""Webhooks in the dashboard: add (secret shown once), the delivery log, redeliver, disable, delete; roles and
workspaces are respected."""

from __future__ import annotations

import pytest

from webhooks.models import WebhookEndpoint, WebhookMessage
from webhooks.services import webhook_endpoint_create
from workspaces.models import Membership, Role
from workspaces.services import Actor

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def signed_in(client, user, workspace):
    Membership.objects.filter(user=user, workspace=workspace).update(role=Role.OWNER)
    client.force_login(user)
    return client


def test_add_an_endpoint_and_see_its_secret_once(signed_in, workspace, httpserver) -> None:
    url = f"/w/{workspace.slug}/webhooks/"
    empty = signed_in.get(url).content.decode()
    assert "No webhook endpoints yet" in empty
    added = signed_in.post(f"{url}new/", {"url": httpserver.url_for("/hooks"), "events": ["connector.deleted"]})
    assert added.status_code == 200 and added["Cache-Control"] == "no-store"
    assert "whsec_" in added.content.decode()
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.events == ["connector.deleted"]
    again = signed_in.get(url).content.decode()
    assert httpserver.url_for("/hooks") in again and "whsec_" not in again
    bad = signed_in.post(f"{url}new/", {"url": "not a url"})
    assert bad.status_code == 422 and "Must be an http(s) URL" in bad.content.decode()


def test_log_redeliver_toggle_delete(signed_in, workspace, httpserver) -> None:
    httpserver.expect_request("/hooks").respond_with_data("nope", status=500)
    endpoint, _ = webhook_endpoint_create(workspace=workspace, url=httpserver.url_for("/hooks"), actor=Actor.system())
    from connectors.models import ConnectorDefinition
    from connectors.services import connector_create

    connector_create(
        workspace=workspace,
        definition=ConnectorDefinition.objects.get(slug="stripe"),
        name="Stripe",
        credentials={"api_key": "sk_test_dash"},
        actor=Actor.system(),
    )
    base = f"/w/{workspace.slug}/webhooks/"
    page = signed_in.get(base).content.decode()
    assert "connector.created" in page and "Pending" in page and "500" in page
    message = WebhookMessage.objects.get()
    signed_in.post(f"{base}{endpoint.pk}/deliveries/{message.pk}/redeliver/")
    assert WebhookMessage.objects.get().attempts == 2
    signed_in.post(f"{base}{endpoint.pk}/toggle/")
    assert not WebhookEndpoint.objects.get().enabled
    signed_in.post(f"{base}{endpoint.pk}/delete/")
    assert not WebhookEndpoint.objects.exists()


def test_viewers_read_only_and_other_workspaces_404(client, user, workspace, other_workspace) -> None:
    theirs, _ = webhook_endpoint_create(
        workspace=other_workspace, url="https://hooks.example.com/x", actor=Actor.system()
    )
    Membership.objects.filter(user=user, workspace=workspace).update(role=Role.VIEWER)
    client.force_login(user)
    base = f"/w/{workspace.slug}/webhooks/"
    assert client.get(base).status_code == 200
    assert client.post(f"{base}new/", {"url": "https://hooks.example.com/y"}).status_code == 403
    assert client.post(f"{base}{theirs.pk}/delete/").status_code in (403, 404)
    Membership.objects.filter(user=user, workspace=workspace).update(role=Role.OWNER)
    assert client.post(f"{base}{theirs.pk}/delete/").status_code == 404
    assert WebhookEndpoint.objects.filter(pk=theirs.pk).exists()
