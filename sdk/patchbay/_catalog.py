"""The typed connectors' data model, shared by the runtime (`patchbay.connectors`) and `manage.py generate_sdk`.

`patchbay/connectors/catalog.json` is the catalog's public description (what `GET /definitions/sources/{id}` serves),
trimmed to what the SDK uses. `parse_catalog()` turns it into specs with every Python name, annotation and docstring
resolved. The classes built at import and the stub (`__init__.pyi`) that editors and type checkers read are both made
from these specs, so they cannot disagree.
"""

from __future__ import annotations

import json
import keyword
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

FORMAT = 1

# Attribute names the hand-written bases already use: a generated name equal to one gets a trailing underscore.
EXECUTOR_NAMES = frozenset(
    {
        "slug",
        "connector_id",
        "connector_slug",
        "definition_id",
        "resolve",
        "submit",
        "get_execution",
        "wait",
        "execute",
        "execute_raw",
        "pages",
        "paginate",
        "describe",
        "check",
        "close",
    }
)
ENTITY_NAMES = frozenset({"raw", "paginate"})
# Builtins the annotations use; an entity with a method of the same name must spell them builtins.X (in a class body
# the method would shadow the builtin).
ANNOTATION_BUILTINS = ("list", "dict", "str", "int", "float", "bool")
JSON_TYPES = {"string": "str", "integer": "int", "number": "float", "boolean": "bool"}
# The params-schema keys the SDK reads: types, and the constraints its docstrings mention. Everything else the API
# serves (where a param goes, examples, nested object properties) is left out of catalog.json.
SCHEMA_KEYS = (
    "type",
    "const",
    "enum",
    "items",
    "description",
    "title",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "pattern",
    "format",
    "default",
)
# The `cursor` parameter every paginated action takes (docs/catalog.md, "Pagination"), as the API describes it.
# catalog.json leaves it out of an action whose last parameter is exactly this, and the specs put it back.
CURSOR_PARAM = "cursor"
CURSOR_SCHEMA: Mapping[str, Any] = {
    "type": "string",
    "description": "Pass connector_metadata.end_cursor from the previous page to fetch the next one.",
    "minLength": 1,
}
NOTE_KEYS = (
    ("minimum", "Minimum"),
    ("maximum", "Maximum"),
    ("minLength", "Minimum length"),
    ("maxLength", "Maximum length"),
    ("minItems", "Minimum items"),
    ("maxItems", "Maximum items"),
    ("pattern", "Pattern"),
    ("format", "Format"),
)


# --- names -----------------------------------------------------------------------------------------------------


def identifier(name: str, *, reserved: Iterable[str] = ()) -> str:
    """A valid, non-keyword Python identifier for `name` (snake-ish), avoiding `reserved`."""
    out = re.sub(r"\W", "_", name.strip()) or "_"
    if out[0].isdigit():
        out = f"n_{out}"
    if keyword.iskeyword(out) or keyword.issoftkeyword(out) or out in reserved or out == "self":
        out += "_"
    return out


def class_name(*parts: str) -> str:
    """CamelCase that keeps existing capitals: ("GitHub", "pull_requests") -> GitHubPullRequests."""
    words = [w for part in parts for w in re.split(r"[^0-9A-Za-z]+", part) if w]
    out = "".join(w[0].upper() + w[1:] for w in words) or "Connector"
    return f"C{out}" if out[0].isdigit() else out


def unique(names: Iterable[str], taken: set[str] | None = None) -> list[str]:
    """The names in order, a clash with an earlier one (or with `taken`) suffixed _1, _2, ...; updates `taken`."""
    taken = set() if taken is None else taken
    out = []
    for name in names:
        candidate, n = name, 0
        while candidate in taken:
            n += 1
            candidate = f"{name}_{n}"
        taken.add(candidate)
        out.append(candidate)
    return out


# --- types and notes from JSON schema --------------------------------------------------------------------------


def python_literal(value: Any) -> str:
    """Source for a JSON scalar, strings double-quoted as the formatter would write them."""
    return json.dumps(value, ensure_ascii=False) if isinstance(value, str) else repr(value)


def literal_values(schema: Any) -> list[str] | None:
    """The sources of a const/enum schema's values when they can be a Literal, else None."""
    if not isinstance(schema, dict):
        return None
    values = [schema["const"]] if "const" in schema else schema.get("enum")
    if not isinstance(values, list) or not values:
        return None
    if not all(v is None or isinstance(v, str | int | float | bool) for v in values):
        return None
    return [python_literal(v) for v in values]


