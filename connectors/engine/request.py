"""Building the request of one action: where each param goes, the URL (path, query, cursor), headers and the body,
encoded by kind (json, form, graphql, multipart_related, none). See docs/catalog.md, "Entities and actions"."""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import SplitResult, quote, quote_plus, urlencode, urlsplit

from connectors.catalog.manifest import Action, AuthScheme, Manifest
from connectors.catalog.params import CURSOR_PARAM
from connectors.catalog.templates import placeholders
from core.errors import OperationInputError

from .auth import AppliedAuth
from .pagination import CursorPlacement, place_cursor
from .urls import resolve_base_url

QUERY_METHODS = ("GET", "DELETE", "HEAD")
WRITE_METHODS = ("POST", "PUT", "PATCH")
_PATH_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass
class PreparedCall:
    method: str
    url: str
    log_target: str  # host + path, never the query
    headers: dict[str, str]
    body: bytes | None
    query: dict[str, Any]
    idempotent: bool
    origin: str
    required_prefix: str
    body_values: dict[str, Any] = field(default_factory=dict)  # a JSON body's fields before encoding


@dataclass
class PlacedParams:
    """The caller's params (with the action's defaults), each where it goes."""

    path: dict[str, str] = field(default_factory=dict)  # URL-quoted
    query: dict[str, Any] = field(default_factory=dict)
    body: dict[str, Any] = field(default_factory=dict)
    variables: dict[str, Any] = field(default_factory=dict)  # GraphQL
    headers: dict[str, str] = field(default_factory=dict)


def prepare_call(
    *,
    manifest: Manifest,
    action: Action,
    scheme: AuthScheme,
    auth: AppliedAuth,
    config: dict[str, Any],
    credentials: dict[str, Any],
    params: dict[str, Any],
    allow_http_hosts: Collection[str] = (),
) -> PreparedCall:
    base = base_url(manifest, manifest.base_url_for(action, scheme), config, credentials, allow_http_hosts)
    params = dict(params)
    cursor = (
        params.pop(CURSOR_PARAM, None) if action.is_paginated and CURSOR_PARAM not in action.param_properties else None
    )
    placed = place_params(action, {**action.defaults, **params})
    required_prefix = base.path.rstrip("/") + "/" + action.path.split("{", 1)[0].lstrip("/")
    target = _place_cursor(action, cursor, placed, required_prefix) if cursor is not None else CursorPlacement()
    url, log_path = _url(manifest, action, base, placed, auth, target)
    headers = {
        "Accept": "application/json",
        **config_headers(manifest, config),
        **action.headers,
        **placed.headers,
        **auth.headers,
    }
    payload, content_type = encode_body(action, placed)
    if content_type:
        # A JSON action may name its own JSON media type (Klaviyo's application/vnd.api+json); the encoding is ours.
        named = action.headers.get("Content-Type") if action.body_kind == "json" else None
        headers["Content-Type"] = named if named and named.endswith("json") else content_type
    idempotent = with_idempotency_key(manifest, headers, idempotent=action.is_idempotent)
    return PreparedCall(
        method=action.method,
        url=url,
        log_target=f"{base.netloc}{log_path}",
        headers=headers,
        body=payload,
        query=placed.query,
        idempotent=idempotent,
        origin=f"{base.scheme}://{base.netloc}".lower(),
        required_prefix=required_prefix,
        body_values=placed.body if action.body_kind == "json" else {},
    )


def base_url(
    manifest: Manifest,
    template: str,
    config: dict[str, Any],
    credentials: dict[str, Any],
    allow_http_hosts: Collection[str] = (),
) -> SplitResult:
    """Where this connector's calls go: `template` filled and its host checked (urls.resolve_base_url)."""
    return urlsplit(
        resolve_base_url(
            template,
            config=config,
            credentials=credentials,
            config_defaults=manifest.config_fallbacks(credentials, config),  # Mailchimp's data centre, Zoho's accounts
            allowed_hosts=manifest.allowed_hosts,
            allow_http_hosts=allow_http_hosts,
        )
    )


