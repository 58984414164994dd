"""Statements the ORM compiles once per database connection and then runs with new parameters.

Compiling a SELECT with a join costs Django about a millisecond of CPU, more than PostgreSQL spends running it, and
the execute and token-refresh paths run the same few statements thousands of times a second. `PreparedQuery`,
`PreparedInsert` and `PreparedUpdate` keep the SQL, the column converters and the row-to-instance plan the ORM
worked out the first time on each connection (connections are per thread), and afterwards only bind values. The
instances they return are what the equivalent QuerySet or `save()` gives: same converters, `select_related`
objects, deferred fields, and `pre_save`/`post_save` signals for writes. Anything else keeps using the ORM.

On PostgreSQL the statements are also prepared on the server (`PATCHBAY_DB_PREPARED_STATEMENTS`, on by default):
planning the connector lookup's join took PostgreSQL longer than running it, and the client-side binding Django
uses for everything else sends a new query text, parsed and planned again, on every call. They still go through
Django's cursor wrapper, so query logging, execute wrappers and error translation see them as they see the ORM's.
Turn it off behind a pooler that cannot keep prepared statements (PgBouncer in transaction mode before 1.21).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.db import DatabaseError, connections, models, transaction
from django.db.models import signals
from django.db.models.query import get_related_populators
from django.db.models.sql import InsertQuery, UpdateQuery

M = TypeVar("M", bound=models.Model)
S = TypeVar("S")


class RowGone(DatabaseError):
    """A PreparedUpdate found no row to write: it was deleted meanwhile (save(update_fields=...) raises the same
    DatabaseError)."""


def _sentinel(field: models.Field) -> Any:
    """A value for `field` no real row has, to find where the compiled statement binds it."""
    target = field.target_field if field.is_relation else field  # type: ignore[attr-defined]
    if isinstance(target, models.UUIDField):
        return uuid.uuid4()
    if isinstance(target, models.IntegerField | models.AutoField | models.BigAutoField):
        return -(2**30) - uuid.uuid4().int % 2**20
    if isinstance(target, models.DateTimeField):
        return datetime(1901, 1, 1, tzinfo=UTC) + timedelta(microseconds=uuid.uuid4().int % 10**12)
    return f"\x00prepared-{uuid.uuid4().hex}"


def _fields(model: type[models.Model], names: dict[str, str]) -> dict[str, models.Field]:
    """Each argument's model field, by name (`pk` is the primary key)."""
    meta = model._meta
    return {arg: meta.pk if name == "pk" else meta.get_field(name) for arg, name in names.items()}


def _slots(
    sql: str, params: list[Any], fields: dict[str, models.Field], sentinels: dict[str, Any], connection: Any
) -> dict[str, list[int]]:
    """Where each named value is bound in the compiled parameters: the positions of its sentinel."""
    slots: dict[str, list[int]] = {}
    for name, field in fields.items():
        bound = field.get_db_prep_value(sentinels[name], connection, prepared=False)
        slots[name] = [i for i, value in enumerate(params) if value == bound]
        if not slots[name]:
            raise ValueError(f"{name} is not bound in {sql!r}")
    return slots


def _bind(state: Any, values: dict[str, Any], connection: Any) -> list[Any]:
    """The compiled parameters with this call's values in their slots."""
    params = list(state.params)
    for name, slots in state.slots.items():
        bound = state.fields[name].get_db_prep_value(values[name], connection, prepared=False)
        for slot in slots:
            params[slot] = bound
    return params


def _compiled(connection: Any, key: Any, build: Callable[[], S]) -> S:
    """This connection's compiled statement for `key`, built on first use. Kept on the connection object (one per
    thread and alias), so it lives exactly as long as the connection does and no thread ever sees another's."""
    try:
        cache = connection._patchbay_prepared
    except AttributeError:
        cache = connection._patchbay_prepared = {}
    state = cache.get(key)
    if state is None:
        state = cache[key] = build()
    return state