def py_type(schema: Any, shadowed: frozenset[str] = frozenset()) -> str:
    """A Python annotation for a JSON schema (the subset manifests use); Any when it can't say more."""

    def builtin(name: str) -> str:
        return f"builtins.{name}" if name in shadowed else name

    if not isinstance(schema, dict):
        return "Any"
    if "const" in schema or isinstance(schema.get("enum"), list):
        values = literal_values(schema)
        return f"Literal[{', '.join(values)}]" if values else "Any"
    kind = schema.get("type")
    if isinstance(kind, list):
        parts = [py_type({**schema, "type": k}, shadowed) for k in kind]
        return " | ".join(dict.fromkeys(parts)) if parts else "Any"
    if kind in JSON_TYPES:
        return builtin(JSON_TYPES[kind])
    if kind == "null":
        return "None"
    if kind == "array":
        return f"{builtin('list')}[{py_type(schema.get('items'), shadowed)}]"
    if kind == "object":
        return f"{builtin('dict')}[{builtin('str')}, Any]"
    return "Any"


def param_notes(schema: Mapping[str, Any], required: bool) -> str:
    notes = []
    description = str(schema.get("description") or schema.get("title") or "").strip()
    if description:
        notes.append(description if description.endswith(".") else description + ".")
    if required:
        notes.append("Required.")
    if isinstance(schema.get("enum"), list):
        notes.append("One of: " + ", ".join(str(v) for v in schema["enum"]) + ".")
    notes += [f"{text}: {schema[key]}." for key, text in NOTE_KEYS if key in schema]
    if "default" in schema:
        notes.append(f"Server default: {python_literal(schema['default'])}.")
    return " ".join(notes)


def trim_params(schema: Mapping[str, Any], *, paginated: bool) -> dict[str, Any]:
    """An action's params schema as catalog.json keeps it (the generator's side of `_params`)."""
    properties = {name: trim_schema(prop) for name, prop in (schema.get("properties") or {}).items()}
    if paginated and list(properties)[-1:] == [CURSOR_PARAM] and properties[CURSOR_PARAM] == CURSOR_SCHEMA:
        del properties[CURSOR_PARAM]
    out: dict[str, Any] = {"properties": properties}
    if schema.get("required"):
        out["required"] = list(schema["required"])
    if schema.get("additionalProperties"):
        out["additionalProperties"] = True
    return out


def trim_schema(schema: Any) -> dict[str, Any]:
    """A property schema reduced to SCHEMA_KEYS (recursively for array items)."""
    if not isinstance(schema, dict):
        return {}
    out = {key: schema[key] for key in SCHEMA_KEYS if key in schema}
    if "items" in out:
        out["items"] = trim_schema(out["items"])
    return out


# --- specs -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParamSpec:
    name: str  # as the API takes it ("Stripe-Account")
    arg: str  # the Python keyword ("Stripe_Account")
    annotation: str  # without the "| None" of an optional parameter
    required: bool
    notes: str
    literal: tuple[str, ...] | None  # the Literal's value sources when the annotation is exactly one Literal

    @property
    def signature_annotation(self) -> str:
        if self.required or "None" in self.annotation.split(" | "):
            return self.annotation
        return f"{self.annotation} | None"


@dataclass(frozen=True)
class ActionSpec:
    name: str  # as the API takes it
    method: str  # the Python method name
    entity: str
    description: str
    paginated: bool
    params: tuple[ParamSpec, ...]
    extra: str | None  # the **kwargs name when the params schema is open (additionalProperties), else None
    returns: str

    @property
    def summary(self) -> str:
        return self.description or f"{self.entity}.{self.name}"

    def doc_paragraphs(self) -> list[str]:
        paragraphs = [self.summary]
        if self.paginated:
            paragraphs.append(
                "Paginated: pass the previous page's end_cursor as `cursor`, or iterate every record with "
                f'`{self.entity}.paginate("{self.name}", ...)`.'
            )
        if self.extra:
            paragraphs.append(f"Other fields are accepted too, as keyword arguments (**{self.extra}).")
        return paragraphs

    def doc_args(self) -> list[tuple[str, str]]:
        return [(p.arg, p.notes) for p in self.params]

    def docstring(self) -> str:
        """The method's __doc__, for help() (the stub keeps only the action's description)."""
        lines = "\n\n".join(self.doc_paragraphs()).splitlines()
        if self.params:
            lines += [
                "",
                "Args:",
                *(f"    {arg}: {notes}" if notes else f"    {arg}" for arg, notes in self.doc_args()),
            ]
        return "\n".join(lines)


@dataclass(frozen=True, eq=False)
class EntitySpec:
    name: str  # as the API takes it
    attr: str  # the connector's attribute
    class_name: str
    description: str
    service: str
    raw_actions: Mapping[str, Any] = field(repr=False)

    @cached_property
    def actions(self) -> tuple[ActionSpec, ...]:
        """Resolved on first use: the runtime builds an entity's class only when a program touches it."""
        return _actions(self.name, self.raw_actions)

    @property
    def docstring(self) -> str:
        return f"{self.service} {self.name}" + (f": {self.description}" if self.description else ".")

    @property
    def property_doc(self) -> str:
        return self.description or f"{self.service} {self.name}."


