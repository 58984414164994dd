"""execute_operation: one manifest action against the upstream API, normalised. No Django ORM here."""

from __future__ import annotations

import fnmatch
import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import requests

from connectors.catalog.params import CURSOR_PARAM, get_action, is_paginated, validate_params

from . import http
from .auth import AppliedAuth, apply_credentials, select_scheme
from .errors import OperationInputError, UpstreamError, make_error
from .pagination import PageInfo, page_info, place_cursor
from .util import PLACEHOLDER, dig, placeholders, scrub

logger = logging.getLogger("connectors.engine")
http.install_log_redaction()

DEFAULT_TIMEOUT = 20.0
DEFAULT_MAX_ATTEMPTS = 4
DEFAULT_MAX_RETRY_SECONDS = 30.0
DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
MAX_MESSAGE_LENGTH = 300
_HOST_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?")


@dataclass
class OperationResult:
    result: Any
    has_next_page: bool
    end_cursor: str | None
    status_code: int
    attempts: int
    duration_ms: int = 0
    rate_limit_remaining: int | None = None

    @property
    def connector_metadata(self) -> dict[str, Any]:
        return {"has_next_page": self.has_next_page, "end_cursor": self.end_cursor}


def _setting(name: str, default: Any) -> Any:
    try:
        from django.conf import settings

        return getattr(settings, name, default) if settings.configured else default
    except ImportError:  # the engine also runs outside Django (scripts, the SDK's tests)
        return default


# --------------------------------------------------------------------------------------------------------------------
# Building the request


def resolve_base_url(
    template: str,
    *,
    config_schema: dict[str, Any] | None,
    config: dict[str, Any],
    credentials: dict[str, Any],
    allowed_hosts: list[str] | None = None,
) -> str:
    """Fill {config.x} / {credentials.x}. A placeholder that starts the URL must be a whole https origin; one
    inside it (a subdomain, a site) may only hold host characters, so it cannot redirect the call elsewhere.

    A host that came from a placeholder (a value stored through the API or a token response) must be https, and
    match `allowed_hosts` (the definition's glob patterns) when given; only PATCHBAY_ALLOW_HTTP_HOSTS (loopback
    stand-ins) are exempt. Templates without placeholders come from the deployment (manifests, overrides): trusted.
    """
    defaults = {
        name: prop.get("default")
        for name, prop in ((config_schema or {}).get("properties") or {}).items()
        if isinstance(prop, dict) and "default" in prop
    }
    origin_fields: list[str] = []

    def sub(match: re.Match[str]) -> str:
        ref = match.group(1)
        source, _, name = ref.partition(".")
        if source == "config":
            value = config.get(name)
            if value in (None, ""):
                value = defaults.get(name)
            field = f"replication_config.{name}"
        elif source == "credentials":
            value = credentials.get(name)
            field = f"credentials.{name}"
        else:
            raise OperationInputError("invalid_config", f"base_url has an unknown placeholder {{{ref}}}.")
        if value in (None, "") or not isinstance(value, str):
            raise OperationInputError(
                "invalid_config",
                f"{field} is required to call this connector.",
                [{"field": field, "message": "This field is required.", "error_code": "required"}],
            )
        if match.start() == 0:
            origin_fields.append(field)
            parts = urlsplit(value)
            if (
                parts.scheme not in ("http", "https")
                or not parts.netloc
                or "@" in parts.netloc
                or parts.query
                or (parts.fragment)
            ):
                raise OperationInputError(
                    "invalid_config",
                    f"{field} must be an https URL without credentials, query or fragment.",
                    [{"field": field, "message": "Must be a valid URL.", "error_code": "invalid_value"}],
                )
            return value.rstrip("/")
        if not _HOST_LABEL.fullmatch(value):
            raise OperationInputError(
                "invalid_config",
                f"{field} may only contain letters, digits, dots and hyphens.",
                [{"field": field, "message": "Does not match the expected format.", "error_code": "invalid_value"}],
            )
        if match.start() < _authority_end(template):
            origin_fields.append(field)
        return value

    url = PLACEHOLDER.sub(sub, template).rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise OperationInputError("invalid_config", "The connector's base URL is not an http(s) URL.")
    if origin_fields:
        _check_bound_host(parts, origin_fields, allowed_hosts)
    return url