def _cursor(connection: Any) -> Any:
    """A cursor for a compiled statement: Django's own, or on PostgreSQL one whose statements the server prepares
    on first use and afterwards only executes (psycopg keeps the prepared names per connection)."""
    if connection.vendor != "postgresql" or not getattr(settings, "PATCHBAY_DB_PREPARED_STATEMENTS", True):
        return connection.cursor()
    # What BaseDatabaseWrapper.cursor() does, with a server-binding cursor in place of the client-binding one
    # Django creates; the wrapper around it is Django's (debug logging, execute_wrappers, error translation).
    from django.db.backends.postgresql.psycopg_any import register_tzloader

    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        raw = connection.connection
        if raw.prepare_threshold is None:
            # Django connects with None, which psycopg reads as "never prepare", even when a cursor asks. Only
            # server-binding cursors ever prepare (Django's own bind on the client), and ours ask explicitly; the
            # high threshold keeps anything else from being prepared automatically.
            raw.prepare_threshold = _NEVER_AUTOMATICALLY
        cursor = _preparing_cursor_class()(raw)
        if connection.timezone != raw.adapters.get_loader(_TIMESTAMPTZ_OID, _TEXT).timezone:
            register_tzloader(connection.timezone, cursor)  # as create_cursor() does when the two disagree
        return connection._prepare_cursor(cursor)


_NEVER_AUTOMATICALLY = 2**31
_TIMESTAMPTZ_OID = 1184
_TEXT = 0  # psycopg.pq.Format.TEXT


@functools.cache
def _preparing_cursor_class() -> type:
    """Built on first use: it needs psycopg, which a SQLite-only install may not have."""
    from django.db.backends.postgresql.base import ServerBindingCursor

    class PreparingCursor(ServerBindingCursor):  # type: ignore[misc, valid-type]
        def execute(self, query: Any, params: Any = None, *, prepare: bool | None = True, binary: Any = None) -> Any:
            return super().execute(query, params, prepare=prepare, binary=binary)

        def _send_query_prepared(self, name: bytes, pgq: Any, **kwargs: Any) -> None:
            # psycopg records the statement it sent only for unprepared ones; Django's query log reads it from here.
            self._query = pgq
            super()._send_query_prepared(name, pgq, **kwargs)

    return PreparingCursor


class _CompiledSelect:
    def __init__(self, queryset: models.QuerySet, fields: dict[str, models.Field], alias: str) -> None:
        connection = connections[alias]
        self.fields = fields
        sentinels = {name: _sentinel(field) for name, field in fields.items()}
        # No ORDER BY: like QuerySet.get(), which is what these lookups are (the sort cost PostgreSQL a plan node).
        compiler = queryset.filter(**sentinels).order_by().query.get_compiler(using=alias)
        if queryset.query.select_for_update:
            with transaction.atomic(using=alias):  # FOR UPDATE only compiles inside a transaction
                self.sql, params = compiler.as_sql()
        else:
            self.sql, params = compiler.as_sql()
        self.params = list(params)
        self.slots = _slots(self.sql, self.params, fields, sentinels, connection)
        for name, where in self.slots.items():
            if len(where) != 1:
                raise ValueError(f"{name} is bound {len(where)} times in {self.sql!r}; a PreparedQuery binds it once")
        self.compiler = compiler
        klass_info, select = compiler.klass_info, compiler.select
        self.model = klass_info["model"]
        first, last = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        self.span = (first, last)
        self.init_list = [column[0].target.attname for column in select[first:last]]
        self.populators = get_related_populators(klass_info, select, alias)
        self.converters = compiler.get_converters([column[0] for column in select[: compiler.col_count]])


