"""At phone width (390 px) the page comes first: the sidebar folds behind a "Menu" button, tables scroll inside
their own region instead of being cut off."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def phone(browser, require_chromium):
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    page = context.new_page()
    yield page
    context.close()


def wider_than_the_screen(page) -> list[str]:
    """The outermost elements that stick out past the right edge (for the failure message)."""
    return page.evaluate(
        """() => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
            .filter(e => !e.parentElement.closest('[role=region]'))
            .slice(0, 8).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"""
    )


def test_the_menu_folds_and_the_page_comes_first(phone, live_server, owner):
    sign_in(phone, live_server)
    phone.goto(f"{live_server.url}/w/acme/executions/")
    heading = phone.get_by_role("heading", level=1)
    expect(heading).to_be_in_viewport()
    assert heading.bounding_box()["y"] < 200
    nav_link = phone.get_by_role("link", name="API keys")
    expect(nav_link).to_be_hidden()
    toggle = phone.get_by_role("button", name="Menu")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(nav_link).to_be_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    phone.screenshot(path=str(SCREENSHOTS / "phone-menu-open.png"))
    nav_link.click()
    expect(phone.get_by_role("heading", level=1)).to_contain_text("API keys")
    expect(phone.get_by_role("link", name="Audit log")).to_be_hidden()  # folded again on the next page


def test_tables_scroll_inside_their_region(phone, live_server, owner):
    from workspaces.services import api_key_create

    _, workspace = owner
    api_key_create(workspace=workspace, name="a key with a rather long name for a phone screen")
    sign_in(phone, live_server)
    phone.goto(f"{live_server.url}/w/acme/api-keys/")
    region = phone.get_by_role("region", name="API keys")
    expect(region).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390, wider_than_the_screen(phone)
    phone.screenshot(path=str(SCREENSHOTS / "phone-api-keys.png"), full_page=True)
