"""Helpers shared by the dashboard views: rendering full pages or their partials, toasts, error translation."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django_htmx.http import HttpResponseClientRedirect, trigger_client_event

from core import errors as domain

View = Callable[..., HttpResponse]


def domain_errors(view: View) -> View:
    """Services raise NotFound / PermissionDenied; the dashboard answers 404 / 403 like Django does."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except domain.NotFound as exc:
            raise Http404(exc.message) from None
        except domain.PermissionDenied as exc:
            raise PermissionDenied(exc.message) from None

    return wrapper


def page(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    *,
    partial: str | None = None,
    status: int = 200,
) -> HttpResponse:
    """The whole page, or only `partial` of it when HTMX asks (and a partial is named)."""
    name = f"{template}#{partial}" if partial and request.htmx else template
    return render(request, name, context, status=status)


def toast(response: HttpResponse, message: str, level: str = "success") -> HttpResponse:
    return trigger_client_event(response, "toast", {"message": message, "level": level})


def go(request: HttpRequest, url: str) -> HttpResponse:
    """After a successful POST: a client-side redirect for HTMX, a 302 otherwise."""
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)


def paginate(request: HttpRequest, qs: Any, per_page: int = 20) -> Page:
    return Paginator(qs, per_page).get_page(request.GET.get("page"))


def query_without_page(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()
