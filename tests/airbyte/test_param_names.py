"""Parameter names: Patchbay accepts every name Airbyte's typed connectors send for the 11 services at parity.

Airbyte's SDK (airbyte-agent-sdk, in .venv-airbyte) ships a typed connector per service whose methods put the
endpoint's path params, query params and body fields in `params` under the names of Airbyte's connector model.
tests/airbyte/dump_models.py loads those models in the SDK's own virtualenv and prints, per `entity.action`, the
names and whether each is required; nothing of Airbyte's is stored in the repository. For every operation this test
then checks, through `validate_params` (aliases included), that:

- no name Airbyte may send is refused as an unknown field (pagination tokens under the vendor's own names too:
  Stripe's `starting_after`, HubSpot's `after`, Notion's `start_cursor`, Asana's `offset`, ...);
- a call carrying only Airbyte's required names misses none of our required params;
- where a name Airbyte sends is the vendor's own cursor param, passing the previous page's `end_cursor` under it
  pages exactly as `cursor` does (same place in the request).

What is left is listed in KNOWN, each with its reason; a difference not listed, or a listed one that went away,
fails the test. Without the virtualenv the test skips (fails in CI), like the other tests in this folder.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from connectors.catalog.loader import BUILTIN_DIR, build_manifest, load_file
from connectors.catalog.manifest import Action, Manifest
from connectors.catalog.params import CURSOR_PARAM, UnknownOperation, validate_params
from tests.airbyte import test_airbyte_sdk as sdk_tests
from tests.conftest import require

DUMP = Path(__file__).with_name("dump_models.py")
# Patchbay slug -> the name of Airbyte's typed connector package.
SERVICES = {
    "stripe": "stripe",
    "github": "github",
    "hubspot": "hubspot",
    "linear": "linear",
    "notion": "notion",
    "slack": "slack",
    "jira": "jira",
    "salesforce": "salesforce",
    "intercom": "intercom",
    "asana": "asana",
    "zendesk-support": "zendesk_support",
}

UNKNOWN = "unknown field"
REQUIRED = "required here, optional in Airbyte's method"
CONFLICT = "two of Airbyte's names are one param here"
NO_OPERATION = "no such operation"

# Known, justified differences: service -> `entity.action` (or "*": every operation where it occurs) -> name (or "*"
# for the whole operation) -> (kind, why).
_GITHUB_REST = "Patchbay reads GitHub through REST"
_ZENDESK_CURSOR = (
    "Patchbay pages Zendesk lists by cursor (page[size]/page[after]: pass `cursor`); Zendesk's numbered `page` is "
    "its offset pagination, which cannot be mixed with page[size] in one request"
)
_LINEAR_INPUT = (
    "Patchbay's Linear writes take Linear's own `input` object (IssueCreateInput, ...); Airbyte flattens its "
    "fields into params, and one static GraphQL document cannot take both shapes"
)
_CONTRACT = (
    "the vendor's current reference has it, but the API description CI validates every request against "
    "(tests/contracts) predates it, so adding it fails the contract check"
)
_RANGE = "downloads here answer the whole file (or its short-lived URL); byte ranges are not offered"
KNOWN: dict[str, dict[str, dict[str, tuple[str, str]]]] = {
    "stripe": {
        "subscriptions.create": {"items": (REQUIRED, "Stripe requires items to create a subscription")},
        "invoices.list": {"customer_account": (UNKNOWN, f"Accounts v2 filter: {_CONTRACT}")},
        "payment_intents.list": {"customer_account": (UNKNOWN, f"Accounts v2 filter: {_CONTRACT}")},
        "subscriptions.list": {
            "customer_account": (UNKNOWN, f"Accounts v2 filter: {_CONTRACT}"),
            "automatic_tax": (UNKNOWN, f"automatic_tax[enabled] filter: {_CONTRACT}"),
        },
    },
    "github": {
        "*": {
            "fields": (UNKNOWN, f"Airbyte's GraphQL field selection; {_GITHUB_REST} (use select_fields)"),
            "after": (UNKNOWN, f"Airbyte's GraphQL endCursor; {_GITHUB_REST}, paged by Link header: pass `cursor`"),
        },
        "issues.list": {"states": (UNKNOWN, f"GraphQL [OPEN, CLOSED] list; {_GITHUB_REST}: `state` open/closed/all")},
        "pull_requests.list": {"states": (UNKNOWN, f"GraphQL [OPEN, CLOSED, MERGED]; {_GITHUB_REST}: `state`")},
        "milestones.list": {"states": (UNKNOWN, f"GraphQL [OPEN, CLOSED] list; {_GITHUB_REST}: `state`")},
        "comments.get": {
            "id": (UNKNOWN, "Airbyte takes a GraphQL node id; REST reads a comment by owner, repo and comment_id"),
            "owner": (REQUIRED, "GET /repos/{owner}/{repo}/issues/comments/{comment_id}"),
            "repo": (REQUIRED, "GET /repos/{owner}/{repo}/issues/comments/{comment_id}"),
            "comment_id": (REQUIRED, "the numeric id (databaseId), not Airbyte's node id"),
        },
        "pr_comments.get": {
            "id": (UNKNOWN, "Airbyte takes a GraphQL node id; REST reads a comment by owner, repo and comment_id"),
            "owner": (REQUIRED, "GET /repos/{owner}/{repo}/pulls/comments/{comment_id}"),
            "repo": (REQUIRED, "GET /repos/{owner}/{repo}/pulls/comments/{comment_id}"),
            "comment_id": (REQUIRED, "the numeric id (databaseId), not Airbyte's node id"),
        },
        "organizations.list": {"username": (UNKNOWN, "ours lists the caller's organizations (GET /user/orgs)")},
        "repositories.list": {"username": (UNKNOWN, "ours lists the caller's repositories (GET /user/repos)")},
        "users.list": {"org": (UNKNOWN, "ours lists all GitHub users (GET /users); org members are not offered")},
    },
    "hubspot": {
        "associations.create": {
            "associationCategory": (UNKNOWN, "HubSpot v4 takes a `types` array of {associationCategory, ...}"),
            "associationTypeId": (UNKNOWN, "HubSpot v4 takes a `types` array of {..., associationTypeId}"),
            "types": (REQUIRED, "the v4 labelled-association body is an array; Airbyte flattens one item"),
        },
        # HubSpot's own search paging token (body `after`) is accepted on lists, but for searches
        # tests/catalog_depth/test_hubspot.py asserts it is refused in favour of `cursor`.
        **{
            f"{e}.search": {"after": (UNKNOWN, "refused on searches by an existing test: pass `cursor`")}
            for e in ("companies", "contacts", "deals", "tickets")
        },
    },
    "linear": {
        "issues.create": {
            **{n: (UNKNOWN, _LINEAR_INPUT) for n in ("teamId", "title", "description", "stateId", "priority")},
            "projectId": (UNKNOWN, _LINEAR_INPUT),
            "input": (REQUIRED, _LINEAR_INPUT),
        },
        "issues.update": {
            **{n: (UNKNOWN, _LINEAR_INPUT) for n in ("title", "description", "stateId", "priority", "assigneeId")},
            "projectId": (UNKNOWN, _LINEAR_INPUT),
            "id": (REQUIRED, "Linear needs the issue's id; Airbyte's method leaves it optional"),
            "input": (REQUIRED, _LINEAR_INPUT),
        },
        "projects.create": {
            **{n: (UNKNOWN, _LINEAR_INPUT) for n in ("name", "description", "teamIds", "leadId", "state")},
            **{n: (UNKNOWN, _LINEAR_INPUT) for n in ("startDate", "targetDate")},
            "input": (REQUIRED, _LINEAR_INPUT),
        },
        "projects.update": {
            **{n: (UNKNOWN, _LINEAR_INPUT) for n in ("name", "description", "leadId", "state")},
            **{n: (UNKNOWN, _LINEAR_INPUT) for n in ("startDate", "targetDate")},
            "id": (REQUIRED, "Linear needs the project's id; Airbyte's method leaves it optional"),
            "input": (REQUIRED, _LINEAR_INPUT),
        },
        "comments.create": {
            "issueId": (UNKNOWN, _LINEAR_INPUT),
            "body": (UNKNOWN, _LINEAR_INPUT),
            "input": (REQUIRED, _LINEAR_INPUT),
        },
        "comments.update": {
            "body": (UNKNOWN, _LINEAR_INPUT),
            "id": (REQUIRED, "Linear needs the comment's id; Airbyte's method leaves it optional"),
            "input": (REQUIRED, _LINEAR_INPUT),
        },
        "comments.list": {
            "issueId": (UNKNOWN, 'ours filters with Linear\'s CommentFilter: filter={"issue": {"id": {"eq": ...}}}'),
        },
    },
    "notion": {
        "data_sources.update": {
            "cover": (UNKNOWN, "Notion's Update a data source takes no cover (a database's cover is on the database)"),
            "description": (
                UNKNOWN,
                "not a body param of Notion's Update a data source (title, icon, properties, ...)",
            ),
        },
    },
    "slack": {
        "threads.list": {"ts": (REQUIRED, "conversations.replies requires ts (the thread's parent message)")},
        "ephemeral_messages.create": {"mrkdwn": (UNKNOWN, "chat.postEphemeral has no mrkdwn argument")},
        "scheduled_messages.create": {"mrkdwn": (UNKNOWN, "chat.scheduleMessage has no mrkdwn argument")},
    },
    "jira": {
        "issues.get": {"failFast": (UNKNOWN, _CONTRACT)},
        "issues.search": {"jql": (REQUIRED, "Jira's enhanced search refuses an unbounded query; a 422 says so first")},
        "issue_worklogs.create": {"started": (REQUIRED, "Jira: started is required when creating a worklog")},
        "issues_assignee.update": {
            "accountId": (REQUIRED, "Jira requires accountId in the body (null unassigns, '-1' is the default)"),
        },
    },
    "salesforce": {
        "attachments.download": {"range_header": (UNKNOWN, _RANGE)},
        "content_versions.download": {"range_header": (UNKNOWN, _RANGE)},
    },
    "intercom": {
        "companies.list": {
            "starting_after": (UNKNOWN, "Intercom's GET /companies pages by number (page, per_page), not by cursor"),
        },
    },
    "asana": {
        "attachments.download": {"range_header": (UNKNOWN, _RANGE)},
        "team_users.list": {"limit": (UNKNOWN, "Asana documents no limit here (at most 2,000 users, offset pages)")},
        "workspace_users.list": {"limit": (UNKNOWN, "Asana documents no limit here (offset pages)")},
        "workspace_task_search.list": {
            "offset": (UNKNOWN, "Asana's task search has no offset paging; it pages by created_at.before"),
        },
    },
    "zendesk-support": {
        "*": {"page": (UNKNOWN, _ZENDESK_CURSOR)},
        "attachments.download": {"range_header": (UNKNOWN, _RANGE)},
        "article_attachments.download": {"range_header": (UNKNOWN, _RANGE)},
        "article_attachments.list": {"per_page": (UNKNOWN, "ours returns the article's attachments in one page")},
        "sla_policies.list": {"per_page": (UNKNOWN, "Zendesk's SLA policies list is not paginated")},
        "ticket_forms.list": {"per_page": (UNKNOWN, "Zendesk's ticket forms list is not paginated")},
        "ticket_audits.list": {
            "ticket_id": (UNKNOWN, "ours lists every ticket's audits; one ticket's are ticket_audits.list_for_ticket"),
        },
        "tickets.list": {
            "sort_by": (UNKNOWN, "offset pagination only; with cursor pages Zendesk sorts by `sort` (-updated_at)"),
            "sort_order": (UNKNOWN, "offset pagination only; with cursor pages Zendesk sorts by `sort`"),
        },
        "ticket_comments.list": {
            "sort_order": (UNKNOWN, "offset pagination only; with cursor pages Zendesk sorts by `sort`"),
        },
    },
}


@pytest.fixture(scope="module")
def airbyte_models() -> dict[str, dict[str, Any]]:
    require(
        sdk_tests._sdk_importable(),
        "Airbyte's SDK at the version pinned in tests/airbyte/requirements.txt, in .venv-airbyte (`make test`)",
    )
    done = subprocess.run(
        [str(sdk_tests.AIRBYTE_PYTHON), str(DUMP), *SERVICES.values()],
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": os.environ.get("PATH", ""), "AIRBYTE_TELEMETRY_MODE": "disabled"},
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout)


def _manifest(slug: str) -> Manifest:
    return build_manifest(load_file(BUILTIN_DIR / f"{slug}.yaml").data)


def _names(spec: dict[str, Any]) -> set[str]:
    """Every name Airbyte's typed method may put in `params` (header params never go there)."""
    return {*spec["path"], *spec["query"], *spec["body"], *spec["sent"], *spec["graphql"]}


