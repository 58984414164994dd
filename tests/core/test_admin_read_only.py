"""Django admin is for auditors: every record with credentials, executions, keys or audit history can be read and
none can be changed, added or bulk-deleted there (writes go through the services and the audit log)."""

from __future__ import annotations

import pytest
from django.test import Client

from connectors.models import Connector, Execution
from tests.factories import ConnectorFactory, UserFactory

pytestmark = pytest.mark.django_db

READ_ONLY = [
    "connectors/connector",
    "connectors/execution",
    "connectors/oauthapp",
    "workspaces/apikey",
    "workspaces/auditevent",
    "connectors/oauthstate",
]


@pytest.fixture
def auditor() -> Client:
    client = Client()
    client.force_login(UserFactory(username="auditor", is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize("model", READ_ONLY)
def test_lists_have_no_add_or_bulk_delete(auditor, model):
    page = auditor.get(f"/admin/{model}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "delete_selected" not in html
    assert f"/admin/{model}/add/" not in html
    assert auditor.get(f"/admin/{model}/add/").status_code == 403


def test_a_connector_can_be_read_but_not_changed(auditor, workspace):
    connector = ConnectorFactory(workspace=workspace, name="Audited", replication_config={"x": 1})
    url = f"/admin/connectors/connector/{connector.pk}/change/"
    page = auditor.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Audited" in html and 'name="name"' not in html and '<input type="text"' not in html
    changed = auditor.post(url, {"name": "Renamed", "replication_config": '"not-a-list"'})
    assert changed.status_code == 403
    connector.refresh_from_db()
    assert (connector.name, connector.replication_config) == ("Audited", {"x": 1})
    assert auditor.post(f"/admin/connectors/connector/{connector.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Connector.objects.filter(pk=connector.pk).exists()


def test_bulk_delete_is_refused_even_when_posted_directly(auditor, workspace):
    connector = ConnectorFactory(workspace=workspace)
    Execution.objects.create(workspace=workspace, connector=connector, entity="customers", action="list")
    for model, qs in (("connectors/execution", Execution.objects), ("connectors/connector", Connector.objects)):
        ids = [str(pk) for pk in qs.values_list("pk", flat=True)]
        response = auditor.post(
            f"/admin/{model}/", {"action": "delete_selected", "_selected_action": ids, "post": "yes"}
        )
        assert response.status_code in (200, 302, 403)
        assert qs.count() == len(ids)


def test_the_admin_index_names_models_in_plain_words(auditor):
    html = auditor.get("/admin/").content.decode()
    assert "OAuth apps" in html and "O auth" not in html
