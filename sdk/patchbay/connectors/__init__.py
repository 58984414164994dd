"""Typed connectors: one class per connector type in Patchbay's catalog, built at import from data.

TYPED_CONNECTORS maps a slug to its class (StripeConnector, GitHubConnector, ...); connect() is patchbay.connect(),
overloaded so that `connect("stripe")` is typed as StripeConnector. The classes come from catalog.json (the catalog's
public description, trimmed) through patchbay.typed; editors and type checkers read __init__.pyi instead of this file.
`manage.py generate_sdk` writes both from the connector catalog. Do not edit them by hand: this module holds nothing
specific to a service.
"""

from __future__ import annotations

import inspect
import json
from importlib import resources

from patchbay._catalog import python_literal
from patchbay.executor import HostedExecutor
from patchbay.executor import connect as _connect
from patchbay.typed import Entity, TypedCatalog, register_overload

_catalog = TypedCatalog(
    json.loads(resources.files(__name__).joinpath("catalog.json").read_text(encoding="utf-8")), module=__name__
)
TYPED_CONNECTORS: dict[str, type[HostedExecutor]] = _catalog.connectors
globals().update({cls.__name__: cls for cls in TYPED_CONNECTORS.values()})


def __getattr__(name: str) -> type[Entity]:
    """The entity classes (StripeCustomers, ...), for annotations: made on first use, not listed in __all__."""
    if name in _catalog.entities:
        return _catalog.entity_class(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_catalog.entities})


def connect(
    slug: str,
    connector_id: str | None = None,
    *,
    api_key: str | None = None,
    base_url: str | None = None,
    timeout: float | None = None,
    max_retries: int | None = None,
    end_user_id: str | None = None,
) -> HostedExecutor:
    """The typed connector for `slug` when the SDK has one, else a HostedExecutor (see patchbay.executor.connect)."""
    return _connect(
        slug,
        connector_id,
        api_key=api_key,
        base_url=base_url,
        timeout=timeout,
        max_retries=max_retries,
        end_user_id=end_user_id,
    )


def _register_connect_overloads() -> None:
    """The per-slug overloads the stub declares, also visible to typing.get_overloads() at runtime."""
    signature = inspect.signature(connect)
    slug = signature.parameters["slug"]
    variants = [(f"Literal[{python_literal(s)}]", c.__name__) for s, c in TYPED_CONNECTORS.items()]
    variants.append(("str", "HostedExecutor"))
    for index, (annotation, returns) in enumerate(variants):
        parameters = [slug.replace(annotation=annotation), *list(signature.parameters.values())[1:]]
        register_overload(connect, signature.replace(parameters=parameters, return_annotation=returns), index)


_register_connect_overloads()

__all__ = sorted(["TYPED_CONNECTORS", "connect", *(cls.__name__ for cls in TYPED_CONNECTORS.values())])
