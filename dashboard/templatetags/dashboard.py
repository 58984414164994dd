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
def duration(ms: int | None) -> str:
    if ms is None:
        return "—"
    if ms < 1000:
        return f"{ms} ms"
    return f"{ms / 1000:.2f} s"


@register.filter
def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


@register.simple_tag(takes_context=True)
def nav_class(context: template.Context, *names: str) -> str:
    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    current = match.url_name if match else ""
    return "active" if current in names else ""


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
