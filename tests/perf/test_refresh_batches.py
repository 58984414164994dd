"""Beat queues due token refreshes in batches (one Celery message per REFRESH_BATCH_SIZE connectors), and every
connector in them is still refreshed exactly once against the rotating test OAuth server."""

from __future__ import annotations

from datetime import timedelta

import pytest
from celery.signals import task_prerun
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from connectors.models import Connector
from connectors.oauth.tasks import REFRESH_BATCH_SIZE, enqueue_due_refreshes_task, refresh_tokens_task
from connectors.selectors import connector_credentials
from tests.oauth.conftest import connect, oauth_app, provider  # noqa: F401 - the OAuth tests' fixtures
from tests.oauth_server.fixture import clean_oauth_server, oauth_server  # noqa: F401

pytestmark = pytest.mark.django_db


def test_due_refreshes_go_out_in_batches_and_each_token_is_refreshed_once(api, provider, oauth_app):  # noqa: F811
    ids = [connect(api, provider, name=f"c{i}") for i in range(REFRESH_BATCH_SIZE + 3)]
    before = {pk: connector_credentials(Connector.objects.get(pk=pk))["access_token"] for pk in ids}
    Connector.objects.filter(pk__in=ids).update(token_expires_at=timezone.now() + timedelta(minutes=1))
    provider.reset_counters()

    batches: list[int] = []

    def count(sender=None, args=None, **kwargs):  # noqa: ANN001, ANN003
        if getattr(sender, "name", None) == refresh_tokens_task.name:
            batches.append(len(args[0]))

    task_prerun.connect(count)
    try:
        assert enqueue_due_refreshes_task.apply().get() == len(ids)
    finally:
        task_prerun.disconnect(count)
    assert sorted(batches) == [3, REFRESH_BATCH_SIZE]
    assert provider.token_requests("refresh_token") == len(ids)
    for pk in ids:
        assert connector_credentials(Connector.objects.get(pk=pk))["access_token"] != before[pk]


def test_a_refresh_writes_only_the_token_fields(api, provider, oauth_app):  # noqa: F811
    pk = connect(api, provider)
    Connector.objects.filter(pk=pk).update(token_expires_at=timezone.now() + timedelta(minutes=1))
    with CaptureQueriesContext(connection) as queries:
        assert refresh_tokens_task.apply(args=[[str(pk)]]).get() == {"ok": 1}
    writes = [q["sql"] for q in queries if q["sql"].startswith("UPDATE")]
    assert len(writes) == 1 and '"name"' not in writes[0] and '"replication_config"' not in writes[0], writes
    assert not any('SELECT 1 AS "a"' in q["sql"] for q in queries), "an extra existence check"