def _authority_end(template: str) -> int:
    """Where the template's host part ends: placeholders before it decide where requests go."""
    start = template.find("://")
    if start < 0:
        return 0
    slash = template.find("/", start + 3)
    return len(template) if slash < 0 else slash


def _check_bound_host(parts: Any, fields: list[str], allowed_hosts: list[str] | None) -> None:
    host = (parts.hostname or "").lower()
    dev_hosts = {h.lower() for h in _setting("PATCHBAY_ALLOW_HTTP_HOSTS", [])}
    if host in dev_hosts:
        return
    problem = None
    if parts.scheme != "https":
        problem = "Must be an https URL."
    elif allowed_hosts and not any(fnmatch.fnmatchcase(host, pattern.lower()) for pattern in allowed_hosts):
        problem = f"This connector type only calls {', '.join(allowed_hosts)}."
    if problem:
        raise OperationInputError(
            "invalid_config",
            f"{fields[0]} points requests at a host this connector may not use. {problem}",
            [{"field": field, "message": problem, "error_code": "host_not_allowed"} for field in fields],
        )


def _flatten(prefix: str, value: Any, out: list[tuple[str, str]], *, arrays: str) -> None:
    """Stripe-style bracket nesting for objects (a[b]=1, items[0][price]=x); arrays of scalars per `arrays`:
    repeat (a=1&a=2), indexed (a[0]=1), brackets (a[]=1) or comma (a=1,2)."""
    if value is None:
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


def encode_pairs(values: dict[str, Any], *, arrays: str = "repeat") -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for key, value in values.items():
        _flatten(key, value, out, arrays=arrays)
    return out