class PreparedQuery(Generic[M]):
    """`queryset.filter(**values)` compiled once per connection. `params` name the lookups bound per call (each
    must be an exact lookup on a field: `pk`, `workspace_id`); the queryset holds everything else."""

    def __init__(self, queryset: Callable[[], models.QuerySet[M]], *params: str) -> None:
        self._queryset = queryset
        self._params = params
        self._where: tuple[type[M], str] | None = None  # the model and database alias, read on first use

    def _state(self) -> tuple[_CompiledSelect, Any]:
        if self._where is None:
            queryset = self._queryset()
            self._where = (queryset.model, queryset.db)
        model, alias = self._where
        connection = connections[alias]

        def build() -> _CompiledSelect:
            return _CompiledSelect(self._queryset(), _fields(model, {name: name for name in self._params}), alias)

        return _compiled(connection, id(self), build), connection

    def fetch(self, limit: int = 21, **values: Any) -> list[M]:
        """The matching instances (at most `limit`). A value the field cannot hold (not a UUID, say) raises what
        the ORM raises for it: ValidationError, ValueError or TypeError."""
        state, connection = self._state()
        alias = connection.alias
        if state.compiler.query.select_for_update and not connection.in_atomic_block:
            raise transaction.TransactionManagementError("select_for_update cannot be used outside of a transaction.")
        with _cursor(connection) as cursor:
            cursor.execute(state.sql, _bind(state, values, connection))
            rows = cursor.fetchmany(limit)
        if state.converters:
            rows = list(state.compiler.apply_converters(rows, state.converters))
        first, last = state.span
        found = []
        for row in rows:
            obj = state.model.from_db(alias, state.init_list, row[first:last])
            for populator in state.populators:
                populator.populate(row, obj)
            found.append(obj)
        return found

    def get(self, **values: Any) -> M:
        """Like `QuerySet.get`: the one match, else the model's DoesNotExist or MultipleObjectsReturned."""
        found = self.fetch(limit=2, **values)
        model = self._where[0]  # type: ignore[index]  # set by fetch
        if not found:
            raise model.DoesNotExist(f"{model._meta.object_name} matching query does not exist.")
        if len(found) > 1:
            raise model.MultipleObjectsReturned(f"get() returned more than one {model._meta.object_name}.")
        return found[0]


class _CompiledInsert:
    def __init__(self, model: type[models.Model], alias: str, pk_set: bool) -> None:
        meta = model._meta
        self.fields = [f for f in meta.local_concrete_fields if pk_set or f is not meta.auto_field]
        self.returning = [] if pk_set else list(meta.db_returning_fields)
        query = InsertQuery(model)
        query.insert_values(self.fields, [model()])
        self.compiler = query.get_compiler(using=alias)
        self.compiler.returning_fields = self.returning
        [(self.sql, _)] = self.compiler.as_sql()
        self.converters = self.compiler.get_converters([f.get_col(meta.db_table) for f in self.returning])


class PreparedInsert(Generic[M]):
    """`obj.save(force_insert=True)` for a new instance whose field values are plain values (no expressions), with
    the INSERT compiled once per connection. Sends pre_save and post_save as `save()` does."""

    def __init__(self, model: type[M]) -> None:
        self.model = model

    def insert(self, obj: M, using: str | None = None) -> M:
        alias = using or "default"
        connection = connections[alias]
        pk_set = obj.pk is not None
        state = _compiled(connection, (id(self), pk_set), lambda: _CompiledInsert(self.model, alias, pk_set))
        signals.pre_save.send(sender=self.model, instance=obj, raw=False, using=alias, update_fields=None)
        compiler = state.compiler
        params = [compiler.prepare_value(f, compiler.pre_save_val(f, obj)) for f in state.fields]
        with _cursor(connection) as cursor:
            cursor.execute(state.sql, params)
            if state.returning:
                row = connection.ops.fetch_returned_insert_columns(cursor, compiler.returning_params)
                if state.converters:
                    [row] = list(compiler.apply_converters([row], state.converters))
                for field, value in zip(state.returning, row, strict=True):
                    setattr(obj, field.attname, value)
        obj._state.adding = False
        obj._state.db = alias
        signals.post_save.send(
            sender=self.model, instance=obj, created=True, update_fields=None, raw=False, using=alias
        )
        return obj


