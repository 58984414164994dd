"""Playwright (sync API) driving Debian's chromium against pytest-django's live server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; the live server's DB access is not async code.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PASSWORD = "correct horse battery staple"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="package")
def browser(request) -> Iterator:
    from tests.conftest import chromium_path, require

    path = chromium_path()
    require(path is not None, "Chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, require_chromium) -> Iterator:
    context = browser.new_context(viewport={"width": 1366, "height": 900}, device_scale_factor=1)
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def shot(page):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(name: str, *, full_page: bool = True) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.evaluate("window.scrollTo(0, 0)")  # the sidebar is sticky: capture it where a reader first sees it
        page.wait_for_timeout(250)  # let toasts and swaps settle
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return take


@pytest.fixture
def owner(transactional_db):
    from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory
    from workspaces.models import Role

    user = UserFactory(username="olivia", email="olivia@acme.example")
    workspace = WorkspaceFactory(name="Acme Operations", slug="acme")
    MembershipFactory(user=user, workspace=workspace, role=Role.OWNER)
    return user, workspace


def sign_in(page, live_server, username: str = "olivia") -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


# The loopback OAuth authorization server (tests/oauth_server), shared by the session.
from tests.oauth_server.fixture import oauth_server  # noqa: E402, F401


@pytest.fixture
def oauth_provider(live_server, owner, settings, oauth_server):  # noqa: F811
    """The loopback OAuth server as the `oauthtest` type, with the owner's workspace's OAuth app registered and the
    live server's callback allowed."""
    from connectors.models import ConnectorDefinition
    from connectors.oauth.services import oauth_app_upsert
    from tests.oauth.conftest import use_oauthtest_type
    from workspaces.services import Actor

    server = oauth_server
    server.reset()
    # The live server is "localhost" and the provider 127.0.0.1, so their session cookies never collide.
    use_oauthtest_type(settings, server, live_server.url)
    server.add_redirect_uri(f"{live_server.url}/oauth/callback")
    oauth_app_upsert(
        workspace=owner[1],
        definition=ConnectorDefinition.objects.get(slug="oauthtest"),
        client_id=server.client_id,
        client_secret=server.client_secret,
        scopes="read",
        actor=Actor.system(),
    )
    yield server
    server.reset()


def consent_as_alice(page) -> None:
    """Sign in at the loopback OAuth server and approve, in whichever page or popup shows it."""
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "alice-password")
    page.click("input[type=submit]")
    allow = page.locator("input[name=allow]")
    if allow.count():
        allow.click()
