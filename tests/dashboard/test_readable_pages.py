"""What ops staff read: times in their own time zone, audit details as words, an honest "Unknown" status, a real
heading on an execution, and forms that say what to do next (Connect without an OAuth app, secrets to paste again)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.template.loader import render_to_string
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from connectors.models import Connector, ConnectorStatus, Execution
from dashboard.middleware import zone_named
from tests.dashboard.conftest import make_execution
from workspaces.models import AuditEvent, Role

pytestmark = pytest.mark.django_db

TZ_MIDDLEWARE = "dashboard.middleware.BrowserTimezoneMiddleware"
WITH_TZ = [*settings.MIDDLEWARE, TZ_MIDDLEWARE] if TZ_MIDDLEWARE not in settings.MIDDLEWARE else settings.MIDDLEWARE
NOON_UTC = datetime(2026, 11, 30, 12, 0, 5, tzinfo=UTC)


@pytest.fixture
def noon_execution(github) -> Execution:
    execution = make_execution(github)
    Execution.objects.filter(pk=execution.pk).update(created_at=NOON_UTC, finished_at=NOON_UTC)
    execution.refresh_from_db()
    return execution


def client_in(members, zone: str | None) -> Client:
    client = Client()
    client.force_login(members[Role.OWNER].user)
    if zone is not None:
        client.cookies["tz"] = zone
    return client


@override_settings(MIDDLEWARE=WITH_TZ)
def test_times_are_shown_in_the_browsers_time_zone(ws, members, noon_execution):
    url = reverse("dashboard:execution_detail", args=[ws.slug, noon_execution.pk])
    tokyo = client_in(members, "Asia/Tokyo").get(url).content.decode()
    assert '<time datetime="2026-11-30T21:00:05+09:00" title="30 Nov 2026, 21:00:05 JST">' in tokyo
    encoded = client_in(members, "Asia%2FTokyo").get(url).content.decode()  # a percent-encoded cookie works too
    assert 'datetime="2026-11-30T21:00:05+09:00"' in encoded
    paris = client_in(members, "Europe/Paris").get(url).content.decode()
    assert 'datetime="2026-11-30T13:00:05+01:00"' in paris and "13:00:05 CET" in paris


@override_settings(MIDDLEWARE=WITH_TZ)
@pytest.mark.parametrize("cookie", [None, "", "Mars/Olympus_Mons", "../../etc/passwd", "/etc/localtime", "x" * 300])
def test_without_a_usable_zone_times_are_utc(ws, members, noon_execution, cookie):
    url = reverse("dashboard:execution_detail", args=[ws.slug, noon_execution.pk])
    html = client_in(members, cookie).get(url).content.decode()
    assert 'datetime="2026-11-30T12:00:05+00:00"' in html and "12:00:05 UTC" in html


def test_zone_names_only():
    assert zone_named("America/Argentina/Buenos_Aires") is not None
    assert zone_named("UTC") is not None
    for bad in ("", "..", "Europe/../../etc/passwd", "/usr/share/zoneinfo/UTC", "Europe/Nowhere", "a b"):
        assert zone_named(bad) is None, bad


@override_settings(MIDDLEWARE=WITH_TZ)
def test_hourly_charts_follow_the_viewers_hours(ws, members, github):
    from dashboard.selectors import execution_stats

    make_execution(github)
    kolkata = zone_named("Asia/Kolkata")
    # India is UTC+05:30: its hours start at :30 UTC, and the SQL buckets (TruncHour) follow the active zone.
    with timezone.override(kolkata):
        stats = execution_stats(workspace=ws)
    assert stats.since.astimezone(UTC).minute == 30 and stats.buckets[-1].total == 1
    html = client_in(members, "Asia/Kolkata").get(reverse("dashboard:executions", args=[ws.slug])).content.decode()
    this_hour = timezone.now().astimezone(kolkata).strftime("%H:00")
    assert f"<title>{this_hour}: 1</title>" in html  # the bar of the current local hour holds the run


def test_every_list_renders_times_as_time_elements(ws, owner_client, github, api_key, oauth_app, noon_execution):
    pages = ["connectors", "executions", "api_keys", "oauth_apps", "members", "audit"]
    for name in pages:
        html = owner_client.get(reverse(f"dashboard:{name}", args=[ws.slug]), {"range": "30d"}).content.decode()
        assert re.search(r'<time datetime="\d{4}-\d\d-\d\dT[^"]+" title="[^"]+">', html), name


def test_audit_details_are_readable_words(ws, owner_client, github):
    AuditEvent.objects.create(
        workspace=ws,
        action="connector.update",
        target_type="Connector",
        target_repr="GitHub prod",
        metadata={
            "changed": ["name", "replication_config"],
            "credential_fields": ["personal_access_token"],
            "from": "unknown",
            "to": "needs_attention",
            "reasons": {"base_url": "not https", "region": "eu"},
            "forced": True,
            "long": "x" * 400,
        },
    )
    html = owner_client.get(reverse("dashboard:audit", args=[ws.slug])).content.decode()
    assert "<dt>Changed</dt><dd>name, configuration</dd>" in html
    assert "<dt>Credential fields</dt><dd>personal_access_token</dd>" in html
    assert "<dt>From</dt><dd>Unknown</dd>" in html and "<dt>To</dt><dd>Needs attention</dd>" in html
    reasons = re.search(r"<dt>Reasons</dt><dd>([^<]*)</dd>", html).group(1)  # jsonb orders keys its own way
    assert sorted(reasons.split("; ")) == ["base_url: not https", "region: eu"]
    assert "<dt>Forced</dt><dd>yes</dd>" in html
    assert "x" * 400 in html  # never cut off
    for python in ("['", "{'", "True", "=["):
        assert python not in html.split("audit-results")[1], python


def test_unknown_status_is_a_neutral_badge_everywhere(ws, owner_client, github):
    Connector.objects.filter(pk=github.pk).update(status=ConnectorStatus.UNKNOWN, status_detail="")
    unknown = '<span class="badge badge-muted"><span class="dot" aria-hidden="true"></span>Unknown</span>'
    listing = owner_client.get(reverse("dashboard:connectors", args=[ws.slug])).content.decode()
    assert unknown in listing
    assert re.search(r'<option value="unknown"\s*>Unknown</option>', listing)
    filtered = owner_client.get(reverse("dashboard:connectors", args=[ws.slug]), {"status": "unknown"}).content.decode()
    assert "GitHub prod" in filtered
    detail = owner_client.get(reverse("dashboard:connector_detail", args=[ws.slug, github.pk])).content.decode()
    assert unknown in detail and "Nothing has proven these credentials yet." in detail
    assert "Healthy" not in detail


def test_connector_list_shows_no_scheme_keys(ws, owner_client, github):
    html = owner_client.get(reverse("dashboard:connectors", args=[ws.slug])).content.decode()
    assert "<small>GitHub</small>" in html and "· pat" not in html


def test_execution_detail_has_a_real_heading(ws, owner_client, execution):
    html = owner_client.get(reverse("dashboard:execution_detail", args=[ws.slug, execution.pk])).content.decode()
    heading = re.search(r"<h1>(.*?)</h1>", html, re.S).group(1)
    assert "users.me" in heading and 'class="mono"' not in heading


# --- Forms: the template parts; the views fill `oauth_app_configured` and the fields' `reenter` ---------------------


def connector_form_context(owner_client, ws, slug: str) -> dict:
    response = owner_client.get(reverse("dashboard:connector_new", args=[ws.slug, slug]))
    assert response.status_code == 200
    context = response.context[0] if isinstance(response.context, list) else response.context
    return context.flatten()


def test_connect_without_an_oauth_app_is_disabled_and_says_where_to_add_one(ws, owner_client):
    context = connector_form_context(owner_client, ws, "hubspot")
    context["oauth_app_configured"] = False
    html = render_to_string("dashboard/connectors/form.html", context)
    button = re.search(r'<button type="button" class="btn btn-primary btn-connect"[^>]*>', html).group(0)
    assert "disabled" in button and "hx-post" not in button
    assert "Sign-in with HubSpot isn't set up for this workspace yet." in html
    assert f'href="{reverse("dashboard:oauth_apps", args=[ws.slug])}?type=hubspot"' in html
    assert "PATCHBAY_OAUTH" not in html and "/api/v1" not in html
    assert '<details class="manual" open>' in html  # manual tokens are the way forward meanwhile
    context["oauth_app_configured"] = True
    enabled = render_to_string("dashboard/connectors/form.html", context)
    assert "hx-post" in re.search(r'<button type="button" class="btn btn-primary btn-connect"[^>]*>', enabled).group(0)


def test_connect_state_from_the_view(ws, owner_client, oauth_app):
    context = connector_form_context(owner_client, ws, "hubspot")
    if "oauth_app_configured" not in context:
        pytest.skip("dashboard/views/connectors.py does not pass oauth_app_configured yet")
    assert context["oauth_app_configured"] is True


def test_oauth_apps_page_starts_on_the_type_asked_for(ws, owner_client):
    from connectors.models import ConnectorDefinition

    hubspot = ConnectorDefinition.objects.get(slug="hubspot")
    html = owner_client.get(reverse("dashboard:oauth_apps", args=[ws.slug]), {"type": "hubspot"}).content.decode()
    assert f'<option value="{hubspot.pk}" selected>' in html


def secret_field(**extra) -> SimpleNamespace:
    values = {
        "key": "personal_access_token",
        "name": "credentials.personal_access_token",
        "id": "f-credentials-personal_access_token",
        "label": "Personal access token",
        "kind": "password",
        "required": True,
        "help": "",
        "placeholder": "",
        "value": "",
        "choices": [],
        "errors": [],
        "secret": True,
        "secret_is_set": False,
        "minimum": None,
        "maximum": None,
        "items": [],
        "reenter": False,
        "kept": False,
    }
    values.update(extra)
    return SimpleNamespace(**values)


def test_a_secret_that_was_not_kept_is_marked_for_re_entry():
    html = render_to_string("dashboard/partials/field.html", {"field": secret_field(reenter=True)})
    assert "needs-reentry" in html and "Paste this again" in html and 'placeholder="Paste it again"' in html
    assert 'value=""' in html
    kept = render_to_string("dashboard/partials/field.html", {"field": secret_field(kept=True)})
    assert "Your entry is kept, encrypted" in kept and "Paste this again" not in kept
    plain = render_to_string("dashboard/partials/field.html", {"field": secret_field()})
    assert "Paste this again" not in plain and "needs-reentry" not in plain
    assert "{#" not in plain and "#}" not in plain and "comment" not in plain  # template comments stay comments


def test_the_error_summary_lists_secrets_to_paste_again(ws, owner_client):
    context = connector_form_context(owner_client, ws, "github")
    context.update(has_errors=True, message="Some fields need attention.")
    context["credential_fields"] = [secret_field(reenter=True)]
    html = render_to_string("dashboard/connectors/form.html", context)
    summary = html.split("data-error-summary", 1)[1].split("</ul>", 1)[0]
    assert '<a href="#f-credentials-personal_access_token">Personal access token: paste it again' in summary


def test_failed_submit_marks_the_secret_from_the_view(ws, owner_client):
    url = reverse("dashboard:connector_new", args=[ws.slug, "github"])
    response = owner_client.post(
        url, {"name": "No repos", "auth_scheme": "pat", "credentials.personal_access_token": "ghp_typed_then_lost"}
    )
    assert response.status_code == 422
    assert "ghp_typed_then_lost" not in response.content.decode()
    fields = response.context["credential_fields"]
    if not any(hasattr(f, "reenter") or hasattr(f, "kept") for f in fields):
        pytest.skip("dashboard/schema_forms.py does not set SchemaField.reenter / .kept yet")
    token = next(f for f in fields if f.key == "personal_access_token")
    assert getattr(token, "reenter", False) or getattr(token, "kept", False)


def test_no_template_comment_reaches_a_page(ws, owner_client, github, execution, api_key, oauth_app):
    urls = [reverse(f"dashboard:{name}", args=[ws.slug]) for name in ("connectors", "executions", "audit", "api_keys")]
    urls += [
        reverse("dashboard:connector_new", args=[ws.slug, "hubspot"]),
        reverse("dashboard:connector_new", args=[ws.slug, "github"]),
        reverse("dashboard:connector_detail", args=[ws.slug, github.pk]),
        reverse("dashboard:execution_detail", args=[ws.slug, execution.pk]),
    ]
    for url in urls:
        html = owner_client.get(url).content.decode()
        assert "{#" not in html and "{% " not in html, url
