"""WCAG 2.1 A/AA on every page: axe-core (npm, installed by `make test`) injected into each dashboard and admin page,
at desktop and phone widths, with data and with validation errors shown; plus a keyboard-only walk through adding
a connector that checks where focus lands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.conftest import require

AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
WIDTHS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
SECRET = "ghp_A11Y_SENTINEL_0123456789"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def axe_source() -> str:
    require(AXE.exists(), "axe-core (npm install in tests/browser; `make test` does it)")
    return AXE.read_text()


def violations(page, axe_source: str) -> list[dict]:
    page.add_script_tag(content=axe_source)
    result = page.evaluate(
        """async (tags) => {
            const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                          nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}));
        }""",
        WCAG_21_AA,
    )
    return result


@pytest.fixture
def populated(owner):
    """A workspace as ops staff see it after a week: connectors, executions (some failed), keys, members, audit."""
    from connectors.models import ConnectorDefinition, Execution, ExecutionStatus
    from connectors.oauth.services import oauth_app_upsert
    from connectors.services import connector_create
    from tests.factories import MembershipFactory, UserFactory
    from webhooks.models import WebhookAttempt, WebhookMessage
    from webhooks.services import webhook_endpoint_create
    from workspaces.models import Role
    from workspaces.services import Actor, api_key_create, application_credential_create

    user, workspace = owner
    github = connector_create(
        workspace=workspace,
        definition=ConnectorDefinition.objects.get(slug="github"),
        name="GitHub prod",
        credentials={"personal_access_token": SECRET},
        replication_config={"repositories": ["acme/api"]},
        auth_scheme="pat",
        actor=Actor(user=user),
    )
    connector_create(
        workspace=workspace,
        definition=ConnectorDefinition.objects.get(slug="stripe"),
        name="Stripe live",
        credentials={"api_key": "sk_test_a11y"},
        actor=Actor(user=user),
    )
    for i, status in enumerate([ExecutionStatus.SUCCESS, ExecutionStatus.ERROR, ExecutionStatus.SUCCESS]):
        Execution.objects.create(
            workspace=workspace,
            connector=github,
            entity="issues",
            action="list",
            params={"owner": "acme", "repo": "api"},
            status=status,
            result=[{"number": i}] if status == ExecutionStatus.SUCCESS else None,
            error_code="" if status == ExecutionStatus.SUCCESS else "rate_limited",
            error_message="" if status == ExecutionStatus.SUCCESS else "GitHub rate limit reached.",
            duration_ms=120 + i,
            attempts=1,
        )
    api_key_create(workspace=workspace, name="agents", connectors=["github"], read_only=True)
    application_credential_create(workspace=workspace, name="airbyte agent", agent_only=True)
    hook, _ = webhook_endpoint_create(
        workspace=workspace, url="https://hooks.example.com/patchbay", actor=Actor(user=user)
    )
    message = WebhookMessage.objects.create(
        endpoint=hook,
        workspace=workspace,
        event_type="connector.needs_reauth",
        payload={"type": "connector.needs_reauth", "data": {}},
        status="failed",
        attempts=3,
        last_status_code=500,
    )
    WebhookAttempt.objects.create(message=message, status_code=500, duration_ms=12)
    oauth_app_upsert(
        workspace=workspace,
        definition=ConnectorDefinition.objects.get(slug="hubspot"),
        client_id="hubspot-client",
        client_secret="hubspot-secret",
        scopes="crm.objects.contacts.read",
        actor=Actor(user=user),
    )
    MembershipFactory(user=UserFactory(username="victor"), workspace=workspace, role=Role.VIEWER)
    user.is_staff = user.is_superuser = True
    user.save()
    from connect.services import connect_session_create

    _, token = connect_session_create(
        workspace=workspace, end_user_id="u_a11y", allowed_connector_types=["github", "stripe"], actor=Actor(user=user)
    )
    return {
        "workspace": workspace,
        "github": github,
        "execution": Execution.objects.filter(status="error").first(),
        "connect_token": token,
    }


def pages(data: dict) -> dict[str, str]:
    ws = "/w/acme"
    github = data["github"].pk
    return {
        "connectors": f"{ws}/",
        "catalog": f"{ws}/connectors/new/",
        "new-github": f"{ws}/connectors/new/github/",
        "connector-detail": f"{ws}/connectors/{github}/",
        "connector-edit": f"{ws}/connectors/{github}/edit/",
        "connector-delete": f"{ws}/connectors/{github}/delete/",
        "executions": f"{ws}/executions/",
        "execution-detail": f"{ws}/executions/{data['execution'].pk}/",
        "members": f"{ws}/members/",
        "api-keys": f"{ws}/api-keys/",
        "oauth-apps": f"{ws}/oauth-apps/",
        "webhooks": f"{ws}/webhooks/",
        "connect-links": f"{ws}/connect/",
        "hosted-connect-choose": f"/connect/{data['connect_token']}/",
        "hosted-connect-form": f"/connect/{data['connect_token']}/github/",
        "audit": f"{ws}/audit/",
        "workspace-new": "/workspaces/new/",
        "password": "/accounts/password/",
        "admin-index": "/admin/",
        "admin-connectors": "/admin/connectors/connector/",
        "admin-connector": f"/admin/connectors/connector/{github}/change/",
        "admin-executions": "/admin/connectors/execution/",
        "admin-execution": f"/admin/connectors/execution/{data['execution'].pk}/change/",
        "admin-audit": "/admin/workspaces/auditevent/",
    }


def _report(found: dict[str, list[dict]]) -> str:
    return json.dumps({k: v for k, v in found.items() if v}, indent=1)


@pytest.mark.parametrize("width", list(WIDTHS))
def test_every_page_has_no_wcag_violations(browser, live_server, populated, axe_source, width, require_chromium):
    context = browser.new_context(viewport=WIDTHS[width])
    page = context.new_page()
    try:
        sign_in(page, live_server)
        found: dict[str, list[dict]] = {}
        for name, path in pages(populated).items():
            response = page.goto(f"{live_server.url}{path}")
            assert response is not None and response.status == 200, f"{name}: {path} answered {response.status}"
            found[name] = violations(page, axe_source)
        # With validation errors shown: GitHub without repositories.
        page.goto(f"{live_server.url}/w/acme/connectors/new/github/")
        page.fill("#f-name", "Broken")
        page.get_by_role("button", name="Create connector").click()
        expect(page.locator("[data-error-summary]")).to_be_visible()
        found["new-github-errors"] = violations(page, axe_source)
        context.clear_cookies()
        page.goto(f"{live_server.url}/accounts/login/")
        found["login"] = violations(page, axe_source)
        page.fill("#id_username", "olivia")
        page.fill("#id_password", "wrong password")
        page.click("button[type=submit]")
        found["login-error"] = violations(page, axe_source)
    finally:
        context.close()
    assert not any(found.values()), _report(found)


def test_adding_a_connector_by_keyboard_alone(page, live_server, owner, require_chromium):
    """Tab to every control, submit with Enter: errors first (focus moves to the summary), then success."""
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/w/acme/connectors/new/stripe/")
    page.locator("#f-name").focus()
    page.keyboard.type("Stripe by keyboard")
    page.keyboard.press("Enter")  # no API key yet: the form comes back with errors
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    assert summary.get_attribute("role") == "alert" or summary.get_attribute("aria-live")
    # From the summary, the first error link takes focus to its field.
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    focused = page.evaluate("document.activeElement.name")
    assert focused and "api_key" in focused
    page.keyboard.type("sk_test_keyboard_only")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/w/acme/connectors/*/")
    expect(page.locator("h1")).to_contain_text("Stripe by keyboard")


def test_a_one_field_form_puts_focus_on_the_invalid_field(page, live_server, owner, require_chromium):
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/w/acme/api-keys/")
    # A name of spaces passes the browser's own `required` check and fails Patchbay's.
    page.locator("#k-name").fill("   ")
    page.locator("#k-name").press("Enter")
    expect(page.locator("#k-name[aria-invalid=true]")).to_be_focused()
