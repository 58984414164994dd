"""Contract checks: every request a manifest builds, validated by openapi-core against the vendor's own OpenAPI
description (tests/contracts/specs, vendored by tools/fetch_contracts.py; sources and versions in the README there).

For each checked service and each operation, the engine sends the operation's request to a loopback recorder twice:
with the params of the hand-written cases in tests/catalog_depth where the operation has them, and with a value for
every param it declares. Each request must be valid for the description (method, path, parameter names and types,
required body fields). An operation whose path the description lacks is listed below: a new one fails the test, so
a gap is a decision, never a silent skip. The same holds for a known mismatch with the description.

Services not checked here, and why: docs/catalog.md ("Contract checks") and tests/contracts/specs/README.md.
"""

from __future__ import annotations

import re

import pytest

from connectors.catalog import build_manifest
from tests.catalog_depth.conftest import Recorder
from tests.engine.conftest import RAW, point_at

from .checker import Outcome, Service, check, description, every_param, send, table_cases, vendor_request

SERVICES = {
    "github": Service(
        "github",
        ("github",),
        {"personal_access_token": "ghp_contract_4242"},
        case_modules=("tests.catalog_depth.test_operations",),
    ),
    "stripe": Service(
        "stripe",
        ("stripe",),
        {"api_key": "sk_test_contract_4242"},
        case_modules=("tests.catalog_depth.test_operations",),
    ),
    "asana": Service(
        "asana",
        ("asana",),
        {"personal_access_token": "2/contract/4242"},
        case_modules=("tests.catalog_depth.test_asana",),
    ),
    "jira": Service(
        "jira",
        ("jira",),
        {"email": "ada@example.com", "api_token": "jira_contract_4242"},
        # The description's server; the engine fills https://{config.site} with it.
        config={"site": "your-domain.atlassian.net"},
        case_modules=("tests.catalog_depth.test_jira",),
    ),
    "google-sheets": Service(
        "google-sheets",
        ("google-sheets", "google-drive"),
        {"client_id": "id", "client_secret": "secret", "refresh_token": "r", "access_token": "ya29.contract"},
        case_modules=("tests.catalog_depth.test_google_sheets",),
    ),
}

# Operations whose path (or method) the description does not have, with the reason.
NOT_IN_DESCRIPTION: dict[str, set[str]] = {
    # GitHub's GraphQL API (POST /graphql) is not part of its REST description.
    "github": {
        "discussions.get",
        "discussions.list",
        "discussions.search",
        "project_items.list",
        "projects.get",
        "projects.list",
    },
    "stripe": set(),
    "asana": set(),
    # The description is Atlassian's from before GET /rest/api/3/search/jql (the enhanced JQL search that replaced
    # GET /rest/api/3/search in 2025); tests/catalog_depth covers it against a loopback stand-in.
    "jira": {"issues.search"},
    "google-sheets": set(),
}

