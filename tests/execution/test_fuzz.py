"""Hypothesis throws arbitrary JSON at the execute and create endpoints: every answer is a clear 4xx or a
success, never a 500, and nothing is half-stored."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from connectors.models import Connector, Execution

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
param_names = st.sampled_from(["limit", "email", "cursor", "owner", "repo", "state", "per_page", "x", ""])
params = st.dictionaries(param_names, json_values, max_size=5) | json_values
bodies = st.fixed_dictionaries(
    {},
    optional={
        "entity": st.sampled_from(["customers", "issues", "nope", ""]) | json_values,
        "action": st.sampled_from(["list", "get", "create", "zzz"]) | json_values,
        "params": params,
        "async": st.booleans() | json_values,
    },
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def stripe(api, httpserver, settings):
    settings.PATCHBAY_CATALOG_OVERRIDES = {"stripe": {"base_url": httpserver.url_for("").rstrip("/")}}
    return api.post(
        "/api/v1/integrations/connectors",
        {"connector_type": "stripe", "name": "S", "credentials": {"api_key": "sk_test_fuzz"}},
    ).json()["id"]


@hypothesis_settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies)
def test_execute_never_500s(api, stripe, httpserver, body):
    httpserver.expect_request("/v1/customers").respond_with_json({"object": "list", "data": [], "has_more": False})
    before = Execution.objects.count()
    response = api.client.post(
        f"/api/v1/integrations/connectors/{stripe}/execute",
        json.dumps(body),
        content_type="application/json",
        headers=api._headers(None),
    )
    assert response.status_code in (200, 202, 422), response.content[:300]
    payload = response.json()
    if response.status_code == 422:
        assert payload["message"] and isinstance(payload["errors"], list)
        assert Execution.objects.count() == before  # rejected before anything was recorded
    httpserver.clear()


@hypothesis_settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.fixed_dictionaries(
        {},
        optional={
            "connector_type": st.sampled_from(["github", "stripe", "hubspot", "nope"]) | json_values,
            "definition_id": st.uuids().map(str) | json_values,
            "name": st.text(max_size=300) | json_values,
            "credentials": st.dictionaries(
                st.sampled_from(["api_key", "personal_access_token", "option_title", "client_id", "repositories"]),
                json_values,
                max_size=4,
            )
            | json_values,
            "replication_config": st.dictionaries(
                st.sampled_from(["repositories", "api_url", "x"]), json_values, max_size=3
            )
            | json_values,
        },
    )
)
def test_create_never_500s(api, body):
    before = Connector.objects.count()
    response = api.client.post(
        "/api/v1/integrations/connectors", json.dumps(body), content_type="application/json", headers=api._headers(None)
    )
    assert response.status_code in (201, 422), response.content[:300]
    if response.status_code == 422:
        assert Connector.objects.count() == before
        assert all(set(e) == {"field", "message", "error_code"} for e in response.json()["errors"])
