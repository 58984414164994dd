"""Checking the requests our manifests build against the vendors' own OpenAPI descriptions (tests/contracts/specs).

The request is the one the engine really sends: `execute_operation` runs against a loopback recorder, and what the
recorder saw is put back on the vendor's real origin and base path and handed to openapi-core, which finds the
operation and validates the path, query, header and cookie parameters (names, types, enums, required ones), the
security requirement and the body (content type, required fields, types). openapi-core ignores parameters a
description does not declare, so on top of it a sent query parameter or top-level JSON body field the operation does
not declare is reported too: a misspelt name must not pass.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import importlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from openapi_core import Config, OpenAPI
from openapi_core.casting.schemas import oas30_write_schema_casters_factory
from openapi_core.datatypes import RequestParameters
from openapi_core.deserializing.styles import StyleDeserializersFactory, style_deserializers
from openapi_core.templating.paths.exceptions import PathError
from openapi_core.validation.request.exceptions import ParameterValidationError, RequestBodyValidationError
from werkzeug import Request
from werkzeug.datastructures import Headers, ImmutableMultiDict

from connectors.catalog import Manifest
from connectors.catalog.manifest import Action
from connectors.catalog.params import public_params_schema, validate_params
from connectors.engine import Limits, UpstreamError, execute_operation, resolve_base_url
from connectors.engine.auth import select_scheme

SPECS = Path(__file__).resolve().parent / "specs"
LIMITS = Limits(max_attempts=1)


# --- The descriptions ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Description:
    name: str
    app: OpenAPI
    raw: dict[str, Any]

    @property
    def origin(self) -> str:
        parts = urlsplit(self.raw["servers"][0]["url"])
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def source(self) -> dict[str, Any]:
        return self.raw["info"]["x-patchbay-source"]


def bracket_loads(explode: bool, name: str, schema_type: str, location: Mapping[str, Any]) -> Any:
    """The deepObject style as Stripe uses it: `name[a][0][b]=v`, nested to any depth, numeric keys for array
    items. openapi-core's own deepObject reads one level of an object only (and no arrays, no anyOf); the casting
    and validation after this step are openapi-core's."""
    prefix = name + "["
    items = [(key, value) for key, value in location.items() if key.startswith(prefix)]
    if not items:
        raise KeyError(name)
    root: dict[str, Any] = {}
    for key, value in items:
        parts = re.findall(r"\[([^\]]*)\]", key[len(name) :])
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return _as_lists(root)