def _required(spec: dict[str, Any]) -> set[str]:
    """Names Airbyte's model requires, or its typed method takes without a default."""
    pairs = [*spec["path"].items(), *spec["query"].items(), *spec["body"].items(), *spec["sent"].items()]
    return {name for name, required in pairs if required}


def _cursor_slot(action: Action) -> tuple[str, str] | None:
    """(name, where) of the vendor's own cursor param the engine fills from `cursor`, for cursor and GraphQL pages."""
    pages = action.pagination
    if pages.type == "graphql":
        return pages.cursor_variable, "variables"
    if pages.type != "cursor":
        return None
    by_method = "body" if action.method not in ("GET", "DELETE") and action.body_kind != "none" else "query"
    return pages.cursor_param, pages.cursor_in or by_method


def _where(action: Action, name: str) -> str | None:
    prop = action.param_properties.get(name)
    if not isinstance(prop, dict):
        return None
    return prop.get("in") or ("variables" if action.body_kind == "graphql" else None)


def differences(manifest: Manifest, operations: dict[str, dict[str, Any]]) -> dict[tuple[str, str], str]:
    """(`entity.action`, name) -> kind, for every Airbyte name Patchbay does not take as Airbyte's method sends it."""
    found: dict[tuple[str, str], str] = {}
    for key, spec in sorted(operations.items()):
        entity, action_name = key.split(".")
        try:
            manifest.action(entity, action_name)
        except UnknownOperation:
            found[(key, "*")] = NO_OPERATION
            continue
        for name in sorted(_names(spec)):
            errors = validate_params(manifest, entity, action_name, {name: None})
            if any(e["field"] == f"params.{name}" and e["error_code"] == "unknown_field" for e in errors):
                found[(key, name)] = UNKNOWN
        errors = validate_params(manifest, entity, action_name, {name: None for name in _required(spec)})
        for error in errors:
            name = error["field"].removeprefix("params.")
            if error["error_code"] == "required" and "." not in name and "[" not in name:
                found[(key, name)] = REQUIRED
            elif error["error_code"] == "conflicting_fields":
                found[(key, name)] = CONFLICT
    return found


