"""Statements compiled once per connection (core.prepared) give exactly what the ORM gives, for the connector
lookup every execute starts with, the refresh's locking read, and the execution, audit and token writes."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import DatabaseError, connection, connections, transaction
from django.db.models.signals import post_save
from django.db.models.sql.compiler import SQLCompiler
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from connectors.models import Connector, ConnectorStatus, Execution, ExecutionStatus
from connectors.selectors import connector_get
from core.errors import NotFound
from core.prepared import PreparedInsert, PreparedQuery, PreparedUpdate
from tests.factories import ConnectorFactory
from workspaces.models import AuditEvent
from workspaces.services import Actor, audit

pytestmark = pytest.mark.django_db


def _columns(obj) -> dict:
    return {
        f.attname: getattr(obj, f.attname)
        for f in obj._meta.concrete_fields
        if f.attname not in obj.get_deferred_fields()
    }


def test_the_connector_lookup_returns_what_the_orm_returns(workspace):
    connector = ConnectorFactory(workspace=workspace, replication_config={"account": "acct_1"})
    expected = Connector.objects.select_related("definition").defer("definition__manifest_json").get(pk=connector.pk)
    for _ in range(2):  # the first call compiles, the second reuses
        found = connector_get(workspace=workspace, connector_id=str(connector.pk))
        assert _columns(found) == _columns(expected)
        with CaptureQueriesContext(connection) as queries:
            assert _columns(found.definition) == _columns(expected.definition)  # joined, not loaded again
        assert not queries.captured_queries
        assert found.definition.get_deferred_fields() == {"manifest_json"}
        assert found._state.adding is False and found._state.db == "default"


def test_the_lookup_compiles_once_per_connection(workspace):
    connector = ConnectorFactory(workspace=workspace)
    connector_get(workspace=workspace, connector_id=connector.pk)
    compiled = []
    original = SQLCompiler.as_sql

    def counting(self, *args, **kwargs):
        compiled.append(self.query.model)
        return original(self, *args, **kwargs)

    SQLCompiler.as_sql = counting
    try:
        with CaptureQueriesContext(connection) as queries:
            for _ in range(3):
                connector_get(workspace=workspace, connector_id=connector.pk)
    finally:
        SQLCompiler.as_sql = original
    assert compiled == []
    assert len(queries.captured_queries) == 3


def test_other_workspaces_and_malformed_ids_are_not_found(workspace, other_workspace):
    theirs = ConnectorFactory(workspace=other_workspace)
    for connector_id in (theirs.pk, str(theirs.pk), "not-a-uuid", "", 12, None):
        with pytest.raises(NotFound):
            connector_get(workspace=workspace, connector_id=connector_id)
    assert connector_get(workspace=other_workspace, connector_id=theirs.pk).pk == theirs.pk


@pytest.mark.django_db(transaction=True)
def test_each_thread_runs_on_its_own_connection(workspace):
    connector = ConnectorFactory(workspace=workspace)
    connector_get(workspace=workspace, connector_id=connector.pk)
    seen: list = []

    def lookup() -> None:
        try:
            seen.append((connector_get(workspace=workspace, connector_id=connector.pk).pk, connections["default"]))
        finally:
            connections.close_all()

    thread = threading.Thread(target=lookup)
    thread.start()
    thread.join()
    [(pk, other_connection)] = seen
    assert pk == connector.pk
    assert other_connection is not connections["default"]


@pytest.mark.django_db(transaction=True)
def test_a_locking_read_needs_a_transaction(workspace):
    locked = PreparedQuery(lambda: Connector.objects.select_for_update(of=("self",)), "pk")
    connector = ConnectorFactory(workspace=workspace)
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        assert locked.get(pk=connector.pk).pk == connector.pk
    if connection.features.has_select_for_update:
        assert "FOR UPDATE" in queries.captured_queries[-1]["sql"]
        with pytest.raises(transaction.TransactionManagementError):
            locked.get(pk=connector.pk)
    with pytest.raises(Connector.DoesNotExist), transaction.atomic():
        locked.get(pk="00000000-0000-0000-0000-000000000000")


def test_an_audit_event_is_inserted_with_its_id_time_and_webhook_signal(workspace):
    heard: list[AuditEvent] = []

    def receiver(sender, instance, created, **kwargs):
        heard.append((instance, created))

    post_save.connect(receiver, sender=AuditEvent, dispatch_uid="test-prepared-audit")
    try:
        before = timezone.now()
        event = audit(workspace=workspace, actor=Actor.system(), action="connector.test", metadata={"a": [1, 2]})
    finally:
        post_save.disconnect(dispatch_uid="test-prepared-audit", sender=AuditEvent)
    assert event.pk is not None and event._state.adding is False
    assert heard == [(event, True)]
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.metadata == {"a": [1, 2]} and stored.action == "connector.test"
    assert stored.created_at == event.created_at and stored.created_at >= before


def test_an_execution_insert_keeps_every_value(workspace):
    connector = ConnectorFactory(workspace=workspace)
    now = timezone.now()
    execution = Execution(
        workspace_id=workspace.pk,
        connector=connector,
        entity="customers",
        action="list",
        params={"limit": 3},
        status=ExecutionStatus.SUCCESS,
        result={"data": [{"id": "cus_1", "name": "Zoë"}]},
        connector_metadata={"has_more": False},
        upstream_status=200,
        attempts=1,
        duration_ms=12,
        started_at=now,
        finished_at=now + timedelta(milliseconds=12),
        intent="a test",
    )
    PreparedInsert(Execution).insert(execution)
    stored = Execution.objects.get(pk=execution.pk)
    assert _columns(stored) == _columns(execution)
    with pytest.raises(DatabaseError), transaction.atomic():
        PreparedInsert(Execution).insert(execution)  # the same primary key again


def test_a_token_update_writes_its_fields_only(workspace):
    connector = ConnectorFactory(workspace=workspace)
    update = PreparedUpdate(Connector, ["token_scopes", "updated_at"])
    Connector.objects.filter(pk=connector.pk).update(name="Renamed elsewhere", status=ConnectorStatus.NEEDS_REAUTH)
    earlier = connector.updated_at
    connector.token_scopes = "read write"
    connector.name = "stale name in memory"
    update.save(connector)
    stored = Connector.objects.get(pk=connector.pk)
    assert stored.token_scopes == "read write"
    assert stored.updated_at > earlier  # auto_now, as save(update_fields=...) does
    assert (stored.name, stored.status) == ("Renamed elsewhere", ConnectorStatus.NEEDS_REAUTH)
    Connector.objects.filter(pk=connector.pk).delete()
    with pytest.raises(DatabaseError):
        update.save(connector)


def test_a_claim_takes_a_pending_execution_once_and_only_before_its_deadline(workspace):
    from connectors.executions.services import CLAIM_PENDING

    connector = ConnectorFactory(workspace=workspace)
    now = timezone.now()
    live, expired, unbounded = (
        Execution.objects.create(
            workspace=workspace,
            connector=connector,
            entity="customers",
            action="list",
            status=ExecutionStatus.PENDING,
            run_count=2,
            deadline_at=deadline,
        )
        for deadline in (now + timedelta(minutes=1), now - timedelta(seconds=1), None)
    )
    with CaptureQueriesContext(connection) as queries:
        assert CLAIM_PENDING.run(pk=live.pk, now=now, runner="host:1") == 1
        assert CLAIM_PENDING.run(pk=str(live.pk), now=now, runner="host:2") == 0  # already taken
        assert CLAIM_PENDING.run(pk=expired.pk, now=now, runner="host:1") == 0
        assert CLAIM_PENDING.run(pk=unbounded.pk, now=now, runner="host:3") == 1
    assert all(q["sql"].startswith("UPDATE") for q in queries.captured_queries)
    live.refresh_from_db()
    assert (live.status, live.started_at, live.runner, live.run_count) == (ExecutionStatus.RUNNING, now, "host:1", 3)
    expired.refresh_from_db()
    assert (expired.status, expired.started_at, expired.run_count) == (ExecutionStatus.PENDING, None, 2)
    assert Execution.objects.get(pk=unbounded.pk).runner == "host:3"
