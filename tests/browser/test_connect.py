"""An end user completes connect sessions in Chromium: an API-key form in a page, OAuth against the loopback
authorization server in a popup, an API-key form in an iframe (the outcome posted to the app's window), and the
pages for expired and forged links. The "app" is a loopback page on its own origin, in the workspace's allow-list."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.conftest import consent_as_alice

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STRIPE_KEY = "sk_test_BROWSER_CONNECT_7d21"
APP_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>The app</title></head><body>
<h1>The app</h1><button id="open" type="button">Connect an account</button><div id="slot"></div>
<script>
  window.received = [];
  const params = new URLSearchParams(location.search);
  const connectUrl = params.get("connect"), patchbay = new URL(connectUrl).origin;
  window.addEventListener("message", (e) => { if (e.origin === patchbay) window.received.push(e.data); });
  document.getElementById("open").onclick = () => window.open(connectUrl, "connect", "width=480,height=720");
  if (params.get("mode") === "iframe") {
    const frame = document.createElement("iframe");
    frame.src = connectUrl; frame.title = "Connect"; frame.width = 480; frame.height = 700;
    document.getElementById("slot").appendChild(frame);
  }
</script></body></html>"""


@pytest.fixture
def app(httpserver, owner):
    """The product's own page, on its own origin, which the workspace allows."""
    httpserver.expect_request("/app").respond_with_data(APP_PAGE, content_type="text/html")
    httpserver.expect_request("/connected").respond_with_data("<h1>Back in the app</h1>", content_type="text/html")
    origin = httpserver.url_for("/").rstrip("/")
    workspace = owner[1]
    workspace.allowed_redirect_origins = [origin]
    workspace.save()
    return origin


def session_for(workspace, types, **options):
    from connect.services import connect_session_create, connect_url
    from workspaces.services import Actor

    session, token = connect_session_create(
        workspace=workspace, end_user_id="u_browser", allowed_connector_types=types, actor=Actor.system(), **options
    )
    return session, connect_url(token)


def test_an_end_user_connects_stripe_in_a_page(page, live_server, owner, app, settings, shot) -> None:
    from connectors.models import Connector

    settings.PATCHBAY_PUBLIC_URL = live_server.url
    _, url = session_for(owner[1], ["stripe", "github"], redirect_url=f"{app}/connected")
    page.goto(url)
    expect(page.get_by_role("heading", name="Connect an account")).to_be_visible()
    page.get_by_role("link", name=re.compile("Stripe")).click()
    page.get_by_role("button", name="Connect Stripe").click()
    expect(page.locator(".error-summary")).to_contain_text("This field is required")  # empty key: 422, nothing lost
    page.get_by_label(re.compile("Secret key")).fill(STRIPE_KEY)
    shot("20-connect-page-form")
    page.get_by_role("button", name="Connect Stripe").click()
    page.wait_for_url(re.compile(re.escape(app) + r"/connected\?connector_id=[0-9a-f-]{36}$"))
    connector = Connector.objects.get(end_user_id="u_browser")
    assert connector.definition.slug == "stripe" and str(connector.pk) in page.url
    # Used once: the same link now says so.
    page.goto(url)
    expect(page.get_by_role("heading", name="This link was already used")).to_be_visible()


def test_an_end_user_connects_over_oauth_in_a_popup(page, live_server, owner, app, oauth_provider) -> None:
    from connectors.models import Connector

    _, url = session_for(owner[1], ["oauthtest"])
    page.goto(f"{app}/app?connect={url}")
    with page.expect_popup() as opened:
        page.get_by_role("button", name="Connect an account").click()
    popup = opened.value
    popup.get_by_role("button", name=re.compile("Connect OAuth Test Provider")).click()
    popup.wait_for_url(re.compile(re.escape(oauth_provider.base_url)))
    consent_as_alice(popup)
    page.wait_for_function("window.received.length > 0")
    message = page.evaluate("window.received[0]")
    assert message["type"] == "patchbay:connect" and message["status"] == "success"
    connector = Connector.objects.get(pk=message["connector_id"])
    assert connector.end_user_id == "u_browser" and connector.auth_scheme == "oauth"
    popup.wait_for_event("close")  # the popup closes itself after telling the app


def test_an_end_user_connects_inside_an_iframe(page, live_server, owner, app, settings) -> None:
    settings.PATCHBAY_PUBLIC_URL = live_server.url
    _, url = session_for(owner[1], ["stripe"], redirect_url=f"{app}/connected")
    page.goto(f"{app}/app?mode=iframe&connect={url}")
    frame = page.frame_locator("iframe[title=Connect]")
    frame.get_by_label(re.compile("Secret key")).fill(STRIPE_KEY)
    frame.get_by_role("button", name="Connect Stripe").click()
    expect(frame.get_by_role("heading", name="Connected")).to_be_visible()
    page.wait_for_function("window.received.length > 0")
    message = page.evaluate("window.received[0]")
    assert message["status"] == "success" and message["connector_type"] == "stripe"
    assert STRIPE_KEY not in frame.locator("body").inner_html()


def test_expired_and_forged_links_explain_themselves(page, live_server, owner, settings) -> None:
    from connect.models import ConnectSession

    settings.PATCHBAY_PUBLIC_URL = live_server.url
    session, url = session_for(owner[1], ["stripe"])
    ConnectSession.objects.filter(pk=session.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    page.goto(url)
    expect(page.get_by_role("heading", name="This link has expired")).to_be_visible()
    page.goto(f"{live_server.url}/connect/pbcs_not-a-real-token/")
    expect(page.get_by_role("heading", name="This link is not valid")).to_be_visible()


def test_an_origin_outside_the_allow_list_cannot_frame_the_page(page, live_server, owner, app, settings) -> None:
    settings.PATCHBAY_PUBLIC_URL = live_server.url
    workspace = owner[1]
    workspace.allowed_redirect_origins = ["https://app.example.com"]  # not the loopback app's origin
    workspace.save()
    _, url = session_for(workspace, ["stripe"])
    page.goto(f"{app}/app?mode=iframe&connect={url}")
    page.wait_for_timeout(1000)
    frame = next(f for f in page.frames if f != page.main_frame)
    assert frame.locator("input[type=password]").count() == 0  # Chromium refused to render it in the frame