def expected(slug: str, found: dict[tuple[str, str], str]) -> dict[tuple[str, str], str]:
    """KNOWN for one service, its "*" entries spread over the operations where they occur."""
    out: dict[tuple[str, str], str] = {}
    for op, names in KNOWN.get(slug, {}).items():
        for name, (kind, _why) in names.items():
            if op != "*":
                out[(op, name)] = kind
                continue
            matches = [key for key, k in found.items() if key[1] == name and k == kind]
            assert matches, f"{slug}: the known difference '*' {name!r} no longer occurs; drop it from KNOWN"
            out.update(dict.fromkeys(matches, kind))
    return out


def test_the_typed_methods_send_only_what_the_models_describe(airbyte_models):
    """The dump is trustworthy: every service is there, and each typed method puts in `params` only names the model
    lists as path, query, body or GraphQL variables (`range_header` for downloads aside), never a header param."""
    assert set(airbyte_models) == set(SERVICES.values())
    for service, operations in airbyte_models.items():
        assert operations, service
        for key, spec in operations.items():
            described = {*spec["path"], *spec["query"], *spec["body"], *spec["graphql"], "range_header"}
            assert set(spec["sent"]) <= described, (service, key, set(spec["sent"]) - described)
            assert not set(spec["sent"]) & set(spec["header"]), (service, key)