def _deep_merge(target: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _deep_merge(target[key], value)
        else:
            target[key] = value


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


def _body_kind(spec: dict[str, Any]) -> str:
    if spec.get("body"):
        return spec["body"]
    if spec.get("graphql"):
        return "graphql"
    return "json" if spec["method"] in ("POST", "PUT", "PATCH") else "none"


def _invalid(field: str, message: str, code: str = "invalid_value") -> OperationInputError:
    return OperationInputError(
        "invalid_params", f"Invalid params: {field}.", [{"field": field, "message": message, "error_code": code}]
    )


def prepare_call(
    *,
    manifest: dict[str, Any],
    spec: dict[str, Any],
    scheme: dict[str, Any],
    auth: AppliedAuth,
    config: dict[str, Any],
    credentials: dict[str, Any],
    params: dict[str, Any],
) -> PreparedCall:
    method = spec["method"]
    kind = _body_kind(spec)
    base_url = resolve_base_url(
        spec.get("base_url") or scheme.get("base_url") or manifest["base_url"],
        config_schema=manifest.get("config_schema"),
        config=config,
        credentials=credentials,
        allowed_hosts=manifest.get("allowed_hosts"),
    )
    base = urlsplit(base_url)
    origin = f"{base.scheme}://{base.netloc}"
    props = (spec.get("params") or {}).get("properties") or {}
    path_names = set(placeholders(spec["path"]))
    params = dict(params)
    cursor = params.pop(CURSOR_PARAM, None) if is_paginated(spec) and CURSOR_PARAM not in props else None
    # Manifest defaults fill what the caller left out and go wherever the param would.
    params = {**(spec.get("defaults") or {}), **params}

    path_values: dict[str, str] = {}
    query: dict[str, Any] = {}
    body: dict[str, Any] = {}
    variables: dict[str, Any] = {}
    header_params: dict[str, str] = {}
    for name, value in params.items():
        prop = props.get(name) if isinstance(props.get(name), dict) else {}
        where = prop.get("in") or (
            "path"
            if name in path_names
            else "variables"
            if kind == "graphql"
            else "query"
            if method in ("GET", "DELETE", "HEAD") or kind == "none"
            else "body"
        )
        if where == "path":
            text = "true" if value is True else "false" if value is False else str(value)
            if text in ("", ".", "..") or isinstance(value, dict | list):
                raise _invalid(f"params.{name}", "Must be a non-empty value usable in a URL path.")
            path_values[name] = quote(text, safe="")
        elif where == "query":
            query[name] = value
        elif where == "header":
            text = str(value)
            if "\r" in text or "\n" in text:
                raise _invalid(f"params.{name}", "Must not contain line breaks.")
            header_params[name] = text
        elif kind == "graphql":
            variables[name] = value
        else:
            body[name] = value
    missing = sorted(path_names - set(path_values))
    if missing:
        raise OperationInputError(
            "invalid_params",
            f"Invalid params: {', '.join('params.' + m for m in missing)}.",
            [{"field": f"params.{m}", "message": "This field is required.", "error_code": "required"} for m in missing],
        )
    path = re.sub(r"\{([A-Za-z_][A-Za-z0-9_]*)\}", lambda m: path_values[m.group(1)], spec["path"])
    literal_prefix = spec["path"].split("{", 1)[0]
    required_prefix = base.path.rstrip("/") + "/" + literal_prefix.lstrip("/")

    replace_query: list[tuple[str, str]] | None = None
    path_override: str | None = None
    if cursor is not None:
        placement = place_cursor(
            spec.get("pagination") or {}, str(cursor), body_kind=kind, method=method, required_prefix=required_prefix
        )
        query.update(placement.query)
        _deep_merge(body, placement.body)
        variables.update(placement.variables)
        replace_query, path_override = placement.replace_query, placement.path_override

    if path_override is not None:
        url_path_and_query = path_override
        pairs: list[tuple[str, str]] = []
        log_path = path_override.split("?", 1)[0]
    else:
        full_path = base.path.rstrip("/") + (path if path.startswith("/") else "/" + path)
        if replace_query is not None:
            pairs = [(k, v) for k, v in replace_query if k not in auth.query]
        else:
            pairs = encode_pairs(query, arrays=manifest.get("query_arrays", "repeat"))
        url_path_and_query = full_path
        log_path = full_path
    pairs += list(auth.query.items())
    url = origin + url_path_and_query
    if pairs:
        url += ("&" if "?" in url_path_and_query else "?") + urlencode(pairs)

    headers: dict[str, str] = {"Accept": "application/json"}
    headers.update(manifest.get("headers") or {})
    headers.update(spec.get("headers") or {})
    headers.update(header_params)
    headers.update(auth.headers)

    payload: bytes | None = None
    if kind == "graphql":
        document = {"query": (spec.get("graphql") or {}).get("query", ""), "variables": variables}
        payload = json.dumps(document).encode()
        headers["Content-Type"] = "application/json"
    elif kind == "json" and (body or method in ("POST", "PUT", "PATCH")):
        payload = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    elif kind == "form" and (body or method in ("POST", "PUT", "PATCH")):
        payload = urlencode(encode_pairs(body, arrays="indexed")).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"

    idempotent = spec.get("idempotent")
    if idempotent is None:
        query_text = (spec.get("graphql") or {}).get("query", "").lstrip()
        idempotent = method in IDEMPOTENT_METHODS or (kind == "graphql" and not query_text.startswith("mutation"))
    idem_header = manifest.get("idempotency_header")
    if not idempotent and idem_header:
        # The vendor de-duplicates on this key, which makes retrying a write safe.
        headers.setdefault(idem_header, str(uuid.uuid4()))
        idempotent = True

    return PreparedCall(
        method=method,
        url=url,
        log_target=f"{base.netloc}{log_path}",
        headers=headers,
        body=payload,
        query=query,
        idempotent=bool(idempotent),
        origin=origin.lower(),
        required_prefix=required_prefix,
    )


# --------------------------------------------------------------------------------------------------------------------
# Reading the response


def _parse_json(content: bytes) -> Any:
    if not content.strip():
        return None
    return json.loads(content.decode("utf-8-sig"))


MESSAGE_PATHS = (
    "message",
    "error.message",
    "error_description",
    "errorMessages.0",
    "errors.0.message",
    "errors.0.detail",
    "errors.0.title",
    "0.message",
    "error.title",
    "description",
    "detail",
    "title",
    "error",
)


def vendor_message(body: Any, path: str | None) -> str | None:
    for candidate in ([path] if path else []) + list(MESSAGE_PATHS):
        value = dig(body, candidate)
        if isinstance(value, str) and value.strip():
            return value.strip()
        if isinstance(value, dict) and isinstance(value.get("message"), str):
            return value["message"].strip()
    return None


@dataclass
class Outcome:
    body: Any = None
    error_code: str | None = None
    message: str | None = None
    hint: float | None = None
    retryable: bool = False


def _rate_hint(headers: Any, rate_limit: dict[str, Any]) -> float | None:
    hint = http.parse_retry_after(headers.get("Retry-After"))
    if hint is None and rate_limit.get("reset_header"):
        hint = http.parse_reset(headers.get(rate_limit["reset_header"]), rate_limit.get("reset_format"))
    return hint


def classify(raw: http.RawResponse, *, manifest: dict[str, Any], idempotent: bool) -> Outcome:
    errors_cfg = manifest.get("errors") or {}
    rate_limit = manifest.get("rate_limit") or {}
    codes: dict[str, str] = errors_cfg.get("codes") or {}
    status = raw.status_code
    try:
        body = _parse_json(raw.content)
        parsed = True
    except (ValueError, UnicodeDecodeError):
        body, parsed = None, False

    vendor_code: Any = None
    message = vendor_message(body, errors_cfg.get("message_field")) if body is not None else None
    failed_in_body = False
    if errors_cfg.get("graphql") and isinstance(body, dict) and isinstance(body.get("errors"), list) and body["errors"]:
        first = body["errors"][0] if isinstance(body["errors"][0], dict) else {}
        vendor_code = dig(first, "extensions.code")
        message = first.get("message") if isinstance(first.get("message"), str) else message
        failed_in_body = True
    if errors_cfg.get("ok_field") and isinstance(body, dict) and body.get(errors_cfg["ok_field"]) is False:
        vendor_code = dig(body, errors_cfg.get("code_field") or errors_cfg.get("message_field") or "error")
        failed_in_body = True
    elif errors_cfg.get("code_field") and body is not None and vendor_code is None:
        vendor_code = dig(body, errors_cfg["code_field"])
    mapped = codes.get(vendor_code) if isinstance(vendor_code, str) else None

    if 200 <= status < 300 and not failed_in_body:
        if not parsed:
            return Outcome(error_code="invalid_response", message="The upstream response is not valid JSON.")
        return Outcome(body=body)

    if 200 <= status < 300:
        code = mapped or "bad_request"
    elif status in http.REDIRECT_STATUSES:
        return Outcome(error_code="upstream_error", message="The upstream redirected to another host; not followed.")
    elif status == 401:
        code = mapped or "credentials_rejected"
    elif status == 403:
        exhausted = rate_limit.get("remaining_header") and raw.headers.get(rate_limit["remaining_header"]) == "0"
        code = mapped or ("rate_limited" if exhausted or raw.headers.get("Retry-After") else "credentials_rejected")
    elif status in (404, 410):
        code = mapped or "not_found"
    elif status == 429:
        code = "rate_limited"
    elif status >= 500 or status == 408:
        code = mapped or "upstream_error"
    else:
        code = mapped or "bad_request"

    hint = (
        _rate_hint(raw.headers, rate_limit)
        if code == "rate_limited"
        else http.parse_retry_after(raw.headers.get("Retry-After"))
    )
    if code == "rate_limited":
        retryable = status == 429 or hint is not None
    elif code == "upstream_error":
        retryable = idempotent or status == 503
    else:
        retryable = False
    return Outcome(body=body, error_code=code, message=message, hint=hint, retryable=retryable)


# --------------------------------------------------------------------------------------------------------------------
# The entry point


def execute_operation(
    *,
    manifest: dict[str, Any],
    credentials: dict[str, Any],
    config: dict[str, Any] | None,
    entity: str,
    action: str,
    params: dict[str, Any] | None,
    auth_scheme: str | None = None,
    session: requests.Session | None = None,
    timeout: float | None = None,
    max_attempts: int | None = None,
    max_retry_seconds: float | None = None,
    max_body_bytes: int | None = None,
    sleep: Callable[[float], Any] = time.sleep,
    validate: bool = True,
) -> OperationResult:
    """Run one action. Raises UnknownOperation (connectors.catalog.params) or UpstreamError (code, message, ...).

    Defaults for timeout/max_attempts/max_retry_seconds/max_body_bytes come from the PATCHBAY_UPSTREAM_* settings.
    """
    timeout = float(timeout if timeout is not None else _setting("PATCHBAY_UPSTREAM_TIMEOUT", DEFAULT_TIMEOUT))
    max_attempts = max(1, int(max_attempts or _setting("PATCHBAY_UPSTREAM_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS)))
    max_retry_seconds = float(
        max_retry_seconds
        if max_retry_seconds is not None
        else _setting("PATCHBAY_UPSTREAM_MAX_RETRY_SECONDS", DEFAULT_MAX_RETRY_SECONDS)
    )
    max_body_bytes = int(max_body_bytes or _setting("PATCHBAY_UPSTREAM_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES))
    credentials = credentials or {}
    config = config or {}
    params = params or {}

    spec = get_action(manifest, entity, action)
    if validate:
        field_errors = validate_params(manifest, entity, action, params)
        if field_errors:
            names = ", ".join(e["field"] for e in field_errors)
            raise OperationInputError("invalid_params", f"Invalid params: {names}.", field_errors)
    scheme = select_scheme(manifest, auth_scheme, credentials)
    auth = apply_credentials(scheme, credentials)
    call = prepare_call(
        manifest=manifest, spec=spec, scheme=scheme, auth=auth, config=config, credentials=credentials, params=params
    )
    name = manifest.get("name") or manifest.get("slug") or "The upstream API"
    session = session or http.shared_session()
    started = time.monotonic()
    attempts = 0
    slept = 0.0
    status: int | None = None

    def fail(code: str, message: str, **kwargs: Any) -> UpstreamError:
        text = scrub(message, auth.secrets)
        if len(text) > MAX_MESSAGE_LENGTH:
            text = text[: MAX_MESSAGE_LENGTH - 1] + "…"
        _log(call, status, attempts, started, code)
        return make_error(code, text, attempts=attempts, **kwargs)

    def budget_sleep(delay: float) -> bool:
        nonlocal slept
        remaining = max_retry_seconds - slept
        if remaining <= 0:
            return False
        delay = min(delay, remaining)
        sleep(delay)
        slept += delay
        return True

    while True:
        attempts += 1
        try:
            raw = http.send_once(
                session,
                method=call.method,
                url=call.url,
                headers=call.headers,
                body=call.body,
                timeout=timeout,
                max_body_bytes=max_body_bytes,
                auth_query=auth.query,
            )
        except UpstreamError as exc:  # ResponseTooLarge
            status = exc.status_code
            raise fail(exc.code, exc.message, status_code=exc.status_code) from None
        except requests.Timeout as exc:
            retry = http.failed_before_sending(exc) and attempts < max_attempts
            if retry and budget_sleep(http.backoff_delay(attempts)):
                continue
            message = f"{name} did not answer {call.method} {call.log_target} within {timeout:g}s."
            raise fail("timeout", message) from None
        except requests.RequestException as exc:
            retry = call.idempotent or http.failed_before_sending(exc)
            if retry and attempts < max_attempts and budget_sleep(http.backoff_delay(attempts)):
                continue
            host = call.log_target.split("/", 1)[0]
            raise fail("connection_error", f"Could not complete the connection to {host}.") from None

        status = raw.status_code
        outcome = classify(raw, manifest=manifest, idempotent=call.idempotent)
        if outcome.error_code is None:
            break
        if outcome.retryable and attempts < max_attempts:
            if outcome.hint is not None:
                if slept + outcome.hint > max_retry_seconds:
                    raise fail(
                        outcome.error_code,
                        _error_text(name, call, raw.status_code, outcome),
                        status_code=raw.status_code,
                        retry_after=outcome.hint,
                    ) from None
                sleep(outcome.hint)
                slept += outcome.hint
                continue
            if budget_sleep(http.backoff_delay(attempts)):
                continue
        raise fail(
            outcome.error_code,
            _error_text(name, call, raw.status_code, outcome),
            status_code=raw.status_code,
            retry_after=outcome.hint if outcome.error_code == "rate_limited" else None,
        ) from None

    body = outcome.body
    records = dig(body, spec["records"]) if spec.get("records") else body
    pagination = spec.get("pagination") or {}
    info = PageInfo()
    if is_paginated(spec):
        limit_param = pagination.get("limit_param", "limit")
        limit_default = (((spec.get("params") or {}).get("properties") or {}).get(limit_param) or {}).get("default")
        info = page_info(
            pagination,
            body=body,
            headers=raw.headers,
            records=records,
            request_query=call.query,
            default_limit=limit_default if isinstance(limit_default, int) else None,
            origin=call.origin,
            required_prefix=call.required_prefix,
            drop_query_names=set(auth.query),
            secrets=auth.secrets,
        )
    remaining_header = (manifest.get("rate_limit") or {}).get("remaining_header")
    remaining = raw.headers.get(remaining_header) if remaining_header else None
    duration_ms = _log(call, status, attempts, started, None)
    return OperationResult(
        result=records,
        has_next_page=info.has_next_page,
        end_cursor=info.end_cursor,
        status_code=raw.status_code,
        attempts=attempts,
        duration_ms=duration_ms,
        rate_limit_remaining=int(remaining) if remaining and remaining.isdigit() else None,
    )


def _error_text(name: str, call: PreparedCall, status: int, outcome: Outcome) -> str:
    text = f"{name} answered {status} to {call.method} {call.log_target}"
    if outcome.error_code == "invalid_response":
        return f"{text}: the response is not valid JSON."
    return f"{text}: {outcome.message}" if outcome.message else f"{text}."


def _log(call: PreparedCall, status: int | None, attempts: int, started: float, error_code: str | None) -> int:
    duration_ms = int((time.monotonic() - started) * 1000)
    logger.log(
        logging.WARNING if error_code else logging.INFO,
        "upstream %s %s -> %s in %d attempt(s), %d ms%s",
        call.method,
        call.log_target,
        status if status is not None else "no response",
        attempts,
        duration_ms,
        f" ({error_code})" if error_code else "",
        extra={
            "upstream_method": call.method,
            "upstream_target": call.log_target,
            "upstream_status": status,
            "upstream_attempts": attempts,
            "upstream_duration_ms": duration_ms,
            "upstream_error_code": error_code,
        },
    )
    return duration_ms
