"""The one gate between a request and a workspace: every dashboard view goes through `workspace_for`."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest

from workspaces.models import Membership, Role
from workspaces.services import Actor


def workspace_for(request: HttpRequest, slug: str, min_role: str = Role.VIEWER) -> Membership:
    """The user's membership of workspace `slug` (with `.workspace` loaded).

    404 when the user is not a member (the workspace's existence is not revealed), 403 when the membership's role is
    below `min_role`. The membership is also stored on the request so templates can show role-dependent controls.
    """
    if not request.user.is_authenticated:
        raise PermissionDenied("Sign in first.")
    membership = Membership.objects.select_related("workspace").filter(user=request.user, workspace__slug=slug).first()
    if membership is None:
        raise Http404("No such workspace.")
    if not membership.allows(min_role):
        raise PermissionDenied(f"This needs the {Role(min_role).label.lower()} role or higher.")
    request.membership = membership  # type: ignore[attr-defined]
    return membership


def actor_for(request: HttpRequest) -> Actor:
    return Actor(user=request.user, ip=request.META.get("REMOTE_ADDR"))
