"""API-key lookups are cached per process, and a revocation still takes effect everywhere within a second.

`other` below is a second process's cache: its own entries and its own Redis subscription, exactly what another
gunicorn worker holds. The revocation goes through the dashboard in this process and reaches it by pub/sub."""

from __future__ import annotations

import time

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.errors import AuthenticationFailed
from tests.factories import MembershipFactory, UserFactory
from workspaces.auth import KeyCache, key_cache
from workspaces.models import ApiKey, Role
from workspaces.services import api_key_create

pytestmark = pytest.mark.django_db(transaction=True)


def wait_until(predicate, seconds: float) -> bool:  # noqa: ANN001
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


def refused(cache: KeyCache, raw: str) -> bool:
    try:
        cache.authenticate(raw)
    except AuthenticationFailed:
        return True
    return False


@pytest.fixture
def other(require_redis, settings):
    settings.REDIS_URL = require_redis
    cache = KeyCache(redis_url=require_redis)
    yield cache
    cache.close()


def test_a_revoked_key_is_refused_by_another_process_within_a_second(workspace, other):
    key, raw = api_key_create(workspace=workspace, name="agent")
    other.authenticate(raw)  # starts its subscription
    assert wait_until(lambda: other.subscribed, 10), "the cache never subscribed to Redis"
    other.authenticate(raw)
    with CaptureQueriesContext(connection) as lookups:
        assert other.authenticate(raw).pk == key.pk
    assert len(lookups) == 0, "the second process read the key again instead of using its cache"

    owner = UserFactory()
    MembershipFactory(workspace=workspace, user=owner, role=Role.OWNER)
    browser = Client()
    browser.force_login(owner)
    revoked = browser.post(reverse("dashboard:api_key_revoke", args=[workspace.slug, key.pk]))
    assert revoked.status_code in (200, 302)
    assert ApiKey.objects.get(pk=key.pk).revoked_at is not None

    assert wait_until(lambda: refused(other, raw), 1.0), "another process still accepted the revoked key after 1 s"


def test_the_process_that_revokes_refuses_the_key_at_once(workspace, require_redis, settings, api):
    settings.REDIS_URL = require_redis
    key = ApiKey.objects.get(workspace=workspace)
    assert api.get("/api/v1/integrations/connectors").status_code == 200
    assert wait_until(lambda: key_cache.subscribed, 10)
    assert api.get("/api/v1/integrations/connectors").status_code == 200
    assert api.get("/api/v1/integrations/connectors").status_code == 200  # served from the cache
    from workspaces.services import Actor, api_key_revoke

    api_key_revoke(api_key=key, actor=Actor.system())
    assert api.get("/api/v1/integrations/connectors").status_code == 401


def test_a_workspace_change_is_seen_by_another_process(workspace, other):
    _, raw = api_key_create(workspace=workspace, name="agent")
    other.authenticate(raw)
    assert wait_until(lambda: other.subscribed, 10)
    assert other.authenticate(raw).workspace.name == "Acme"
    workspace.name = "Acme Renamed"
    workspace.save()
    assert wait_until(lambda: other.authenticate(raw).workspace.name == "Acme Renamed", 1.0)


def test_nothing_is_cached_without_redis(workspace, settings):
    settings.REDIS_URL = ""
    _, raw = api_key_create(workspace=workspace, name="agent")
    cache = KeyCache()
    cache.authenticate(raw)
    with CaptureQueriesContext(connection) as lookups:
        cache.authenticate(raw)
    assert len(lookups) >= 1