class _CompiledUpdate:
    def __init__(self, model: type[models.Model], alias: str, names: tuple[str, ...]) -> None:
        meta = model._meta
        quote = connections[alias].ops.quote_name
        self.fields = [meta.get_field(name) for name in names]
        if any(hasattr(field, "get_placeholder") for field in self.fields):
            raise ValueError("a PreparedUpdate writes plain columns only")
        columns = ", ".join(f"{quote(field.column)} = %s" for field in self.fields)
        # Only the model's own quoted table and column names go into the text; every value is a parameter.
        self.sql = f"UPDATE {quote(meta.db_table)} SET {columns} WHERE {quote(meta.pk.column)} = %s"  # noqa: S608


class PreparedUpdate(Generic[M]):
    """`obj.save(update_fields=fields)` with the UPDATE compiled once per connection: the named fields' current
    values (after `pre_save`, so `auto_now` works) are written to the row with the instance's primary key. Sends
    pre_save and post_save as `save()` does, and like it raises DatabaseError when no row was updated."""

    def __init__(self, model: type[M], fields: list[str] | tuple[str, ...]) -> None:
        self.model = model
        self.names = tuple(fields)

    def save(self, obj: M, using: str | None = None) -> M:
        alias = using or obj._state.db or "default"
        connection = connections[alias]
        state = _compiled(connection, id(self), lambda: _CompiledUpdate(self.model, alias, self.names))
        update_fields = frozenset(self.names)
        signals.pre_save.send(sender=self.model, instance=obj, raw=False, using=alias, update_fields=update_fields)
        params = [field.get_db_prep_save(field.pre_save(obj, False), connection) for field in state.fields]
        params.append(self.model._meta.pk.get_db_prep_value(obj.pk, connection, prepared=False))
        with _cursor(connection) as cursor:
            cursor.execute(state.sql, params)
            updated = cursor.rowcount
        if not updated:
            raise RowGone("Save with update_fields did not affect any rows.")
        obj._state.db = alias
        signals.post_save.send(
            sender=self.model, instance=obj, created=False, update_fields=update_fields, raw=False, using=alias
        )
        return obj


class _CompiledFilterUpdate:
    def __init__(self, alias: str, build: Callable[..., Any], fields: dict[str, models.Field]) -> None:
        connection = connections[alias]
        sentinels = {name: _sentinel(field) for name, field in fields.items()}
        queryset, values = build(**sentinels)
        query = queryset.query.chain(UpdateQuery)
        query.add_update_values(values)
        self.sql, params = query.get_compiler(using=alias).as_sql()
        self.params = list(params)
        self.fields = fields
        self.slots = _slots(self.sql, self.params, fields, sentinels, connection)


class PreparedFilterUpdate(Generic[M]):
    """`queryset.update(**values)` for a statement whose shape never changes (a claim: "this row, if still
    pending"), compiled once per connection. `build(**named)` returns the queryset and the values, written with the
    keyword arguments wherever a call's own values go; `fields` names each argument's model field (for its type).
    `run(**named)` returns the number of rows updated, as QuerySet.update() does; no signals, as with update()."""

    def __init__(self, model: type[M], build: Callable[..., tuple[models.QuerySet[M], dict[str, Any]]], **fields: str):
        self.model = model
        self.build = build
        self.names = fields

    @functools.cached_property
    def fields(self) -> dict[str, models.Field]:
        return _fields(self.model, self.names)

    def run(self, using: str | None = None, **values: Any) -> int:
        alias = using or "default"
        connection = connections[alias]
        state = _compiled(connection, id(self), lambda: _CompiledFilterUpdate(alias, self.build, self.fields))
        with _cursor(connection) as cursor:
            cursor.execute(state.sql, _bind(state, values, connection))
            return cursor.rowcount
