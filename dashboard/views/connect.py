"""Connect links in the dashboard: the workspace's redirect allow-list and its recent connect sessions."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET, require_POST

from connect.selectors import session_list
from connect.services import allowed_origins, workspace_set_redirect_origins
from core.errors import InvalidInput
from workspaces.models import Membership, Role

from ..access import actor_for, workspace_for
from .common import domain_errors, page, toast

TEMPLATE = "dashboard/connect.html"


def _context(membership: Membership, **extra: Any) -> dict[str, Any]:
    workspace = membership.workspace
    return {
        "workspace": workspace,
        "membership": membership,
        "origins_text": "\n".join(workspace.allowed_redirect_origins or []),
        "effective_origins": allowed_origins(workspace),
        "sessions": list(session_list(workspace=workspace)),
        **extra,
    }


@require_GET
@login_required
@domain_errors
def connect_view(request: HttpRequest, slug: str) -> HttpResponse:
    membership = workspace_for(request, slug, Role.VIEWER)
    return page(request, TEMPLATE, _context(membership), partial="origins")


@require_POST
@login_required
@domain_errors
def connect_origins(request: HttpRequest, slug: str) -> HttpResponse:
    membership = workspace_for(request, slug, Role.ADMIN)
    text = request.POST.get("origins", "")
    origins = [line.strip() for line in text.replace(",", "\n").splitlines() if line.strip()]
    try:
        workspace_set_redirect_origins(workspace=membership.workspace, origins=origins, actor=actor_for(request))
    except InvalidInput as exc:
        context = _context(membership, errors=[e.message for e in exc.errors], origins_text=text)
        return page(request, TEMPLATE, context, partial="origins", status=422)
    return toast(page(request, TEMPLATE, _context(membership), partial="origins"), "Redirect origins saved.")