# Differences between a manifest's request and the description, as regexes over "entity.action: problem" lines.
# Each is either a known flaw of the description (said so) or a manifest fix for its owner; listed so that a new one
# fails, and one that goes away must be removed here.
KNOWN_MISMATCHES: dict[str, set[str]] = {
    "github": set(),
    "stripe": {
        # Stripe's own libraries send DELETE params in the query string; the description lists them as a form body.
        r"subscriptions\.delete: query parameter '(invoice_now|prorate)' is not in the description",
        # Our params schema is looser than Stripe's for nested line items: it does not require
        # adjustable_quantity.enabled or price_data.currency (Stripe answers 400 instead of our 422). Manifest fix.
        r"checkout_sessions\.create: body line_items\.0\.(adjustable_quantity: 'enabled'|price_data: 'currency') "
        r"is a required property",
    },
    "asana": {
        # Flaws of the description (Asana's, as of about 2023): its *Request schemas are allOf the response schema,
        # so a gid string for workspace/followers fails "object, read-only"; SectionRequest requires `project`,
        # which the path already names (and PUT /sections/{gid} never takes).
        r"projects\.(create|update): body data\.workspace: .*",
        r"workspace_tags\.create: body data\.followers.*",
        r"(project_sections\.create|sections\.update): body data: 'project' is a required property",
        # Query params the 2023 description lacks. Newer than it (Asana's reference has them now): custom_type,
        # completed_since on section tasks. To verify against Asana's current reference, else a manifest fix:
        # the rest.
        r"(projects|tasks)\.list: query parameter 'custom_type' is not in the description",
        r"section_tasks\.list: query parameter 'completed_since' is not in the description",
        r"tasks\.list: query parameter 'user_task_list' is not in the description",
        r"task_projects\.list: query parameter 'include_inherited_projects' is not in the description",
        r"task_stories\.list: query parameter '(created_after|resource_subtype|sort_ascending)' is not in the "
        r"description",
        r"users\.get: query parameter 'workspace' is not in the description",
        r"workspace_task_search\.list: query parameter '(limit|followers\.any)' is not in the description",
        r"workspaces\.search: query resource_type: 'actor' is not one of .*",
    },
    "jira": {
        # A flaw of the description: Jira documents and sends worklog times as 2021-01-17T12:34:00.000+0000, which
        # its own `format: date-time` (RFC 3339, colon in the offset) turns down.
        r"issue_worklogs\.create: body started: '.*' is not a 'date-time'",
        # Query params newer than the description (Atlassian's reference has them now); to verify, else a
        # manifest fix.
        r"issue_fields\.search: query parameter 'projectIds' is not in the description",
        r"issues\.update: query parameter '(expand|returnIssue)' is not in the description",
    },
    "google-sheets": set(),
}


@pytest.fixture
def recorder(httpserver) -> Recorder:
    recorder = Recorder()
    httpserver.expect_request(re.compile(".*")).respond_with_handler(recorder)
    return recorder


def run_service(slug: str, httpserver, recorder: Recorder) -> list[Outcome]:
    service = SERVICES[slug]
    real_manifest = build_manifest(RAW[slug])  # the vendor's real base URLs, which the description's servers match
    pointed = point_at(RAW[slug], httpserver.url_for(""))
    descriptions = [description(name) for name in service.descriptions]
    cases = table_cases(list(service.case_modules))
    outcomes = []
    for entity in real_manifest.entities.values():
        for action in entity.actions.values():
            operation = f"{action.entity}.{action.name}"
            widest = every_param(real_manifest, action)
            samples = [(params, False) for params in cases.get(operation, [])]
            if widest is None:
                outcomes.append(Outcome(operation, "-", None, ["no valid sample params could be made"]))
            else:
                samples.append((widest, True))
            for params, generated in samples:
                recorded = send(real_manifest, pointed, service, action, params, recorder)
                request = vendor_request(real_manifest, service, action, recorded)
                outcomes.append(check(descriptions, operation, request, generated=generated))
    return outcomes


@pytest.mark.parametrize("slug", sorted(SERVICES))
def test_every_request_matches_the_vendor_description(slug, httpserver, recorder) -> None:
    outcomes = run_service(slug, httpserver, recorder)
    missing = {o.operation for o in outcomes if o.description is None}
    assert missing == NOT_IN_DESCRIPTION[slug], (
        "operations whose path the vendor description lacks changed: "
        f"new {sorted(missing - NOT_IN_DESCRIPTION[slug])}, gone {sorted(NOT_IN_DESCRIPTION[slug] - missing)}. "
        "A new path may just be missing from the vendored cut: run tools/fetch_contracts.py first."
    )
    problems = {f"{o.operation}: {p}  [{o.sent}]" for o in outcomes for p in o.problems}
    known = KNOWN_MISMATCHES[slug]
    unexpected = sorted(p for p in problems if not any(re.fullmatch(k, p.split("  [")[0]) for k in known))
    assert not unexpected, "requests the vendor's description rejects:\n" + "\n".join(unexpected)
    unused = sorted(k for k in known if not any(re.fullmatch(k, p.split("  [")[0]) for p in problems))
    assert not unused, f"known mismatches that no longer happen (remove them): {unused}"
    validated = {o.operation for o in outcomes if o.description is not None}
    assert validated, "no operation was validated"


def test_the_vendored_descriptions_say_where_they_come_from() -> None:
    for service in SERVICES.values():
        for name in service.descriptions:
            source = description(name).source
            assert source["package"] and source["integrity"].startswith("sha512-") and source["licence"]
