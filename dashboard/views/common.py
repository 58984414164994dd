"""Helpers shared by the dashboard views: rendering full pages or their partials, toasts, error translation."""

from __future__ import annotations

import base64
import binascii
import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.functional import cached_property
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


class CappedPaginator(Paginator):
    """Numbered pages whose count stops at `cap` rows: `SELECT COUNT(*) FROM (... LIMIT cap + 1)` reads at most that
    many index entries, where a plain count reads the whole table. Past the cap the pager says "10,000+"."""

    cap = 10_000

    @cached_property
    def count(self) -> int:
        qs = self.object_list
        if isinstance(qs, QuerySet):
            return qs.order_by()[: self.cap + 1].count()
        return len(qs)

    @property
    def capped(self) -> bool:
        return self.count > self.cap

    @property
    def shown_count(self) -> int:
        return min(self.count, self.cap)


def paginate(request: HttpRequest, qs: Any, per_page: int = 20) -> Page:
    return CappedPaginator(qs, per_page).get_page(request.GET.get("page"))


def query_without(request: HttpRequest, *names: str) -> str:
    params = request.GET.copy()
    for name in names:
        params.pop(name, None)
    return params.urlencode()


def query_without_page(request: HttpRequest) -> str:
    return query_without(request, "page")


# --- Keyset pages ----------------------------------------------------------------------------------------------
# Lists that grow without bound (executions, audit events) page by their order key, (created_at, id) newest first:
# every page is one index range of per_page + 1 rows, however deep, and nothing counts the rows.


def encode_cursor(created_at: datetime, pk: Any) -> str:
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{pk}".encode()).decode().rstrip("=")


def decode_cursor(value: str, qs: QuerySet) -> tuple[datetime, Any] | None:
    """(created_at, pk) from a cursor this module wrote; None for anything else (the list then starts at the top)."""
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        created_raw, pk_raw = raw.split("|", 1)
        created_at = datetime.fromisoformat(created_raw)
        pk = qs.model._meta.pk.to_python(pk_raw)
    except (ValueError, binascii.Error, UnicodeDecodeError, ValidationError, OverflowError):
        return None
    if created_at.tzinfo is None or pk is None:
        return None
    return created_at, pk


@dataclass
class KeysetPage:
    object_list: list[Any]
    has_newer: bool
    has_older: bool
    newer_query: str = ""
    older_query: str = ""
    newest_query: str = ""
    target: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)

    @property
    def has_other_pages(self) -> bool:
        return self.has_newer or self.has_older


def _older_than(qs: QuerySet, created_at: datetime, pk: Any) -> QuerySet:
    # The plain `created_at <= x` bound is what lets the database start the index range at the cursor.
    return qs.filter(created_at__lte=created_at).filter(Q(created_at__lt=created_at) | Q(pk__lt=pk))


def _newer_than(qs: QuerySet, created_at: datetime, pk: Any) -> QuerySet:
    return qs.filter(created_at__gte=created_at).filter(Q(created_at__gt=created_at) | Q(pk__gt=pk))


def keyset_page(request: HttpRequest, qs: QuerySet, per_page: int = 25) -> KeysetPage:
    """The page `?before=<cursor>` (older) or `?after=<cursor>` (newer) of `qs`, ordered newest first by
    (created_at, pk). One query (two when `after` reaches the top, which shows the newest page instead)."""
    base = query_without(request, "before", "after", "page")

    def link(**params: str) -> str:
        extra = "&".join(f"{k}={v}" for k, v in params.items())
        return "&".join(part for part in (base, extra) if part)

    before = decode_cursor(request.GET.get("before", ""), qs) if request.GET.get("before") else None
    after = decode_cursor(request.GET.get("after", ""), qs) if request.GET.get("after") else None
    rows: list[Any]
    if after is not None:
        newer = list(_newer_than(qs, *after).order_by("created_at", "pk")[: per_page + 1])
        if len(newer) > per_page:
            rows = newer[:per_page][::-1]
            has_newer, has_older = True, True
        else:
            after = None  # within a page of the top: show the top, full
    if after is None:
        ordered = qs.order_by("-created_at", "-pk")
        window = _older_than(ordered, *before) if before is not None else ordered
        fetched = list(window[: per_page + 1])
        rows = fetched[:per_page]
        has_newer, has_older = before is not None, len(fetched) > per_page
    page = KeysetPage(object_list=rows, has_newer=has_newer, has_older=has_older, newest_query=base)
    if rows:
        first, last = rows[0], rows[-1]
        page.newer_query = link(after=encode_cursor(first.created_at, first.pk))
        page.older_query = link(before=encode_cursor(last.created_at, last.pk))
    return page
