"""Secrets never leak: not in API responses, logs, admin pages, nor as plaintext in the database."""

from __future__ import annotations

import logging

import pytest
from django.db import connection
from django.test import Client

from connectors.models import Connector
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SECRETS = {
    "pat": "ghp_SENTINEL_pat_7f3a9c",
    "client_secret": "SENTINEL_client_secret_19d2",
    "refresh_token": "SENTINEL_refresh_token_88ab",
}


def create_connectors(api) -> list[str]:
    a = api.post(
        "/api/v1/integrations/connectors",
        {
            "connector_type": "github",
            "name": "gh",
            "credentials": {"option_title": "PAT Credentials", "personal_access_token": SECRETS["pat"]},
            "replication_config": {"repositories": ["a/b"]},
        },
    )
    b = api.post(
        "/api/v1/integrations/connectors",
        {
            "connector_type": "hubspot",
            "name": "hs",
            "credentials": {
                "client_id": "cid",
                "client_secret": SECRETS["client_secret"],
                "refresh_token": SECRETS["refresh_token"],
            },
        },
    )
    assert a.status_code == b.status_code == 201
    return [a.json()["id"], b.json()["id"]]


def assert_no_secret(text: str, where: str) -> None:
    for name, value in SECRETS.items():
        assert value not in text, f"{name} leaked into {where}"


def test_secrets_absent_from_api_responses_logs_admin_and_raw_db(api, caplog):
    caplog.set_level(logging.DEBUG)
    ids = create_connectors(api)
    bodies = [api.get("/api/v1/integrations/connectors").content.decode()]
    for cid in ids:
        bodies.append(api.get(f"/api/v1/integrations/connectors/{cid}").content.decode())
        bodies.append(api.patch(f"/api/v1/integrations/connectors/{cid}", {"name": "renamed"}).content.decode())
    # A failing update must not echo the secret either.
    bodies.append(
        api.patch(
            f"/api/v1/integrations/connectors/{ids[0]}",
            {"credentials": {"personal_access_token": 12345, "option_title": SECRETS["pat"]}},
        ).content.decode()
    )
    for body in bodies:
        assert_no_secret(body, "an API response")
    assert_no_secret(caplog.text, "the logs")

    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials_encrypted FROM connectors_connector")
        raw = " ".join(row[0] for row in cursor.fetchall())
    assert raw and raw.startswith("gAAAA")
    assert_no_secret(raw, "the database column")
    with connection.cursor() as cursor:
        cursor.execute("SELECT metadata, target_repr FROM workspaces_auditevent")
        assert_no_secret(str(cursor.fetchall()), "the audit log")

    admin = Client()
    admin.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    pages = ["/admin/connectors/connector/", "/admin/workspaces/auditevent/", "/admin/workspaces/apikey/"]
    pages += [f"/admin/connectors/connector/{cid}/change/" for cid in ids]
    for page in pages:
        response = admin.get(page)
        assert response.status_code == 200, page
        assert_no_secret(response.content.decode(), page)
    detail = admin.get(f"/admin/connectors/connector/{ids[0]}/change/").content.decode()
    assert "personal_access_token" in detail  # which fields are set is shown, never their values


def test_audit_log_admin_is_read_only(api):
    create_connectors(api)
    admin = Client()
    admin.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    assert admin.get("/admin/workspaces/auditevent/add/").status_code == 403
    listing = admin.get("/admin/workspaces/auditevent/?action=connector.create").content.decode()
    assert "connector.create" in listing


def test_undecryptable_blob_names_the_connector(api, settings):
    from connectors.crypto import DecryptionError
    from connectors.selectors import connector_credentials

    cid = create_connectors(api)[0]
    settings.PATCHBAY_ENCRYPTION_KEYS = ["8ZjdBk1hDKrm3Py5FQ0lDJkPSvt6LkfRTpqSUGG_1sI="]
    connector = Connector.objects.get(pk=cid)
    with pytest.raises(DecryptionError) as excinfo:
        connector_credentials(connector)
    assert cid in str(excinfo.value)
    assert "gAAAA" not in str(excinfo.value)
    response = api.get(f"/api/v1/integrations/connectors/{cid}")
    assert response.status_code == 200  # metadata stays readable; fields just can't be listed
