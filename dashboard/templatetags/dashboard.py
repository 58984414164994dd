from __future__ import annotations

from typing import Any

from django import template
from django.contrib.staticfiles import finders
from django.templatetags.static import static
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.timesince import timesince

from workspaces.models import Membership

register = template.Library()

CONNECTOR_STATUS = {
    "unknown": ("muted", "Unknown"),  # nothing has proven the credentials yet: neutral, neither good nor bad
    "healthy": ("ok", "Healthy"),
    "needs_attention": ("warn", "Needs attention"),
    "needs_reauth": ("bad", "Needs re-authorisation"),
}
EXECUTION_STATUS = {
    "success": ("ok", "Success"),
    "error": ("bad", "Error"),
    "running": ("info", "Running"),
    "pending": ("muted", "Pending"),
}


@register.simple_tag(takes_context=True)
def user_workspaces(context: template.Context) -> list[Membership]:
    request = context.get("request")
    if request is None or not request.user.is_authenticated:
        return []
    return list(Membership.objects.select_related("workspace").filter(user=request.user).order_by("workspace__name"))


@register.filter
def can(membership: Membership | None, role: str) -> bool:
    return bool(membership) and membership.allows(role)


@register.simple_tag
def connector_icon(definition: Any) -> str:
    slug = getattr(definition, "slug", "") or ""
    path = f"connectors/icons/{slug}.svg"
    return static(path if slug and finders.find(path) else "connectors/icons/generic.svg")


def _badge(kind: str, label: str) -> SafeString:
    return format_html(
        '<span class="badge badge-{}"><span class="dot" aria-hidden="true"></span>{}</span>', kind, label
    )


@register.simple_tag
def connector_status(status: str) -> SafeString:
    kind, label = CONNECTOR_STATUS.get(status, ("muted", status or "unknown"))
    return _badge(kind, label)


@register.simple_tag
def execution_status(status: str) -> SafeString:
    kind, label = EXECUTION_STATUS.get(status, ("muted", status or "unknown"))
    return _badge(kind, label)


@register.filter
def duration(ms: float | None) -> str:
    if ms is None or ms == "":
        return "—"
    if ms < 1000:
        return f"{round(ms)} ms"
    return f"{ms / 1000:.2f} s"


@register.filter
def thousands(value: Any) -> str:
    """12345 -> "12,345" (django.contrib.humanize is not installed)."""
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return str(value)


@register.filter
def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


@register.simple_tag(takes_context=True)
def nav_class(context: template.Context, *names: str) -> str:
    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    current = match.url_name if match else ""
    return "active" if current in names else ""


TIME_STYLES = {
    "date": lambda t: f"{t.day} {t:%b %Y}",
    "datetime": lambda t: f"{t.day} {t:%b %Y, %H:%M}",
    "seconds": lambda t: f"{t.day} {t:%b %Y, %H:%M:%S}",
}


@register.simple_tag
def timestamp(value: Any, style: str = "datetime") -> SafeString | str:
    """A moment as `<time datetime="...">`, shown in the viewer's time zone (dashboard.middleware activates the
    browser's zone, else UTC). `style`: "date", "datetime", "seconds" or "ago" ("3 minutes ago"); the tooltip
    always has the full local time with its zone."""
    if not value:
        return ""
    local = timezone.localtime(value)
    full = f"{TIME_STYLES['seconds'](local)} {local:%Z}"
    text = ago(value) if style == "ago" else TIME_STYLES.get(style, TIME_STYLES["datetime"])(local)
    return format_html('<time datetime="{}" title="{}">{}</time>', local.isoformat(timespec="seconds"), full, text)


@register.filter
def ago(value: Any) -> str:
    """'just now', '7 minutes ago', '3 days ago'."""
    if not value:
        return ""
    if (timezone.now() - value).total_seconds() < 60:
        return "just now"
    return f"{timesince(value, depth=1)} ago"


AUTH_KINDS = {"oauth2": "OAuth 2.0", "api_key": "API key", "basic": "Username and password", "bearer": "Token"}


@register.filter
def auth_kind(value: str) -> str:
    """A scheme's type as people say it ("OAuth 2.0", "API key"), never the manifest's key."""
    return AUTH_KINDS.get(value, str(value).replace("_", " ").capitalize())


# --- Audit details ----------------------------------------------------------------------------------------------

FIELD_WORDS = {
    "replication_config": "configuration",
    "credentials": "credentials",
    "auth_scheme": "auth scheme",
    "name": "name",
    "status": "status",
}
DETAIL_LABELS = {
    "connector_type": "Connector type",
    "auth_scheme": "Auth scheme",
    "credential_fields": "Credential fields",
    "secret_changed": "Secret changed",
    "provider_revoked": "Provider told",
    "status_code": "HTTP status",
    "connector_id": "Connector ID",
}


def _detail_value(key: str, value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if key in ("from", "to") and isinstance(value, str) and value in CONNECTOR_STATUS:
        return CONNECTOR_STATUS[value][1]
    if key == "changed" and isinstance(value, list | tuple):
        return ", ".join(FIELD_WORDS.get(str(v), str(v).replace("_", " ")) for v in value) or "nothing"
    if isinstance(value, list | tuple):
        return ", ".join(_detail_value("", v) for v in value) or "none"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_detail_value(str(k), v)}" for k, v in value.items()) or "—"
    return str(value)


@register.filter
def audit_details(metadata: Any) -> list[tuple[str, str]]:
    """An audit event's metadata as (label, readable value) pairs: no Python reprs, nothing cut off."""
    if not isinstance(metadata, dict):
        return [("Details", str(metadata))] if metadata else []
    return [
        (DETAIL_LABELS.get(str(key), str(key).replace("_", " ").capitalize()), _detail_value(str(key), value))
        for key, value in metadata.items()
    ]
