"""Every list the API serves runs the same number of queries however many rows it lists (no query per row).
Their speed at 100,000 rows is bench/dashboard_scale.py's business; the indexes behind each order are in the
*_list_indexes migrations."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from connectors import crypto
from tests.factories import ConnectorFactory
from webhooks.models import WebhookAttempt, WebhookEndpoint, WebhookMessage
from workspaces.services import api_key_create, application_credential_create

pytestmark = pytest.mark.django_db


def add_connectors(workspace: Any, n: int) -> None:
    for i in range(n):
        ConnectorFactory(workspace=workspace, credentials={"api_key": f"sk_test_{i}"})


def add_api_keys(workspace: Any, n: int) -> None:
    for i in range(n):
        api_key_create(workspace=workspace, name=f"key {i}")


def add_applications(workspace: Any, n: int) -> None:
    for i in range(n):
        application_credential_create(workspace=workspace, name=f"app {i}")


def endpoint_of(workspace: Any) -> WebhookEndpoint:
    return WebhookEndpoint.objects.filter(workspace=workspace).order_by("created_at").first() or (
        WebhookEndpoint.objects.create(
            workspace=workspace, url="https://hooks.example.com/a", secret_encrypted=crypto.encrypt_text("whsec_x")
        )
    )


def add_endpoints(workspace: Any, n: int) -> None:
    for i in range(n):
        WebhookEndpoint.objects.create(
            workspace=workspace, url=f"https://hooks.example.com/{i}", secret_encrypted=crypto.encrypt_text("whsec_x")
        )


def add_deliveries(workspace: Any, n: int) -> None:
    endpoint = endpoint_of(workspace)
    for i in range(n):
        message = WebhookMessage.objects.create(
            endpoint=endpoint, workspace=workspace, event_type="execution.failed", payload={"n": i}
        )
        for _ in range(2):
            WebhookAttempt.objects.create(message=message, status_code=500, duration_ms=3)


LISTS: dict[str, tuple[Callable[[Any, int], None], Callable[[Any], str]]] = {
    "connectors": (add_connectors, lambda ws: "/api/v1/integrations/connectors"),
    "api keys": (add_api_keys, lambda ws: "/api/v1/account/api-keys"),
    "applications": (add_applications, lambda ws: "/api/v1/integrations/applications"),
    "webhook endpoints": (add_endpoints, lambda ws: "/api/v1/integrations/webhooks"),
    "webhook deliveries": (
        add_deliveries,
        lambda ws: f"/api/v1/integrations/webhooks/{endpoint_of(ws).pk}/deliveries",
    ),
}


@pytest.mark.parametrize("name", list(LISTS))
def test_list_query_count_does_not_grow_with_rows(name, workspace, api, settings):
    settings.REDIS_URL = ""  # no API-key cache: every request reads its key, the same at each size
    add_rows, path_of = LISTS[name]
    counts = []
    for n in (2, 20):
        add_rows(workspace, n)
        path = path_of(workspace)
        api.get(path)  # the first use of a key records last_used_at: not part of the list
        with CaptureQueriesContext(connection) as queries:
            response = api.get(path)
        assert response.status_code == 200, response.content
        counts.append(len(queries))
    assert counts[0] == counts[1], f"{name}: {counts[0]} queries at 2 rows, {counts[1]} at 22"
