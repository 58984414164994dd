"""Base for the entities of generated typed connectors (patchbay.connectors.*)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .executor import HostedExecutor
    from .models import ExecutionResult


def clean_params(params: dict[str, Any]) -> dict[str, Any]:
    """Drop parameters left at None: the server's schemas are closed and None means "not given"."""
    return {k: v for k, v in params.items() if v is not None}


class Entity:
    """One entity of a typed connector (`stripe.customers`). Generated subclasses add one method per action."""

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
