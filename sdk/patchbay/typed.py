"""Typed connectors built from data: the Entity base, and the classes `patchbay.connectors` makes from catalog.json.

Nothing here is specific to a service. `TypedCatalog` turns the specs of `patchbay._catalog` into one HostedExecutor
subclass per connector type, one Entity subclass per entity and one async method per action, each method carrying an
`inspect.Signature` and a docstring made from the action's params schema. Type checkers and
editors read the same specs through the generated stub `patchbay/connectors/__init__.pyi`.
"""

from __future__ import annotations

import ast
import builtins
import functools
import inspect
import threading
import typing
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal

from ._catalog import ActionSpec, EntitySpec, parse_catalog

if TYPE_CHECKING:
    from .executor import HostedExecutor
    from .models import ExecutionResult

#: One record of a paginated action's result (a JSON object as the service returns it).
Record = dict[str, Any]

_KEYWORD = inspect.Parameter.KEYWORD_ONLY
# What the methods' string annotations name, so typing.get_type_hints() resolves them in this module's globals.
ANNOTATION_NAMES = (Any, Literal, builtins)


@functools.cache
def runtime_annotation(annotation: str) -> str:
    """The annotation as `from __future__ import annotations` stores it (the stub's source, unparsed: 'a' quotes)."""
    return ast.unparse(ast.parse(annotation, mode="eval"))


def clean_params(params: dict[str, Any]) -> dict[str, Any]:
    """Drop parameters left at None: the server's schemas are closed and None means "not given"."""
    return {k: v for k, v in params.items() if v is not None}


class Entity:
    """One entity of a typed connector (`stripe.customers`). Subclasses add one method per action."""

    def __init__(self, executor: HostedExecutor, name: str) -> None:
        self._executor = executor
        self._name = name

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._name!r} of {self._executor!r}>"

    async def _execute(self, action: str, params: dict[str, Any]) -> Any:
        return await self._executor.execute(self._name, action, clean_params(params))

    async def raw(self, action: str, **params: Any) -> ExecutionResult:
        """Run an action and return the full ExecutionResult (pagination and execution metadata)."""
        return await self._executor.execute_raw(self._name, action, clean_params(params))

    def paginate(self, action: str, **params: Any) -> AsyncIterator[Any]:
        """Iterate over the records of every page of a paginated action (`stripe.customers.paginate("list")`)."""
        return self._executor.paginate(self._name, action, clean_params(params))


def action_signature(spec: ActionSpec) -> inspect.Signature:
    """The method's signature: `self`, then keyword-only parameters; annotations are strings, as in the stub."""
    parameters = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    for param in spec.params:
        default = inspect.Parameter.empty if param.required else None
        annotation = runtime_annotation(param.signature_annotation)
        parameters.append(inspect.Parameter(param.arg, _KEYWORD, default=default, annotation=annotation))
    if spec.extra:
        parameters.append(inspect.Parameter(spec.extra, inspect.Parameter.VAR_KEYWORD, annotation="Any"))
    return inspect.Signature(parameters, return_annotation=runtime_annotation(spec.returns))


def action_method(spec: ActionSpec, *, owner: str, module: str) -> Callable[..., Awaitable[Any]]:
    """An async method that checks its arguments against the action's signature and runs the action."""
    signature = action_signature(spec)
    wire_names = {p.arg: p.name for p in spec.params}
    action = spec.name

    async def method(self: Entity, /, *args: Any, **kwargs: Any) -> Any:
        # Binding raises the TypeError Python would for a written-out signature (unknown or missing keyword).
        arguments = signature.bind(self, *args, **kwargs).arguments
        params = {wire_names[arg]: value for arg, value in arguments.items() if arg in wire_names}
        if spec.extra:
            params.update(arguments.get(spec.extra) or {})
        return await self._execute(action, params)

    method.__name__ = spec.method
    method.__qualname__ = f"{owner}.{spec.method}"
    method.__module__ = module
    method.__doc__ = spec.docstring()
    method.__signature__ = signature  # type: ignore[attr-defined]
    method.__annotations__ = {
        **{p.name: p.annotation for p in list(signature.parameters.values())[1:]},
        "return": signature.return_annotation,
    }
    return method


def entity_class(spec: EntitySpec, *, module: str) -> type[Entity]:
    namespace: dict[str, Any] = {"__module__": module, "__qualname__": spec.class_name, "__doc__": spec.docstring}
    for action in spec.actions:
        namespace[action.method] = action_method(action, owner=spec.class_name, module=module)
    return type(spec.class_name, (Entity,), namespace)


class TypedCatalog:
    """The typed connector classes of one catalog.json document.

    Connector classes are made at once (they are small); an entity's class, with its methods, signatures and
    docstrings, is made the first time a program touches it, so importing the SDK costs little however large the
    catalog is.
    """

    def __init__(self, document: Mapping[str, Any], *, module: str) -> None:
        from .executor import HostedExecutor

        self.module = module
        self._lock = threading.Lock()
        self._entity_classes: dict[str, type[Entity]] = {}
        specs = parse_catalog(document)
        self.entities = {e.class_name: e for spec in specs for e in spec.entities}
        self.connectors: dict[str, type[HostedExecutor]] = {}
        for spec in specs:
            namespace: dict[str, Any] = {
                "__module__": module,
                "__qualname__": spec.class_name,
                "__doc__": spec.docstring,
                "connector_slug": spec.slug,
                "definition_id": spec.definition_id,
            }
            for entity in spec.entities:
                namespace[entity.attr] = self._entity_property(entity)
            self.connectors[spec.slug] = type(spec.class_name, (HostedExecutor,), namespace)

    def entity_class(self, name: str) -> type[Entity]:
        """The entity class called `name` (StripeCustomers), made once."""
        cls = self._entity_classes.get(name)
        if cls is None:
            with self._lock:  # one class per entity, even when threads race to make it
                cls = self._entity_classes.get(name)
                if cls is None:
                    cls = self._entity_classes[name] = entity_class(self.entities[name], module=self.module)
        return cls

    def _entity_property(self, spec: EntitySpec) -> property:
        def get(executor: HostedExecutor) -> Entity:
            return self.entity_class(spec.class_name)(executor, spec.name)

        return property(get, doc=spec.property_doc)


def register_overload(implementation: Callable[..., Any], signature: inspect.Signature, index: int) -> None:
    """Record an @overload of `implementation` with `signature`, so typing.get_overloads() lists it at runtime.

    typing keys its overload registry by the function's first line number, so each variant gets its own.
    """

    def variant(*args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError  # overloads are never called

    variant.__code__ = variant.__code__.replace(co_firstlineno=index + 1)
    variant.__name__ = implementation.__name__
    variant.__qualname__ = implementation.__qualname__
    variant.__module__ = implementation.__module__
    variant.__signature__ = signature  # type: ignore[attr-defined]
    typing.overload(variant)