def with_idempotency_key(manifest: Manifest, headers: dict[str, str], *, idempotent: bool) -> bool:
    """Whether the call may be retried after a 5xx or a dropped connection: a write becomes safe to retry when the
    vendor de-duplicates on the manifest's idempotency header, which gets one fresh key per call (the same on every
    retry)."""
    if not idempotent and manifest.idempotency_header:
        headers.setdefault(manifest.idempotency_header, str(uuid.uuid4()))
        return True
    return idempotent


def config_headers(manifest: Manifest, config: dict[str, Any]) -> dict[str, str]:
    """The manifest's headers, `{config.NAME}` templates filled in; a header whose config value is empty or
    missing is left out (Stripe-Account from `account_id`: only Connect platforms set it)."""
    headers: dict[str, str] = {}
    values = {**manifest.config_defaults, **config}
    for name, template in manifest.headers.items():
        refs = placeholders(template)
        if not refs:
            headers[name] = template
            continue
        filled = template
        for ref in refs:
            source, _, field = ref.partition(".")
            value = values.get(field) if source == "config" else None
            if value in (None, "") or isinstance(value, dict | list):
                break
            text = str(value)
            if any(ord(c) < 32 or ord(c) > 255 for c in text):
                raise OperationInputError(
                    "invalid_config",
                    f"Invalid replication_config.{field}: it cannot go in the {name} header.",
                    [
                        {
                            "field": f"replication_config.{field}",
                            "message": "Must not contain line breaks.",
                            "error_code": "invalid_value",
                        }
                    ],
                )
            filled = filled.replace("{" + ref + "}", text)
        else:
            headers[name] = filled
    return headers


# --- Params ---------------------------------------------------------------------------------------------------------


def place_params(action: Action, params: dict[str, Any]) -> PlacedParams:
    """Each param where its `in` says, else: path if the path names it, GraphQL variables, query for reads, body."""
    kind = action.body_kind
    path_names = set(placeholders(action.path))
    placed = PlacedParams()
    for name, value in params.items():
        prop = action.param_properties.get(name)
        prop = prop if isinstance(prop, dict) else {}
        where = prop.get("in") or _default_location(name, action, path_names)
        if isinstance(value, str) and isinstance(prop.get("template"), str):
            value = prop["template"].replace("{value}", value)
        if where == "path":
            placed.path[name] = _path_value(name, value, slashes=bool(prop.get("allow_slashes")))
        elif where == "query":
            placed.query[name] = _restli_query(value, prop["restli"]) if prop.get("restli") else value
        elif where == "header":
            placed.headers[name] = _header_value(name, value)
        elif kind == "graphql":
            placed.variables[name] = value
        else:
            placed.body[name] = value
    missing = sorted(path_names - set(placed.path))
    if missing:
        raise OperationInputError(
            "invalid_params",
            f"Invalid params: {', '.join('params.' + m for m in missing)}.",
            [{"field": f"params.{m}", "message": "This field is required.", "error_code": "required"} for m in missing],
        )
    return placed


def _default_location(name: str, action: Action, path_names: set[str]) -> str:
    if name in path_names:
        return "path"
    if action.body_kind == "graphql":
        return "variables"
    if action.method in QUERY_METHODS or action.body_kind == "none":
        return "query"
    return "body"


def _invalid(field: str, message: str, code: str = "invalid_value") -> OperationInputError:
    return OperationInputError(
        "invalid_params", f"Invalid params: {field}.", [{"field": field, "message": message, "error_code": code}]
    )


def _path_value(name: str, value: Any, *, slashes: bool = False) -> str:
    text = "true" if value is True else "false" if value is False else str(value)
    if isinstance(value, dict | list):
        raise _invalid(f"params.{name}", "Must be a non-empty value usable in a URL path.")
    if slashes:
        # A file path: its segments stay segments, each quoted; "" (or "/") is the root. Nothing may climb out.
        text = text.strip("/")
        segments = text.split("/") if text else []
        if any(s in ("", ".", "..") for s in segments) or "\\" in text:
            raise _invalid(f"params.{name}", "Must be a relative path without empty, '.' or '..' segments.")
        return "/".join(quote(s, safe="") for s in segments)
    if text in ("", ".", ".."):
        raise _invalid(f"params.{name}", "Must be a non-empty value usable in a URL path.")
    return quote(text, safe="")


