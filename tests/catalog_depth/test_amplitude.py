"""Every Amplitude operation against a loopback stand-in that answers as Amplitude's API docs
(amplitude.com/docs/apis/analytics: Dashboard REST, Chart Annotations, Behavioral Cohorts) document.

Each case is written from Amplitude's docs, not from the manifest: the request (GET, path under /api, query with
YYYYMMDD dates; the project's API key and secret key as HTTP Basic) and the answer: `{"data": {"series", "seriesMeta",
"xValues"}}` for the user and session charts, `{"data": [...]}` for the event and annotation lists, `{"data": {...}}`
for one annotation, `{"cohorts": [...]}` for the cohort list and the cohort object for one cohort. Nothing here is
paginated.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest

from connectors.catalog.params import validate_params
from connectors.engine import Limits, execute_operation
from connectors.validation import validate_replication_config
from core.errors import InvalidInput, UpstreamError
from tests.engine.conftest import RAW, point_at

from .conftest import query_of, reference_operations

API_KEY, SECRET = "amp_depth_key_4242", "amp_depth_secret_4242"
LIMITS = Limits(max_attempts=1)
CHART = {"data": {"series": [[12, 15]], "seriesMeta": ["All users"], "xValues": ["2026-01-01", "2026-01-02"]}}
ONE_ANNOTATION = {"data": {"id": 42, "label": "v2 release", "date": "2026-01-02"}}
COHORT = {"id": "1a2b3c", "name": "Power users", "size": 1200}

# (entity, action, params, path, expected query, answer, expected result)
AMPLITUDE_CASES: list[tuple[str, str, dict[str, Any], str, dict[str, str], Any, Any]] = [
    ("active_users", "list", {"start": "20260101", "end": "20260131", "m": "new", "i": 7, "g": "country"},
     "/api/2/users", {"start": "20260101", "end": "20260131", "m": "new", "i": "7", "g": "country"}, CHART,
     CHART["data"]),
    ("annotations", "get", {"annotation_id": 42}, "/api/3/annotations/42", {}, ONE_ANNOTATION,
     ONE_ANNOTATION["data"]),
    ("annotations", "list", {}, "/api/2/annotations", {}, {"data": [{"id": 1}, {"id": 2}]}, [{"id": 1}, {"id": 2}]),
    ("average_session_length", "list", {"start": "20260101", "end": "20260107"}, "/api/2/sessions/average",
     {"start": "20260101", "end": "20260107"}, CHART, CHART["data"]),
    ("cohorts", "get", {"cohort_id": "1a2b3c"}, "/api/3/cohorts/1a2b3c", {}, COHORT, COHORT),
    ("cohorts", "list", {"includeSyncInfo": True}, "/api/3/cohorts", {"includeSyncInfo": "true"},
     {"cohorts": [COHORT]}, [COHORT]),
    ("events_list", "list", {}, "/api/2/events/list", {}, {"data": [{"name": "Sign up", "totals": 3}]},
     [{"name": "Sign up", "totals": 3}]),
]  # fmt: skip


def _run(httpserver, entity: str, action: str, params: dict[str, Any]):
    return execute_operation(
        manifest=point_at(RAW["amplitude"], httpserver.url_for("/api")),
        credentials={"api_key": API_KEY, "secret_key": SECRET},
        config={},
        entity=entity,
        action=action,
        params=params,
        limits=LIMITS,
    )


def test_every_reference_operation_exists_under_its_name_and_is_covered_here(manifests) -> None:
    manifest = manifests["amplitude"]
    ours = {f"{entity}.{action}" for entity, actions in manifest.operations().items() for action in actions}
    assert ours == {f"{c[0]}.{c[1]}" for c in AMPLITUDE_CASES}, "a manifest operation without a stand-in case here"
    assert manifest.definition_id == "fa9f58c6-2d03-4237-aaa4-07d75e0c1396"
    reference = reference_operations("amplitude")
    if reference is not None:
        assert reference <= ours


@pytest.mark.parametrize(
    ("entity", "action", "params", "path", "expected", "answer", "result"),
    AMPLITUDE_CASES,
    ids=[f"{c[0]}.{c[1]}" for c in AMPLITUDE_CASES],
)
def test_amplitude_operation(httpserver, vendor, entity, action, params, path, expected, answer, result) -> None:
    vendor.answer(answer)
    outcome = _run(httpserver, entity, action, params)
    request = vendor.last
    assert (request.method, request.path) == ("GET", path)
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(f"{API_KEY}:{SECRET}".encode()).decode()
    assert query_of(request) == expected
    assert API_KEY not in request.query_string.decode()
    assert outcome.result == result
    assert (outcome.has_next_page, outcome.end_cursor) == (False, None)


def test_the_data_region_picks_the_host(manifests) -> None:
    amplitude = manifests["amplitude"]
    assert amplitude.base_url == "https://{config.api_host}/api"
    assert amplitude.config_defaults["api_host"] == "amplitude.com"
    eu = {"api_host": "analytics.eu.amplitude.com"}
    assert validate_replication_config(amplitude, eu) == eu
    with pytest.raises(InvalidInput):
        validate_replication_config(amplitude, {"api_host": "analytics.amplitude.com"})


def test_params_follow_amplitudes_docs(manifests) -> None:
    amplitude = manifests["amplitude"]
    assert validate_params(amplitude, "active_users", "list", {"start": "2026-01-01", "end": "20260131"})
    assert validate_params(amplitude, "active_users", "list", {"start": "20260101"})
    assert validate_params(amplitude, "active_users", "list", {"start": "20260101", "end": "20260131", "i": 14})
    assert validate_params(amplitude, "cohorts", "get", {"cohort_id": "../x"})
    assert not validate_params(amplitude, "average_session_length", "list", {"start": "20260101", "end": "20260102"})


def test_a_bad_key_is_credentials_rejected_and_429_is_rate_limited(httpserver, vendor) -> None:
    vendor.answer({"error": {"message": "Invalid API key"}}, status=401)
    with pytest.raises(UpstreamError) as caught:
        _run(httpserver, "events_list", "list", {})
    assert caught.value.code == "credentials_rejected"
    vendor.answer({"error": {"message": "Too many concurrent requests"}}, status=429, headers={"Retry-After": "1"})
    with pytest.raises(UpstreamError) as caught:
        _run(httpserver, "events_list", "list", {})
    assert caught.value.code == "rate_limited"
