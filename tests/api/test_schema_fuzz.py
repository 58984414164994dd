"""Schemathesis generates requests for every operation in our OpenAPI schema: no input gets a 500."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error

from config.wsgi import application
from tests.factories import ConnectorFactory, WorkspaceFactory, api_key_for

# Serving the schema needs no database, so it loads at collection time.
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


@pytest.fixture(autouse=True)
def keep_the_test_connection():
    """Calling the WSGI app directly fires request_finished, which closes the connection that holds the test's
    transaction; Django's test client disconnects the same handler for the same reason."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def bearer(db):
    workspace = WorkspaceFactory()
    ConnectorFactory(workspace=workspace)
    return api_key_for(workspace)


@pytest.mark.django_db
@schema.parametrize()
@hypothesis_settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_operation_answers_500(case, bearer, settings):
    settings.PATCHBAY_UPSTREAM_MAX_ATTEMPTS = 1
    settings.PATCHBAY_UPSTREAM_TIMEOUT = 0.5
    # Nothing reaches a real vendor: every host points at a closed loopback port.
    settings.PATCHBAY_CATALOG_OVERRIDES = {
        slug: {
            "base_url": "http://127.0.0.1:9",
            "token_url": "http://127.0.0.1:9/t",
            "authorization_url": "http://127.0.0.1:9/a",
            "revoke_url": "http://127.0.0.1:9/r",
        }
        for slug in (
            "github",
            "hubspot",
            "stripe",
            "linear",
            "notion",
            "slack",
            "jira",
            "zendesk-support",
            "salesforce",
            "google-sheets",
            "intercom",
            "asana",
        )
    }
    case.headers = {**(case.headers or {}), "Authorization": f"Bearer {bearer}"}
    case.call_and_validate(checks=[not_a_server_error])
