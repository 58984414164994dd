"""Prints, as JSON, the parameter names Airbyte's typed connectors send to the hosted execute endpoint.

Run by tests/airbyte/test_param_names.py with `.venv-airbyte/bin/python dump_models.py SERVICE...` (Airbyte's
connector names: `zendesk_support`, not `zendesk-support`). It loads each connector's model
(airbyte_agent_sdk.connectors.<name>.connector_model) and its typed query classes at run time and prints

    {service: {"entity.action": {"path": {name: required}, "query": {...}, "body": {...}, "header": {...},
                                  "sent": {name the typed method sends for a named argument: required},
                                  "graphql": [names GraphQL variables are filled from]}}}

Nothing of Airbyte's is stored in Patchbay: the test reads this output and throws it away. This file imports nothing
from Patchbay (the SDK lives in its own virtualenv).
"""

from __future__ import annotations

import importlib
import inspect
import json
import re
import sys
from typing import Any

from airbyte_agent_sdk.types import ConnectorModel

PACKAGE = "airbyte_agent_sdk.connectors"
_QUERY_ATTR = re.compile(r"self\.(\w+)\s*=\s*(\w+Query)\(self\)")
_PARAMS_LITERAL = re.compile(r"params\s*=\s*\{k: v for k, v in \{(.*?)\*\*kwargs", re.S)
_PAIR = re.compile(r"^\s*[\"']([^\"']+)[\"']\s*:\s*(\w+)", re.M)
_TEMPLATE = re.compile(r"\{\{\s*(\w+)")


def _value(action: Any) -> str:
    return getattr(action, "value", action)


def _model(service: str) -> ConnectorModel:
    module = importlib.import_module(f"{PACKAGE}.{service}.connector_model")
    return next(v for v in vars(module).values() if isinstance(v, ConnectorModel))


def _typed_methods(service: str) -> dict[str, dict[str, bool]]:
    """`entity.action` -> {name the typed method puts in `params`: whether its argument has no default}."""
    module = importlib.import_module(f"{PACKAGE}.{service}.connector")
    out: dict[str, dict[str, bool]] = {}
    for cls in vars(module).values():
        if not (inspect.isclass(cls) and cls.__module__ == module.__name__ and "__init__" in vars(cls)):
            continue
        try:
            source = inspect.getsource(cls.__init__)
        except (OSError, TypeError):
            continue
        for entity, query_name in _QUERY_ATTR.findall(source):
            query = getattr(module, query_name, None)
            if query is None:
                continue
            for name, fn in vars(query).items():
                if name.startswith("_") or not inspect.iscoroutinefunction(fn) or name.startswith("context_store"):
                    continue
                # The method builds `params = {k: v for k, v in {"wireName": python_name, ..., **kwargs}...}`:
                # the string keys of that literal are the names it sends.
                literal = _PARAMS_LITERAL.search(inspect.getsource(fn))
                args = inspect.signature(fn).parameters
                out[f"{entity}.{name}"] = {
                    wire: arg in args and args[arg].default is inspect.Parameter.empty
                    for wire, arg in (_PAIR.findall(literal.group(1)) if literal else [])
                }
    return out


def _required(schema: dict[str, dict[str, Any]], names: list[str], default: bool = False) -> dict[str, bool]:
    return {n: bool((schema.get(n) or {}).get("required", default)) for n in names}


def dump(service: str) -> dict[str, Any]:
    model = _model(service)
    methods = _typed_methods(service)
    out: dict[str, Any] = {}
    for entity in model.entities:
        for action, endpoint in entity.endpoints.items():
            key = f"{entity.name}.{_value(action)}"
            request = endpoint.request_schema or {}
            body_required = set(request.get("required") or [])
            out[key] = {
                "http": f"{endpoint.method} {endpoint.path}",
                # A path parameter is always required by the URL it fills.
                "path": {n: True for n in endpoint.path_params},
                "query": _required(endpoint.query_params_schema, endpoint.query_params),
                "body": {n: n in body_required for n in endpoint.body_fields},
                "header": _required(endpoint.header_params_schema, endpoint.header_params),
                "sent": methods.get(key, {}),
                # GraphQL operations fill their variables from params of these names.
                "graphql": sorted(set(_TEMPLATE.findall(json.dumps(endpoint.graphql_body or {})))),
            }
    return out


def main(argv: list[str]) -> None:
    print(json.dumps({service: dump(service) for service in argv}, sort_keys=True))


if __name__ == "__main__":
    main(sys.argv[1:])
