"""Workspaces (switch, create) and members."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from core.errors import FieldError, InvalidInput
from workspaces.access import get_scoped, scoped
from workspaces.models import Membership, Role
from workspaces.services import membership_add, membership_remove, membership_update, workspace_create

from ..access import actor_for, workspace_for
from .common import domain_errors, go, page, toast

SESSION_KEY = "dashboard.workspace"


@require_GET
@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The workspace used last, else the first one, else the page that creates one."""
    memberships = Membership.objects.select_related("workspace").filter(user=request.user)
    last = request.session.get(SESSION_KEY)
    chosen = (
        next((m for m in memberships if m.workspace.slug == last), None)
        or memberships.order_by("workspace__name").first()
    )
    if chosen is None:
        return redirect("dashboard:workspace_create")
    return redirect("dashboard:connectors", slug=chosen.workspace.slug)


@login_required
@domain_errors
def workspace_create_view(request: HttpRequest) -> HttpResponse:
    if request.method not in ("GET", "POST"):
        return HttpResponse(status=405, headers={"Allow": "GET, POST"})
    errors: dict[str, list[str]] = {}
    name = ""
    if request.method == "POST":
        name = request.POST.get("name", "")
        try:
            workspace = workspace_create(name=name, owner=request.user, actor=actor_for(request))
        except InvalidInput as exc:
            errors = {e.field: [e.message] for e in exc.errors}
        else:
            messages.success(request, f"Workspace “{workspace.name}” created.")
            return go(request, reverse("dashboard:connectors", kwargs={"slug": workspace.slug}))
    return render(
        request,
        "dashboard/workspace_create.html",
        {"name": name, "errors": errors},
        status=422 if errors else 200,
    )


# --- Members ------------------------------------------------------------------------------------------------


def _members_context(membership: Membership, **extra: object) -> dict[str, object]:
    members = scoped(Membership.objects.select_related("user"), membership.workspace).order_by("user__username")
    return {
        "workspace": membership.workspace,
        "membership": membership,
        "members": members,
        "roles": Role.choices,
        "owner_count": sum(1 for m in members if m.role == Role.OWNER),
        **extra,
    }


@require_GET
@login_required
@domain_errors
def members(request: HttpRequest, slug: str) -> HttpResponse:
    membership = workspace_for(request, slug, Role.VIEWER)
    return page(request, "dashboard/members.html", _members_context(membership), partial="members")


@require_POST
@login_required
@domain_errors
def member_add(request: HttpRequest, slug: str) -> HttpResponse:
    membership = workspace_for(request, slug, Role.OWNER)
    username = request.POST.get("username", "").strip()
    role = request.POST.get("role", Role.VIEWER)
    user = get_user_model().objects.filter(username__iexact=username).first() if username else None
    try:
        if user is None:
            message = "No user has this username; they need an account first." if username else "Enter a username."
            raise InvalidInput(message, [FieldError("username", message, "unknown_user" if username else "required")])
        added = membership_add(workspace=membership.workspace, user=user, role=role, actor=actor_for(request))
    except InvalidInput as exc:
        context = _members_context(
            membership, errors={e.field: e.message for e in exc.errors}, invite={"username": username, "role": role}
        )
        return page(request, "dashboard/members.html", context, partial="members", status=422)
    response = page(request, "dashboard/members.html", _members_context(membership), partial="members")
    if not request.htmx:
        messages.success(request, f"{added.user} added as {added.get_role_display().lower()}.")
        return redirect("dashboard:members", slug=slug)
    return toast(response, f"{added.user} added as {added.get_role_display().lower()}.")


@require_POST
@login_required
@domain_errors
def member_role(request: HttpRequest, slug: str, member_id: int) -> HttpResponse:
    membership = workspace_for(request, slug, Role.OWNER)
    target = get_scoped(Membership.objects.select_related("user", "workspace"), membership.workspace, pk=member_id)
    try:
        membership_update(membership=target, role=request.POST.get("role", ""), actor=actor_for(request))
    except InvalidInput as exc:
        if not request.htmx:
            messages.error(request, exc.errors[0].message if exc.errors else exc.message)
            return redirect("dashboard:members", slug=slug)
        response = page(request, "dashboard/members.html", _members_context(membership), partial="members")
        return toast(response, exc.errors[0].message if exc.errors else exc.message, "error")
    message = f"{target.user} is now {target.get_role_display().lower()}."
    if not request.htmx:
        messages.success(request, message)
        return redirect("dashboard:members", slug=slug)
    membership = workspace_for(request, slug, Role.VIEWER)
    return toast(page(request, "dashboard/members.html", _members_context(membership), partial="members"), message)


@require_POST
@login_required
@domain_errors
def member_remove(request: HttpRequest, slug: str, member_id: int) -> HttpResponse:
    membership = workspace_for(request, slug, Role.OWNER)
    target = get_scoped(Membership.objects.select_related("user", "workspace"), membership.workspace, pk=member_id)
    name = str(target.user)
    removing_self = target.pk == membership.pk
    try:
        membership_remove(membership=target, actor=actor_for(request))
    except InvalidInput as exc:
        message = exc.errors[0].message if exc.errors else exc.message
        if not request.htmx:
            messages.error(request, message)
            return redirect("dashboard:members", slug=slug)
        response = page(request, "dashboard/members.html", _members_context(membership), partial="members")
        return toast(response, message, "error")
    messages.success(request, f"{name} removed from {membership.workspace.name}.")
    if removing_self:
        return go(request, reverse("dashboard:home"))
    return go(request, reverse("dashboard:members", kwargs={"slug": slug}))