def _as_lists(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    if node and all(key.isdigit() for key in node):
        return [_as_lists(node[key]) for key in sorted(node, key=int)]
    return {key: _as_lists(value) for key, value in node.items()}


CONFIG = Config(
    style_deserializers_factory=StyleDeserializersFactory(
        oas30_write_schema_casters_factory, style_deserializers={**style_deserializers, "deepObject": bracket_loads}
    )
)


@functools.cache
def description(name: str) -> Description:
    raw = json.loads((SPECS / f"{name}.json").read_text())
    return Description(name, OpenAPI.from_dict(copy.deepcopy(raw), config=CONFIG), raw)


# --- Sample params -------------------------------------------------------------------------------------------------

SAMPLE_STRINGS = {
    "date-time": "2025-01-02T03:04:05Z",
    "date": "2025-01-02",
    "email": "ada@example.com",
    "uri": "https://example.com/x",
    "url": "https://example.com/x",
}


ANY_OBJECT = {"key": "value"}  # for an object param whose schema lists no properties


def sample(schema: Any, name: str = "value", depth: int = 0) -> Any:
    """A value valid for a params schema fragment: its example, a default, an enum's first choice, or one by type."""
    if not isinstance(schema, dict):
        return "x1"
    for key in ("oneOf", "anyOf"):
        if schema.get(key):
            return sample(schema[key][0], name, depth)
    if "const" in schema:
        return schema["const"]
    if schema.get("examples"):
        return schema["examples"][0]
    if "default" in schema and schema["default"] is not None:
        return schema["default"]
    if schema.get("enum"):
        return next((v for v in schema["enum"] if v is not None), schema["enum"][0])
    kind = schema.get("type", "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if kind == "integer":
        return max(int(schema.get("minimum", 1)), 1) if schema.get("maximum", 2) >= 1 else schema["maximum"]
    if kind == "number":
        return max(schema.get("minimum", 1), 1)
    if kind == "boolean":
        return True
    if kind == "array":
        return [sample(schema.get("items", {}), name, depth + 1)] if depth < 3 else []
    if kind == "object":
        props = schema.get("properties") or {}
        wanted = props if depth < 2 else {k: props[k] for k in schema.get("required", []) if k in props}
        if not props:
            return dict(ANY_OBJECT)
        return {key: sample(prop, key, depth + 1) for key, prop in wanted.items()}
    if schema.get("contentEncoding") == "base64":
        return "eDE="  # "x1", base64-encoded (file content)
    if schema.get("format") in SAMPLE_STRINGS:
        return SAMPLE_STRINGS[schema["format"]]
    candidates = ["x1", "usd", "abc", "a_1", "1", "2025-01-02"]
    pattern = schema.get("pattern")
    if pattern:
        candidates.append(_from_pattern(pattern))
    text = next((c for c in candidates if not pattern or re.search(pattern, c)), "x1")
    return text.ljust(schema.get("minLength", 0), "x")


def _from_pattern(pattern: str) -> str:
    """A string for a simple anchored pattern of literals and character classes with counts (Twilio's SIDs,
    `^AC[0-9a-fA-F]{32}$`): each class's first character, repeated its minimum count. Anything else: ""."""
    out = []
    for literal, klass, count in re.findall(
        r"(\\.|[A-Za-z0-9_\-])|\[([^\]]+)\]|\{(\d+)(?:,\d*)?\}", pattern.strip("^$")
    ):
        if count:
            out[-1:] = [out[-1] * int(count)] if out else []
        else:
            out.append(klass[0] if klass else literal.lstrip("\\"))
    return "".join(out)


def every_param(manifest: Manifest, action: Action) -> dict[str, Any] | None:
    """A value for every param the action declares, less those the params schema turns down (exclusive pairs,
    patterns): the widest request the operation builds, so every name and type reaches the description. None when
    no valid set could be made (the test reports it)."""
    schema = public_params_schema(action)
    params = {name: sample(prop, name) for name, prop in schema["properties"].items() if name != "cursor"}
    for _ in range(len(params) + 1):
        errors = validate_params(manifest, action.entity, action.name, params)
        if not errors:
            return params
        bad = {e["field"].removeprefix("params.").split(".")[0].split("[")[0] for e in errors}
        if bad & set(schema.get("required", [])) or not bad:
            return None
        params = {name: value for name, value in params.items() if name not in bad}
    return None


def table_cases(module_names: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Params of the hand-written cases in tests/catalog_depth (`*_CASES` tables: entity, action, params, ...)."""
    cases: dict[str, list[dict[str, Any]]] = {}
    for module_name in module_names:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        for attr, table in vars(module).items():
            if not attr.endswith("_CASES") or not isinstance(table, list):
                continue
            for case in table:
                if isinstance(case, tuple) and len(case) > 2 and isinstance(case[2], dict):
                    cases.setdefault(f"{case[0]}.{case[1]}", []).append(case[2])
    return cases


# --- Sending and validating -----------------------------------------------------------------------------------------


@dataclass
class VendorRequest:
    """A recorded request as the vendor would have received it (openapi_core.protocols.Request)."""

    host_url: str
    path: str
    method: str
    body: bytes | None
    content_type: str
    parameters: RequestParameters
    path_pattern: str | None = None  # set for x-multi-segment paths (see _multi_segment_pattern)


@dataclass
class Outcome:
    operation: str
    sent: str  # "GET /v1/customers?limit=2", for messages
    description: str | None  # the description that has the path, None when none does
    problems: list[str] = field(default_factory=list)


@dataclass
class Service:
    slug: str
    descriptions: tuple[str, ...]
    credentials: dict[str, Any]
    config: dict[str, Any] = field(default_factory=dict)
    case_modules: tuple[str, ...] = ()


def send(
    manifest: Manifest, pointed: Manifest, service: Service, action: Action, params: dict[str, Any], recorder: Any
) -> Request:
    before = len(recorder.requests)
    # The request is what is checked; the stand-in's canned answer may not suit every operation.
    with contextlib.suppress(UpstreamError):
        execute_operation(
            manifest=pointed,
            credentials=service.credentials,
            config=service.config,
            entity=action.entity,
            action=action.name,
            params=params,
            limits=LIMITS,
        )
    assert len(recorder.requests) == before + 1, f"{action.entity}.{action.name}: no request reached the recorder"
    return recorder.requests[-1]


def vendor_request(manifest: Manifest, service: Service, action: Action, recorded: Request) -> VendorRequest:
    """The recorded request on the vendor's real origin and base path (the loopback base URL has no path)."""
    scheme = select_scheme(manifest, None, service.credentials)
    base = urlsplit(
        resolve_base_url(
            manifest.base_url_for(action, scheme),
            config=service.config,
            credentials=service.credentials,
            config_defaults=manifest.config_defaults,
            allowed_hosts=manifest.allowed_hosts,
        )
    )
    body = recorded.get_data()
    return VendorRequest(
        host_url=f"{base.scheme}://{base.netloc}",
        path=base.path.rstrip("/") + recorded.path,
        method=recorded.method.lower(),
        body=body or None,
        content_type=recorded.content_type or "application/octet-stream",
        parameters=RequestParameters(
            query=ImmutableMultiDict(list(recorded.args.items(multi=True))),
            header=Headers(recorded.headers),
            cookie=ImmutableMultiDict(recorded.cookies),
        ),
    )


def check(descriptions: list[Description], operation: str, request: VendorRequest, *, generated: bool) -> Outcome:
    """Validate one request. `generated`: its params came from `every_param`, so an enum or format error on a value
    the generator made up (the params schema gave it nothing better) is the sample's fault, not the manifest's."""
    sent = f"{request.method.upper()} {request.path}"
    for desc in descriptions:
        if desc.origin != request.host_url:
            continue
        _multi_segment_pattern(desc, request)
        try:
            _, _, _, path_result, _ = desc.app.request_validator._find_path(request)
        except PathError:
            continue
        outcome = Outcome(operation, sent, desc.name)
        for error in desc.app.iter_request_errors(request):
            outcome.problems += _messages(error, generated=generated)
        outcome.problems += _undeclared(desc.raw, path_result.pattern, request)
        return outcome
    return Outcome(operation, sent, None)


MADE_UP = {"x1", "usd", "abc", "a_1", "1", *ANY_OBJECT.values(), *SAMPLE_STRINGS.values()}


def _messages(error: Exception, *, generated: bool) -> list[str]:
    """One line per problem: where (body, query NAME, ...), the JSON path inside it, what is wrong."""
    where = "body" if isinstance(error, RequestBodyValidationError) else ""
    if isinstance(error, ParameterValidationError):
        where = f"{error.location} {error.name}"
    details = getattr(error.__cause__, "schema_errors", None)
    if not details:
        return [f"{where or type(error).__name__}: {error}"]
    lines = []
    for detail in details:
        # A value the generator made up for a param whose schema gave nothing better (no enum, format or
        # properties): an error about it says the sample is poor, not that the manifest is wrong.
        made_up = (isinstance(detail.instance, str) and detail.instance in MADE_UP) or detail.instance == ANY_OBJECT
        invented = detail.validator in ("enum", "format", "pattern", "anyOf", "oneOf", "additionalProperties")
        inside_any_object = detail.instance == ANY_OBJECT["key"] and detail.validator == "type"
        if generated and made_up and (invented or inside_any_object):
            continue
        inner = ".".join(map(str, detail.absolute_path))
        lines.append(f"{where}{' ' + inner if inner else ''}: {detail.message}")
    return sorted(set(lines))


def _multi_segment_pattern(desc: Description, request: VendorRequest) -> None:
    """openapi-core matches each path parameter within one segment; a parameter the description marks
    `x-multi-segment` (GitHub's file paths and git refs) may span several. Match those templates here and hand
    openapi-core the template and the values."""
    server_path = urlsplit(desc.raw["servers"][0]["url"]).path.rstrip("/")
    for template, item in desc.raw["paths"].items():
        operation = item.get(request.method)
        if not isinstance(operation, dict):
            continue
        params = [_resolve(desc.raw, p) for p in [*item.get("parameters", []), *operation.get("parameters", [])]]
        multi = {p["name"] for p in params if p.get("in") == "path" and p.get("x-multi-segment")}
        if not multi:
            continue
        regex = "".join(
            f"(?P<{part[1:-1]}>{'.+' if part[1:-1] in multi else '[^/]+'})" if part.startswith("{") else re.escape(part)
            for part in re.split(r"(\{[^}]+\})", server_path + template)
        )
        match = re.fullmatch(regex, request.path)
        if match:
            request.path_pattern = server_path + template
            request.parameters.path = match.groupdict()
            return


def _resolve(spec: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and isinstance(node.get("$ref"), str):
        target: Any = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def _undeclared(spec: dict[str, Any], template: str, request: VendorRequest) -> list[str]:
    """Names the operation does not declare: query params, and top-level fields of a JSON body whose schema lists
    its properties (and does not open additionalProperties to anything)."""
    item = spec["paths"][template]
    operation = item[request.method]
    params = [_resolve(spec, p) for p in [*item.get("parameters", []), *operation.get("parameters", [])]]
    declared = {p["name"] for p in params if p.get("in") == "query"}
    sent = {name.split("[", 1)[0] for name in request.parameters.query}
    problems = [f"query parameter {name!r} is not in the description" for name in sorted(sent - declared)]
    if request.body and request.content_type.startswith("application/json"):
        media = (_resolve(spec, operation.get("requestBody", {})).get("content") or {}).get("application/json") or {}
        names = _property_names(spec, _resolve(spec, media.get("schema", {})))
        body = json.loads(request.body)
        if names is not None and isinstance(body, dict):
            problems += [f"body field {n!r} is not in the description" for n in sorted(set(body) - names)]
    return problems


def _property_names(spec: dict[str, Any], schema: dict[str, Any]) -> set[str] | None:
    """The property names a body schema declares (through allOf); None when it takes any field."""
    names: set[str] = set()
    for part in [schema, *schema.get("allOf", [])]:
        part = _resolve(spec, part)
        extra = part.get("additionalProperties")
        if extra is True or (isinstance(extra, dict) and extra):
            return None
        names |= set(part.get("properties") or {})
    return names or None