class RestliValue(str):
    """A query value already encoded in Rest.li 2.0 protocol form (LinkedIn): sent as is, not URL-encoded again."""


def restli_encode(value: Any) -> str:
    """Rest.li 2.0 URL encoding (`restli: true` query params): an object is `(key:value,...)`, an array
    `List(a,b)`, a string percent-encoded whole (so a URN's colons are data, `urn%3Ali%3A...`); the structure
    characters stay unencoded. `{"start": {"year": 2026}}` -> `(start:(year:2026))`."""
    if isinstance(value, dict):
        return "(" + ",".join(f"{quote(str(k), safe='')}:{restli_encode(v)}" for k, v in value.items()) + ")"
    if isinstance(value, list | tuple):
        return "List(" + ",".join(restli_encode(item) for item in value) + ")"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    return quote(text, safe="") if text else "''"


def _restli_query(value: Any, style: Any) -> RestliValue:
    if style == "projection":
        # A Rest.li field projection (LinkedIn's `fields`): names joined by unencoded commas.
        names = value if isinstance(value, list | tuple) else str(value).split(",")
        return RestliValue(",".join(quote(str(n).strip(), safe="") for n in names if str(n).strip()))
    return RestliValue(restli_encode(value))


def query_string(pairs: list[tuple[str, Any]]) -> str:
    """urlencode, except that Rest.li values (already encoded) go as they are."""
    return "&".join(
        f"{quote_plus(str(k))}={v}" if isinstance(v, RestliValue) else urlencode([(k, v)]) for k, v in pairs
    )


def _header_value(name: str, value: Any) -> str:
    text = str(value)
    if "\r" in text or "\n" in text:
        raise _invalid(f"params.{name}", "Must not contain line breaks.")
    return text


# --- The URL ----------------------------------------------------------------------------------------------------


def _place_cursor(action: Action, cursor: Any, placed: PlacedParams, required_prefix: str) -> CursorPlacement:
    """Put the cursor where the action's pagination style wants it: query, body or variables go into `placed`; a
    replaced query (link_header) or path (next_url) is returned for the URL."""
    placement = place_cursor(
        action.pagination,
        str(cursor),
        body_kind=action.body_kind,
        method=action.method,
        required_prefix=required_prefix,
    )
    placed.query.update(placement.query)
    _deep_merge(placed.body, placement.body)
    placed.variables.update(placement.variables)
    return placement


def _url(
    manifest: Manifest,
    action: Action,
    base: SplitResult,
    placed: PlacedParams,
    auth: AppliedAuth,
    cursor: CursorPlacement,
) -> tuple[str, str]:
    """(URL, path for logs). The origin is always the base URL's, and query credentials are always ours."""
    if cursor.path_override is not None:
        path_and_query, pairs, log_path = cursor.path_override, [], cursor.path_override.split("?", 1)[0]
    else:
        path = _PATH_PARAM.sub(lambda m: placed.path[m.group(1)], action.path)
        path_and_query = log_path = base.path.rstrip("/") + (path if path.startswith("/") else "/" + path)
        if cursor.replace_query is not None:
            pairs = [(k, v) for k, v in cursor.replace_query if k not in auth.query]
        else:
            pairs = encode_pairs(placed.query, arrays=manifest.query_arrays)
    pairs += list(auth.query.items())
    url = f"{base.scheme}://{base.netloc}" + path_and_query
    if pairs:
        url += ("&" if "?" in path_and_query else "?") + query_string(pairs)
    return url, log_path


