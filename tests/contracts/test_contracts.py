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

GOOGLE_OAUTH = {"client_id": "id", "client_secret": "secret", "refresh_token": "r", "access_token": "ya29.contract"}

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
        GOOGLE_OAUTH,
        case_modules=("tests.catalog_depth.test_google_sheets",),
    ),
    "gmail": Service(
        "gmail",
        ("gmail",),
        GOOGLE_OAUTH,
        case_modules=("tests.catalog_depth.test_gmail",),
    ),
    "google-drive": Service(
        "google-drive",
        ("google-drive",),
        GOOGLE_OAUTH,
        case_modules=("tests.catalog_depth.test_google_drive",),
    ),
    "google-search-console": Service(
        "google-search-console",
        ("google-search-console",),
        GOOGLE_OAUTH,
        case_modules=("tests.catalog_depth.test_google_search_console",),
    ),
    "google-analytics-data-api": Service(
        "google-analytics-data-api",
        ("google-analytics-data", "google-analytics-admin"),
        GOOGLE_OAUTH,
        case_modules=("tests.catalog_depth.test_google_analytics_data_api",),
    ),
    "sendgrid": Service(
        "sendgrid",
        ("sendgrid",),
        {"api_key": "SG.contract.4242"},
        case_modules=("tests.catalog_depth.test_sendgrid",),
    ),
    "twilio": Service(
        "twilio",
        ("twilio",),
        {"account_sid": "AC" + "0123456789abcdef" * 2, "auth_token": "twilio_contract_4242"},
        case_modules=("tests.catalog_depth.test_twilio",),
    ),
    "mailchimp": Service(
        "mailchimp",
        ("mailchimp",),
        {"api_key": "contract4242-us6"},
        # The description's server (its placeholder for every data centre); the engine fills {config.data_center}.
        config={"data_center": "server"},
        case_modules=("tests.catalog_depth.test_mailchimp",),
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
    "gmail": set(),
    # Uploads (POST /upload/drive/v3/files, multipart/related): the conversion keeps no /upload paths.
    "google-drive": {"files_upload.create"},
    "google-search-console": set(),
    "google-analytics-data-api": set(),
    "sendgrid": {
        # GET /v3/marketing/campaigns is not in sendgrid-oai's oai.json (it has singlesends and automations stats).
        # To verify against SendGrid's current reference.
        "campaigns.list",
    },
    "twilio": {
        # Not a gap in the description: the sample generator cannot make a value for its sid pattern
        # (an alternation, ^(SM|MM)...), so only the hand-written case is sent, and it is validated.
        "messages.get",
    },
    "mailchimp": set(),
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
    "gmail": {
        # A flaw of the conversion: Google's discovery document takes a JSON Draft/Message (`request`) or a raw
        # message upload on the /upload path; APIs.guru's OpenAPI lists only the message/* media types.
        r"(drafts\.(create|update)|drafts_send\.create|messages\.create): body: Request body validation error: "
        r"Content for the following mimetype not found: application/json\..*",
    },
    "google-drive": {
        # The same flaw of the conversion as Gmail's: files.create and files.update take a JSON File (metadata
        # only) or an upload; the OpenAPI lists only application/octet-stream.
        r"files\.(create|update): body: Request body validation error: Content for the following mimetype not "
        r"found: application/json\..*",
    },
    "google-search-console": {
        # Newer than the description (webmasters v3 discovery): searchAnalytics `type` (web, image, video, news,
        # discover, googleNews; it replaced searchType) and sitemapIndex on sitemaps.list. To verify, else a
        # manifest fix.
        r"search_analytics_[a-z_]+\.list: body field 'type' is not in the description",
        r"sitemaps\.list: query parameter 'sitemapIndex' is not in the description",
    },
    "google-analytics-data-api": {
        # A flaw of the description: limit and offset are int64, which Google's discovery types as JSON strings;
        # Google's JSON parsing takes numbers for them too (its own client libraries send numbers).
        r"[a-z_]+\.list: body (limit|offset): \d+ is not of type 'string'",
    },
    "sendgrid": {
        # Filters newer than (or missing from) sendgrid-oai's oai.json; to verify against SendGrid's reference,
        # else manifest fixes: `email` on the suppression lists, limit/offset on bounces, `ids` on segments 2.0.
        r"(blocks|bounces|global_suppressions|invalid_emails|spam_reports)\.list: query parameter 'email' is not "
        r"in the description",
        r"bounces\.list: query parameter '(limit|offset)' is not in the description",
        r"segments\.list: query parameter 'ids' is not in the description",
        # The description requires subject and content at the top level, which a dynamic template makes optional
        # (a flaw of the description); list_ids are UUIDs (the hand-written case uses "l-1": a test-data nit).
        r"mail\.send: body: '(content|subject)' is a required property",
        r"contacts\.upsert: body list_ids\.0: 'l-1' is not a 'uuid'",
        # Our params schemas are looser than SendGrid's for nested objects: they do not require contacts[].email,
        # from/reply_to(.email), personalizations[].to, content[].type/value, attachments[].content/filename,
        # asm.group_id, and take custom_args as an object (SendGrid: string values). Manifest fixes (SendGrid
        # answers 400 instead of our 422).
        r"contacts\.upsert: body contacts\.0: 'email' is a required property",
        r"mail\.send: body (asm|attachments\.0|content\.0|from|personalizations\.0|reply_to|reply_to_list\.0): "
        r"'[a-z_]+' is a required property",
        r"mail\.send: body custom_args: .* is not of type 'string'",
    },
    "twilio": {
        # Twilio's range filters (DateSent>, StartTime>, ...) are dates or date-times on the wire; the description
        # types them all date-time, Twilio's reference shows YYYY-MM-DD. A flaw of the description.
        r"(calls|messages|recordings)\.list: query [A-Za-z]+[<>]: '\d{4}-\d{2}-\d{2}' is not a 'date-time'",
        # The sample generator's made-up SIDs ("x1") are shorter than the description's minLength 34.
        r"(calls\.list: query ParentCallSid|incoming_phone_numbers\.create: body [A-Za-z]+Sid): 'x1' is too short",
        # Manifest fix (to verify): EmergencyEnabled is not a filter of GET .../Addresses.json in Twilio's description.
        r"addresses\.list: query parameter 'EmergencyEnabled' is not in the description",
        # See NOT_IN_DESCRIPTION: no generated sample for messages.get (its hand-written case is validated).
        r"messages\.get: no valid sample params could be made",
    },
    "mailchimp": {
        # Newer than the description (3.0.55) or a manifest fix, to verify against Mailchimp's current reference:
        # include_resend_shortcut_eligibility on campaigns, fields/exclude_fields on tag-search, `tags` on PUT
        # /lists/{id}/members/{hash} (the description has tags on POST /members only).
        r"campaigns\.(get|list): query parameter 'include_resend_shortcut_eligibility' is not in the description",
        r"tags\.list: query parameter '(fields|exclude_fields)' is not in the description",
        r"list_members\.upsert: body field 'tags' is not in the description",
    },
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
