"""Concurrent executions on one connector with an expired token: one token request, across worker processes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from connectors.executions.services import execution_start, execution_wait
from connectors.models import Connector, ExecutionStatus
from connectors.selectors import connector_credentials
from tests.oauth.conftest import connect
from workspaces.services import Actor


def test_twenty_concurrent_executions_cause_exactly_one_refresh(api, provider, oauth_app, celery_worker):
    connector_id = connect(api, provider)
    before = connector_credentials(Connector.objects.get(pk=connector_id))
    Connector.objects.filter(pk=connector_id).update(token_expires_at=timezone.now() - timedelta(seconds=1))
    provider.expire_access_tokens()
    provider.reset_counters()
    provider.slow(300)  # a slow token endpoint widens the window in which every worker wants to refresh

    connector = Connector.objects.select_related("definition", "workspace").get(pk=connector_id)
    executions = [
        execution_start(connector=connector, entity="me", action="get", params={}, actor=Actor.system(), run_async=True)
        for _ in range(20)
    ]
    finished = [execution_wait(e, timeout=60) for e in executions]

    assert [e.status for e in finished] == [ExecutionStatus.SUCCESS] * 20, [e.error_message for e in finished]
    assert provider.token_requests("refresh_token") == 1
    after = connector_credentials(Connector.objects.get(pk=connector_id))
    assert after["refresh_token"] != before["refresh_token"]
    assert {e.result["username"] for e in finished} == {provider.username}
    for proc in celery_worker:
        assert proc.poll() is None  # both workers alive through the run


@pytest.mark.usefixtures("transactional_db")
def test_celery_messages_carry_ids_only(api, provider, oauth_app, celery_worker):
    """What crosses Redis: read the raw broker traffic and look for any secret."""
    import redis as redis_lib

    from tests.conftest import redis_url

    connector_id = connect(api, provider)
    creds = connector_credentials(Connector.objects.get(pk=connector_id))
    client = redis_lib.Redis.from_url(redis_url())
    seen: list[bytes] = []
    monitor = client.monitor()
    import threading

    stop = threading.Event()

    def capture() -> None:
        with monitor as m:
            for command in m.listen():
                seen.append(str(command.get("command", "")).encode())
                if stop.is_set():
                    break

    thread = threading.Thread(target=capture, daemon=True)
    thread.start()
    Connector.objects.filter(pk=connector_id).update(token_expires_at=timezone.now() - timedelta(seconds=1))
    response = api.post(f"/api/v1/integrations/connectors/{connector_id}/execute", {"entity": "me", "action": "get"})
    assert response.status_code == 200
    stop.set()
    client.ping()
    thread.join(timeout=5)
    traffic = b"\n".join(seen)
    assert b"run_execution" in traffic or b"celery" in traffic
    new = connector_credentials(Connector.objects.get(pk=connector_id))
    for secret in {
        creds["access_token"],
        creds["refresh_token"],
        new["access_token"],
        new["refresh_token"],
        provider.client_secret,
    }:
        assert secret.encode() not in traffic
