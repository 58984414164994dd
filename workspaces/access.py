"""The one place that scopes lookups to a workspace. Views, API handlers and selectors go through it."""

from __future__ import annotations

from typing import TypeVar

from django.db.models import Model, QuerySet

from .errors import NotFound
from .models import Workspace

M = TypeVar("M", bound=Model)


def scoped(queryset: QuerySet[M], workspace: Workspace) -> QuerySet[M]:
    return queryset.filter(workspace=workspace)


def get_scoped(queryset: QuerySet[M], workspace: Workspace, *, what: str = "Object", **lookup) -> M:
    """The object if it belongs to `workspace`; otherwise NotFound, the same answer as for an id that never existed."""
    try:
        return scoped(queryset, workspace).get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise NotFound(f"{what} not found.") from None
    except Exception as exc:  # noqa: BLE001 - malformed ids (e.g. not a UUID) are 404 too
        from django.core.exceptions import ValidationError

        if isinstance(exc, ValidationError):
            raise NotFound(f"{what} not found.") from None
        raise