def _deep_merge(target: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _deep_merge(target[key], value)
        else:
            target[key] = value


def encode_pairs(values: dict[str, Any], *, arrays: str = "repeat") -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for key, value in values.items():
        _flatten(key, value, out, arrays=arrays)
    return out


def _flatten(prefix: str, value: Any, out: list[tuple[str, str]], *, arrays: str) -> None:
    """Stripe-style bracket nesting for objects (a[b]=1, items[0][price]=x); arrays of scalars per `arrays`:
    repeat (a=1&a=2), indexed (a[0]=1), brackets (a[]=1) or comma (a=1,2); json sends every array or object
    param as compact JSON text (a=["x","y"], t={"since":"2024-01-01"}: Facebook's Graph API)."""
    if value is None:
        return
    if arrays == "json" and isinstance(value, dict | list | tuple):
        out.append((prefix, json.dumps(value, separators=(",", ":"))))
        return
    if isinstance(value, RestliValue):
        out.append((prefix, value))
        return
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(f"{prefix}[{key}]", item, out, arrays=arrays)
    elif isinstance(value, list | tuple):
        scalars = all(not isinstance(item, dict | list | tuple) for item in value)
        if scalars and arrays == "comma":
            out.append((prefix, ",".join(_scalar_text(item) for item in value)))
            return
        for index, item in enumerate(value):
            if scalars and arrays == "repeat":
                name = prefix
            elif scalars and arrays == "brackets":
                name = f"{prefix}[]"
            else:
                name = f"{prefix}[{index}]"
            _flatten(name, item, out, arrays=arrays)
    else:
        out.append((prefix, _scalar_text(value)))


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# --- The body -------------------------------------------------------------------------------------------------------


def _graphql_body(action: Action, placed: PlacedParams) -> tuple[bytes | None, str | None]:
    document = {"query": action.graphql_query or "", "variables": placed.variables}
    return json.dumps(document).encode(), "application/json"


def _json_body(action: Action, placed: PlacedParams) -> tuple[bytes | None, str | None]:
    whole = action.whole_body_param
    if whole is not None and whole in placed.body:
        return json.dumps(placed.body[whole]).encode(), "application/json"
    if not placed.body and action.method not in WRITE_METHODS:
        return None, None
    return json.dumps(placed.body).encode(), "application/json"


def _form_body(action: Action, placed: PlacedParams) -> tuple[bytes | None, str | None]:
    if not placed.body and action.method not in WRITE_METHODS:
        return None, None
    return urlencode(encode_pairs(placed.body, arrays="indexed")).encode(), "application/x-www-form-urlencoded"


def _multipart_related_body(action: Action, placed: PlacedParams) -> tuple[bytes | None, str | None]:
    """Google's multipart upload (`uploadType=multipart`): the body params as a JSON metadata part, then the media
    part: the `media: content` param base64-decoded, typed by the `media: content_type` param."""
    media = {p["media"]: n for n, p in action.param_properties.items() if isinstance(p, dict) and p.get("media")}
    metadata = {k: v for k, v in placed.body.items() if k not in media.values()}
    content_name = media.get("content", "content")
    try:
        content = base64.b64decode(str(placed.body.get(content_name) or ""), validate=True)
    except (binascii.Error, ValueError):
        raise _invalid(f"params.{content_name}", "Must be base64-encoded.") from None
    media_type = str(placed.body.get(media.get("content_type", ""), "") or "application/octet-stream")
    if "\r" in media_type or "\n" in media_type:
        raise _invalid(f"params.{media['content_type']}", "Must not contain line breaks.")
    boundary = f"patchbay-{uuid.uuid4().hex}"
    while boundary.encode() in content:
        boundary = f"patchbay-{uuid.uuid4().hex}"
    payload = b"".join(
        [
            f"--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n".encode(),
            json.dumps(metadata).encode(),
            f"\r\n--{boundary}\r\nContent-Type: {media_type}\r\n\r\n".encode(),
            content,
            f"\r\n--{boundary}--\r\n".encode(),
        ]
    )
    return payload, f"multipart/related; boundary={boundary}"


BODY_ENCODERS: dict[str, Callable[[Action, PlacedParams], tuple[bytes | None, str | None]]] = {
    "graphql": _graphql_body,
    "json": _json_body,
    "form": _form_body,
    "multipart_related": _multipart_related_body,
}


def encode_body(action: Action, placed: PlacedParams) -> tuple[bytes | None, str | None]:
    """(payload, Content-Type) for the action's body kind; (None, None) for `none` and empty bodies of reads."""
    encoder = BODY_ENCODERS.get(action.body_kind)
    return encoder(action, placed) if encoder else (None, None)
