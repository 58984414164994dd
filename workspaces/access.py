"""The one place that scopes lookups to a workspace. Views, API handlers and selectors go through it."""

from __future__ import annotations

from typing import TypeVar

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db.models import Model, QuerySet

from core.errors import NotFound
from core.prepared import PreparedQuery

from .models import Workspace

M = TypeVar("M", bound=Model)


def scoped(queryset: QuerySet[M], workspace: Workspace) -> QuerySet[M]:
    return queryset.filter(workspace=workspace)


def get_scoped(queryset: QuerySet[M], workspace: Workspace, *, what: str = "Object", **lookup) -> M:
    """The object if it belongs to `workspace`; otherwise NotFound, the same answer as for an id that never existed."""
    try:
        return scoped(queryset, workspace).get(**lookup)
    except (queryset.model.DoesNotExist, ValidationError, ValueError, TypeError):
        # Malformed ids (not a UUID, say) are "not found" too, never a 500 or a hint.
        raise NotFound(f"{what} not found.") from None


def get_scoped_prepared(query: PreparedQuery[M], workspace: Workspace, *, what: str = "Object", **lookup) -> M:
    """get_scoped for a hot path's compiled query (core.prepared), which binds `workspace_id` besides `lookup`."""
    try:
        return query.get(workspace_id=workspace.pk, **lookup)
    except (ObjectDoesNotExist, ValidationError, ValueError, TypeError):
        raise NotFound(f"{what} not found.") from None
