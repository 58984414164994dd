"""Pagination styles normalised to (has_next_page, end_cursor). See docs/catalog.md, "Pagination".

A caller passes end_cursor back as the `cursor` param. Whatever the style, the next request goes to the same
origin the manifest names: a cursor is never a URL to follow.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from connectors.catalog.manifest import Pagination
from core.errors import OperationInputError

from .util import dig, set_dotted

LINK_TOKEN_PREFIX = "lh1."  # noqa: S105 (a format tag, not a password)
MAX_CURSOR_LENGTH = 8192
_LINK_PART = re.compile(r"<([^>]*)>\s*((?:;\s*[^;,]+)*)")


@dataclass
class CursorPlacement:
    """How the cursor changes the request being built."""

    query: dict[str, Any] = field(default_factory=dict)
    # link_header: the next page's whole query string replaces the caller's query params.
    replace_query: list[tuple[str, str]] | None = None
    body: dict[str, Any] = field(default_factory=dict)
    variables: dict[str, Any] = field(default_factory=dict)
    # next_url: the path (and query) to request instead of the action's path.
    path_override: str | None = None


def _bad_cursor(message: str = "This cursor is not valid for this action.") -> OperationInputError:
    return OperationInputError(
        "invalid_cursor",
        message,
        [{"field": "params.cursor", "message": message, "error_code": "invalid_value"}],
    )


def encode_link_token(query: list[tuple[str, str]]) -> str:
    raw = urlencode(query).encode()
    return LINK_TOKEN_PREFIX + base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_link_token(token: str) -> list[tuple[str, str]]:
    if not token.startswith(LINK_TOKEN_PREFIX):
        raise _bad_cursor()
    body = token[len(LINK_TOKEN_PREFIX) :]
    try:
        raw = base64.b64decode(body + "=" * (-len(body) % 4), altchars=b"-_", validate=True).decode()
        return parse_qsl(raw, keep_blank_values=True, strict_parsing=bool(raw))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise _bad_cursor() from None


def safe_next_path(candidate: str, *, required_prefix: str) -> str:
    """A same-origin path (with query) under required_prefix, or raise. Never a URL to another host."""
    if (
        not candidate.startswith("/")
        or candidate.startswith("//")
        or any(ch in candidate for ch in "\\#@")
        or any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in candidate)
    ):
        raise _bad_cursor()
    path = candidate.split("?", 1)[0]
    dot_segments = (".", "..", "%2e", "%2e%2e", ".%2e", "%2e.")
    if any(segment.lower() in dot_segments for segment in path.split("/")):
        raise _bad_cursor()
    prefix = required_prefix.rstrip("/")
    if prefix and not (path == prefix or path.startswith(prefix + "/")):
        raise _bad_cursor()
    return candidate


def place_cursor(
    pagination: Pagination, cursor: str, *, body_kind: str, method: str, required_prefix: str
) -> CursorPlacement:
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise _bad_cursor("This cursor is too long.")
    kind = pagination.type
    placement = CursorPlacement()
    if kind == "link_header":
        placement.replace_query = decode_link_token(cursor)
    elif kind == "cursor":
        name = pagination.cursor_param
        where = pagination.cursor_in or ("body" if method not in ("GET", "DELETE") and body_kind != "none" else "query")
        if where == "variables" or (where == "body" and body_kind == "graphql"):
            # A GraphQL API whose connections give a bare cursor (monday.com's items_page.cursor): a variable.
            placement.variables[name] = cursor
        elif where == "body":
            set_dotted(placement.body, name, cursor)
        else:
            placement.query[name] = cursor
    elif kind == "graphql":
        placement.variables[pagination.cursor_variable] = cursor
    elif kind == "offset":
        if not re.fullmatch(r"\d{1,12}", cursor):
            raise _bad_cursor()
        if pagination.cursor_in == "body":
            # Report APIs that page a POST body (Google's searchAnalytics startRow, GA4 runReport offset).
            set_dotted(placement.body, pagination.offset_param, int(cursor))
        else:
            placement.query[pagination.offset_param] = int(cursor)
    elif kind == "next_url":
        placement.path_override = safe_next_path(cursor, required_prefix=required_prefix)
    elif kind == "page":
        if not re.fullmatch(r"\d{1,9}", cursor):
            raise _bad_cursor()
        placement.query[pagination.page_param] = int(cursor)
    else:
        raise _bad_cursor("This action is not paginated.")
    return placement


def parse_link_header(value: str | None) -> dict[str, str]:
    links: dict[str, str] = {}
    for match in _LINK_PART.finditer(value or ""):
        url, params = match.group(1), match.group(2)
        # Sentry always sends rel="next" and marks an empty page with results="false" (docs.sentry.io/api/pagination).
        if re.search(r';\s*results\s*=\s*"?false"?', params, re.I):
            continue
        for rel in re.findall(r';\s*rel\s*=\s*"?([^";]+)"?', params):
            for name in rel.split():
                links.setdefault(name.lower(), url)
    return links


@dataclass
class PageInfo:
    has_next_page: bool = False
    end_cursor: str | None = None


def _truthy_cursor(value: Any) -> str | None:
    if value is None or value is False or value == "":
        return None
    if isinstance(value, dict | list):
        return None
    return str(value)


def page_info(
    pagination: Pagination,
    *,
    body: Any,
    headers: Any,
    records: Any,
    request_query: dict[str, Any],
    default_limit: int | None,
    origin: str,
    required_prefix: str,
    drop_query_names: set[str],
    secrets: list[str],
) -> PageInfo:
    kind = pagination.type
    # page: full_page is the page size, weighed after the vendor's own is_last (_page_number_info).
    if pagination.full_page and kind != "page":
        # The page size the caller asked for (limit_param in the request), else the vendor's full page.
        full = _as_int(request_query.get(pagination.limit_param)) or pagination.full_page
        if not isinstance(records, list) or len(records) < full:
            return PageInfo()
    if kind == "link_header":
        return _link_header_info(headers, drop_query_names, secrets)
    if kind == "cursor":
        return _cursor_info(pagination, body)
    if kind == "graphql":
        return _graphql_info(pagination, body)
    if kind == "offset":
        return _offset_info(pagination, body, records, request_query, default_limit)
    if kind == "next_url":
        return _next_url_info(pagination, body, origin, required_prefix)
    if kind == "page":
        return _page_number_info(pagination, body, records, request_query, default_limit)
    return PageInfo()


def _link_header_info(headers: Any, drop_query_names: set[str], secrets: list[str]) -> PageInfo:
    nxt = parse_link_header(headers.get("Link") or headers.get("link")).get("next")
    if not nxt:
        return PageInfo()
    query = [
        (k, v)
        for k, v in parse_qsl(urlsplit(nxt).query, keep_blank_values=True)
        if k not in drop_query_names and v not in secrets
    ]
    return PageInfo(True, encode_link_token(query))


def _cursor_info(pagination: Pagination, body: Any) -> PageInfo:
    cursor = _truthy_cursor(dig(body, pagination.next_cursor))
    if pagination.has_more:
        more = dig(body, pagination.has_more)
        has_next = bool(more) and cursor is not None
    else:
        has_next = cursor is not None
    return PageInfo(has_next, cursor if has_next else None)


def _graphql_info(pagination: Pagination, body: Any) -> PageInfo:
    info = dig(body, pagination.page_info) or {}
    if not isinstance(info, dict):
        return PageInfo()
    cursor = _truthy_cursor(info.get("endCursor"))
    has_next = bool(info.get("hasNextPage")) and cursor is not None
    return PageInfo(has_next, cursor if has_next else None)


def _next_url_info(pagination: Pagination, body: Any, origin: str, required_prefix: str) -> PageInfo:
    raw = dig(body, pagination.next_url)
    done = dig(body, pagination.done) if pagination.done else None
    if not isinstance(raw, str) or not raw or done is True:
        return PageInfo()
    parts = urlsplit(raw)
    if parts.scheme or parts.netloc:
        if f"{parts.scheme}://{parts.netloc}".lower() != origin.lower():
            return PageInfo()
        raw = parts.path + (f"?{parts.query}" if parts.query else "")
    try:
        return PageInfo(True, safe_next_path(raw, required_prefix=required_prefix))
    except OperationInputError:
        return PageInfo()


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _offset_info(
    pagination: Pagination, body: Any, records: Any, request_query: dict[str, Any], default_limit: int | None
) -> PageInfo:
    offset_param = pagination.offset_param
    limit_param = pagination.limit_param
    offset = _as_int(dig(body, offset_param)) if isinstance(body, dict) else None
    if offset is None:
        offset = _as_int(request_query.get(offset_param)) or 0
    limit = (
        (_as_int(dig(body, limit_param)) if isinstance(body, dict) else None)
        or _as_int(request_query.get(limit_param))
        or default_limit
    )
    count = len(records) if isinstance(records, list) else 0
    if count == 0:
        return PageInfo()
    is_last = dig(body, pagination.is_last) if pagination.is_last else None
    total = _as_int(dig(body, pagination.total)) if pagination.total else None
    if isinstance(is_last, bool):
        has_next = not is_last
    elif total is not None:
        has_next = offset + count < total
    elif limit:
        has_next = count >= limit
    else:
        has_next = True
    return PageInfo(has_next, str(offset + count) if has_next else None)


def _page_number_info(
    pagination: Pagination, body: Any, records: Any, request_query: dict[str, Any], default_limit: int | None
) -> PageInfo:
    """Numbered pages: `end_cursor` is the next page's number. More pages: `!is_last` if the body has it, else
    `has_more`, else a full page (`count >= limit`; the limit from the request, the params default or `full_page`),
    else any records at all."""
    count = len(records) if isinstance(records, list) else 0
    if count == 0:
        return PageInfo()
    page = _as_int(request_query.get(pagination.page_param))
    page = pagination.first_page if page is None else page
    is_last = dig(body, pagination.is_last) if pagination.is_last and isinstance(body, dict) else None
    limit = _as_int(request_query.get(pagination.limit_param)) or default_limit or pagination.full_page
    if isinstance(is_last, bool):
        has_next = not is_last
    elif pagination.has_more and isinstance(body, dict):
        has_next = bool(dig(body, pagination.has_more))
    elif limit:
        has_next = count >= limit
    else:
        has_next = True
    return PageInfo(has_next, str(page + 1) if has_next else None)