@dataclass(frozen=True)
class ConnectorSpec:
    slug: str
    name: str
    definition_id: str
    description: str
    docs_url: str | None
    class_name: str
    entities: tuple[EntitySpec, ...]

    def doc_paragraphs(self) -> list[str]:
        attrs = [e.attr for e in self.entities]
        return [
            f"{self.name}: `connect({self.slug!r})` returns this. Entities: {', '.join(attrs) or 'none'}.",
            f"Each action is an async method, e.g. `await {self.slug}.{attrs[0] if attrs else 'entity'}."
            f'<action>(...)`; execute("<entity>", "<action>", params) works too.',
            self.description,
            f"API docs: {self.docs_url}" if self.docs_url else "",
        ]

    @property
    def docstring(self) -> str:
        return "\n\n".join(p for p in self.doc_paragraphs() if p)


def _params(
    schema: Mapping[str, Any], shadowed: frozenset[str], *, paginated: bool
) -> tuple[tuple[ParamSpec, ...], str]:
    properties: dict[str, Any] = dict(schema.get("properties") or {})
    if paginated and CURSOR_PARAM not in properties:
        properties[CURSOR_PARAM] = CURSOR_SCHEMA
    required = set(schema.get("required") or [])
    names = list(properties)
    args = unique([identifier(n) for n in names])
    params = []
    for name, arg in zip(names, args, strict=True):
        prop = properties[name] if isinstance(properties[name], dict) else {}
        annotation = py_type(prop, shadowed)
        values = literal_values(prop) if annotation.startswith("Literal[") else None
        params.append(
            ParamSpec(
                name=name,
                arg=arg,
                annotation=annotation,
                required=name in required,
                notes=param_notes(prop, name in required),
                literal=tuple(values) if values else None,
            )
        )
    extra = unique(["extra"], set(args) | {"self"})[0] if schema.get("additionalProperties") else ""
    return tuple(params), extra


def _actions(entity: str, raw_actions: Mapping[str, Any]) -> tuple[ActionSpec, ...]:
    action_names = sorted(raw_actions)
    methods = unique([identifier(a, reserved=ENTITY_NAMES) for a in action_names])
    shadowed = frozenset(b for b in ANNOTATION_BUILTINS if b in methods)
    list_type = "builtins.list" if "list" in shadowed else "list"
    actions = []
    for action, method in zip(action_names, methods, strict=True):
        raw = raw_actions[action] if isinstance(raw_actions[action], dict) else {}
        paginated = bool(raw.get("paginated"))
        params, extra = _params(raw.get("params") or {}, shadowed, paginated=paginated)
        actions.append(
            ActionSpec(
                name=action,
                method=method,
                entity=entity,
                description=str(raw.get("description") or "").strip(),
                paginated=paginated,
                params=params,
                extra=extra or None,
                returns=f"{list_type}[Record]" if paginated else "Any",
            )
        )
    return tuple(actions)


def parse_catalog(data: Mapping[str, Any]) -> list[ConnectorSpec]:
    """Specs for every connector of a catalog.json document, sorted by slug, with catalog-wide unique class names."""
    if data.get("format") != FORMAT:
        raise ValueError(f"catalog.json format {data.get('format')!r} is not {FORMAT}: regenerate it.")
    connectors: Mapping[str, Any] = data.get("connectors") or {}
    slugs = sorted(connectors)
    services = [class_name(str(connectors[s].get("name") or s)) for s in slugs]
    taken: set[str] = set()
    connector_classes = unique([f"{service}Connector" for service in services], taken)
    out = []
    for slug, service, connector_cls in zip(slugs, services, connector_classes, strict=True):
        raw = connectors[slug]
        name = str(raw.get("name") or slug)
        entities_raw: Mapping[str, Any] = raw.get("entities") or {}
        entity_names = sorted(entities_raw)
        attrs = unique([identifier(e, reserved=EXECUTOR_NAMES) for e in entity_names])
        entity_classes = unique([f"{service}{class_name(e)}" for e in entity_names], taken)
        entities = []
        for entity, attr, cls in zip(entity_names, attrs, entity_classes, strict=True):
            spec = entities_raw[entity] if isinstance(entities_raw[entity], dict) else {}
            entities.append(
                EntitySpec(
                    name=entity,
                    attr=attr,
                    class_name=cls,
                    description=str(spec.get("description") or "").strip(),
                    service=name,
                    raw_actions=spec.get("actions") or {},
                )
            )
        out.append(
            ConnectorSpec(
                slug=slug.lower(),
                name=name,
                definition_id=str(raw.get("definitionId") or ""),
                description=str(raw.get("description") or "").strip(),
                docs_url=raw.get("docsUrl") or None,
                class_name=connector_cls,
                entities=tuple(entities),
            )
        )
    return out
