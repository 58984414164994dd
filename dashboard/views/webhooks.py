"""Webhook endpoints in the dashboard: create (secret shown once), enable/disable, delete, the delivery log and
"redeliver". Thin: the services and selectors of the webhooks app do the work."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET, require_POST

from core.errors import InvalidInput
from webhooks import selectors, services
from webhooks.models import EVENT_TYPES, OPT_IN_EVENTS
from workspaces.models import Membership, Role

from ..access import actor_for, workspace_for
from .common import domain_errors, page, toast

TEMPLATE = "dashboard/webhooks.html"


def _context(membership: Membership, **extra: Any) -> dict[str, Any]:
    endpoints = list(selectors.endpoint_list(workspace=membership.workspace))
    return {
        "workspace": membership.workspace,
        "membership": membership,
        "endpoints": [(e, selectors.message_list(endpoint=e, limit=10)) for e in endpoints],
        "event_types": [(t, t in OPT_IN_EVENTS) for t in EVENT_TYPES],
        **extra,
    }


@require_GET
@login_required
@domain_errors
def webhooks_view(request: HttpRequest, slug: str) -> HttpResponse:
    membership = workspace_for(request, slug, Role.VIEWER)
    return page(request, TEMPLATE, _context(membership), partial="hooks")


@require_POST
@login_required
@domain_errors
def webhook_new(request: HttpRequest, slug: str) -> HttpResponse:
    membership = workspace_for(request, slug, Role.ADMIN)
    form = {"url": request.POST.get("url", ""), "events": request.POST.getlist("events")}
    try:
        endpoint, secret = services.webhook_endpoint_create(
            workspace=membership.workspace,
            url=form["url"],
            events=form["events"],
            description=request.POST.get("description", ""),
            actor=actor_for(request),
        )
    except InvalidInput as exc:
        context = _context(membership, errors={e.field: e.message for e in exc.errors}, form=form)
        return page(request, TEMPLATE, context, partial="hooks", status=422)
    response = page(request, TEMPLATE, _context(membership, new_endpoint=endpoint, new_secret=secret), partial="hooks")
    response["Cache-Control"] = "no-store"
    return toast(response, "Webhook endpoint added. Copy its signing secret now: it is shown only once.")


@require_POST
@login_required
@domain_errors
def webhook_toggle(request: HttpRequest, slug: str, endpoint_id: str) -> HttpResponse:
    membership = workspace_for(request, slug, Role.ADMIN)
    endpoint = selectors.endpoint_get(workspace=membership.workspace, endpoint_id=endpoint_id)
    services.webhook_endpoint_update(endpoint=endpoint, actor=actor_for(request), enabled=not endpoint.enabled)
    message = f"Webhook {'enabled' if endpoint.enabled else 'disabled'}."
    return toast(page(request, TEMPLATE, _context(membership), partial="hooks"), message)


@require_POST
@login_required
@domain_errors
def webhook_delete(request: HttpRequest, slug: str, endpoint_id: str) -> HttpResponse:
    membership = workspace_for(request, slug, Role.ADMIN)
    endpoint = selectors.endpoint_get(workspace=membership.workspace, endpoint_id=endpoint_id)
    services.webhook_endpoint_delete(endpoint=endpoint, actor=actor_for(request))
    return toast(page(request, TEMPLATE, _context(membership), partial="hooks"), "Webhook endpoint deleted.")


@require_POST
@login_required
@domain_errors
def webhook_redeliver(request: HttpRequest, slug: str, endpoint_id: str, message_id: str) -> HttpResponse:
    membership = workspace_for(request, slug, Role.OPERATOR)
    endpoint = selectors.endpoint_get(workspace=membership.workspace, endpoint_id=endpoint_id)
    message = selectors.message_get(workspace=membership.workspace, endpoint=endpoint, message_id=message_id)
    services.redeliver(message=message, actor=actor_for(request))
    return toast(page(request, TEMPLATE, _context(membership), partial="hooks"), "Sent again.")