@pytest.mark.parametrize("slug", list(SERVICES))
def test_patchbay_accepts_every_param_name_airbyte_sends(airbyte_models, slug):
    manifest = _manifest(slug)
    operations = airbyte_models[SERVICES[slug]]
    found = differences(manifest, operations)
    want = expected(slug, found)
    unexpected = {key: kind for key, kind in found.items() if key not in want}
    gone = {key: kind for key, kind in want.items() if found.get(key) != kind}
    assert not unexpected, f"{slug}: Airbyte's names Patchbay does not take: {sorted(unexpected.items())}"
    assert not gone, f"{slug}: known differences that no longer occur (drop them from KNOWN): {sorted(gone.items())}"
    # Something was checked: every operation, with every name Airbyte's method may send.
    assert sum(len(_names(spec)) for spec in operations.values()) > 0


@pytest.mark.parametrize("slug", list(SERVICES))
def test_vendor_cursor_names_page_like_cursor(airbyte_models, slug):
    """Where Airbyte sends the vendor's own cursor param (Stripe's starting_after, HubSpot's after, Notion's
    start_cursor, Jira's nextPageToken, Asana's offset, GraphQL's after), Patchbay declares it in the very place the
    engine puts `cursor`, so the previous page's end_cursor passed under either name fetches the same page."""
    manifest = _manifest(slug)
    checked = 0
    for key, spec in airbyte_models[SERVICES[slug]].items():
        try:
            action = manifest.action(*key.split("."))
        except UnknownOperation:
            continue
        slot = _cursor_slot(action)
        if slot is None or slot[0] not in _names(spec):
            continue
        name, where = slot
        known = {**KNOWN.get(slug, {}).get("*", {}), **KNOWN.get(slug, {}).get(key, {})}
        if known.get(name, ("",))[0] == UNKNOWN:
            continue  # a known difference, asserted by the test above
        checked += 1
        if name == CURSOR_PARAM and name not in action.param_properties:
            continue  # the vendor calls it `cursor` too (Slack): that is our own cursor param
        assert _where(action, name) == where, f"{slug} {key}: {name} goes to {_where(action, name)}, cursor to {where}"
    if slug in ("stripe", "hubspot", "notion", "jira", "asana", "linear", "intercom", "slack"):
        assert checked, f"{slug}: no operation pages under the vendor's cursor name"
