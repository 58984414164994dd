"""What beat does: refresh tokens due soon (found by expiry, not by scanning), re-check API-token connectors,
prune old executions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from connectors.executions.tasks import prune_executions_task, recheck_credentials_task
from connectors.models import Connector, Execution
from connectors.oauth.scheduling import due_for_check, due_for_refresh
from connectors.oauth.tasks import enqueue_due_refreshes_task
from connectors.selectors import connector_credentials
from tests.factories import ConnectorFactory
from tests.oauth.conftest import connect

pytestmark = pytest.mark.django_db


def test_due_for_refresh_picks_only_tokens_expiring_soon(workspace):
    now = timezone.now()
    soon = ConnectorFactory(workspace=workspace, token_expires_at=now + timedelta(minutes=2))
    ConnectorFactory(workspace=workspace, token_expires_at=now + timedelta(hours=5))
    ConnectorFactory(workspace=workspace, token_expires_at=None)
    ConnectorFactory(workspace=workspace, token_expires_at=now, status="needs_reauth")
    ConnectorFactory(workspace=workspace, token_expires_at=now, refresh_cooldown_until=now + timedelta(minutes=1))
    assert due_for_refresh() == [soon.pk]


def test_beat_sweep_refreshes_due_tokens_once(api, provider, oauth_app):
    connector_id = connect(api, provider)
    before = connector_credentials(Connector.objects.get(pk=connector_id))
    Connector.objects.filter(pk=connector_id).update(token_expires_at=timezone.now() + timedelta(minutes=1))
    provider.reset_counters()
    assert enqueue_due_refreshes_task.apply().get() == 1
    assert provider.token_requests("refresh_token") == 1
    assert connector_credentials(Connector.objects.get(pk=connector_id))["access_token"] != before["access_token"]
    assert enqueue_due_refreshes_task.apply().get() == 0  # now fresh: nothing due


def test_recheck_checks_stale_api_token_connectors(api, httpserver, settings):
    settings.PATCHBAY_CATALOG_OVERRIDES = {"stripe": {"base_url": httpserver.url_for("").rstrip("/")}}
    httpserver.expect_request("/v1/customers").respond_with_json({"error": {"message": "expired key"}}, status=401)
    stale = api.post(
        "/api/v1/integrations/connectors",
        {"connector_type": "stripe", "name": "s", "credentials": {"api_key": "sk_old"}},
    ).json()["id"]
    assert due_for_check() == [Connector.objects.get(pk=stale).pk]
    assert recheck_credentials_task.apply().get() == 1
    connector = Connector.objects.get(pk=stale)
    assert connector.status == "needs_attention" and connector.last_checked_at is not None
    assert due_for_check() == []


def test_prune_removes_executions_past_retention(workspace, settings):
    settings.PATCHBAY_EXECUTION_RETENTION_DAYS = 7
    connector = ConnectorFactory(workspace=workspace)
    old = Execution.objects.create(workspace=workspace, connector=connector, entity="customers", action="list")
    new = Execution.objects.create(workspace=workspace, connector=connector, entity="customers", action="list")
    Execution.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=8))
    assert prune_executions_task.apply().get() == 1
    assert list(Execution.objects.values_list("pk", flat=True)) == [new.pk]


def test_a_due_token_is_queued_once_until_it_is_refreshed(workspace):
    from connectors.oauth.scheduling import claim_due_refreshes

    due = ConnectorFactory(workspace=workspace, token_expires_at=timezone.now() + timedelta(minutes=1))
    assert claim_due_refreshes() == [due.pk]
    assert claim_due_refreshes() == []  # still queued: the next sweep leaves it alone
    Connector.objects.filter(pk=due.pk).update(refresh_queued_at=timezone.now() - timedelta(minutes=6))
    assert claim_due_refreshes() == [due.pk]  # a lost task is queued again
