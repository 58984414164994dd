from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from connectors.models import ConnectorDefinition
from workspaces.models import ApiKey, AuditEvent, Membership, Workspace
from workspaces.services import api_key_authenticate

pytestmark = pytest.mark.django_db


def test_create_workspace_and_api_key_commands(user):
    out = io.StringIO()
    call_command("create_workspace", "Acme Robotics", "--owner", user.username, stdout=out)
    slug = out.getvalue().strip().splitlines()[-1]
    workspace = Workspace.objects.get(slug=slug)
    assert Membership.objects.get(workspace=workspace, user=user).role == "owner"

    out = io.StringIO()
    call_command("create_api_key", "--workspace", slug, "--name", "agent", stdout=out, stderr=io.StringIO())
    raw = out.getvalue().strip().splitlines()[-1]
    assert raw.startswith("pb_")
    key = api_key_authenticate(raw)
    assert key.workspace == workspace
    assert raw not in str(ApiKey.objects.values_list()) and raw not in str(AuditEvent.objects.values_list())


def test_sync_catalog_is_idempotent():
    out = io.StringIO()
    call_command("sync_catalog", stdout=out)
    assert "0 created" in out.getvalue() and "0 updated" in out.getvalue()
    assert ConnectorDefinition.objects.filter(slug="github", pk="ef69ef6e-aa7f-4af1-a01d-ef775033524e").exists()


def test_production_settings_refuse_to_start_without_secrets(monkeypatch):
    import importlib
    import sys

    from django.core.exceptions import ImproperlyConfigured

    for name in ("DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "PATCHBAY_ENCRYPTION_KEYS"):
        monkeypatch.delenv(name, raising=False)
    sys.modules.pop("config.settings.production", None)
    sys.modules.pop("config.settings.base", None)
    with pytest.raises(ImproperlyConfigured) as excinfo:
        importlib.import_module("config.settings.production")
    for name in ("DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "PATCHBAY_ENCRYPTION_KEYS"):
        assert name in str(excinfo.value)
    sys.modules.pop("config.settings.base", None)
    importlib.import_module("config.settings.base")


def test_stored_manifests_keep_the_order_of_their_files():
    """jsonb would reorder keys; the order of entities, actions and fields is what users see."""
    from connectors.catalog.loader import load_catalog

    for loaded in load_catalog():
        stored = ConnectorDefinition.objects.get(slug=loaded.data["slug"]).manifest
        assert list(stored["entities"]) == list(loaded.data["entities"])
        for name, entity in loaded.data["entities"].items():
            assert list(stored["entities"][name]["actions"]) == list(entity["actions"])
        for stored_scheme, scheme in zip(stored["auth_schemes"], loaded.data["auth_schemes"], strict=True):
            assert list(stored_scheme["credentials_schema"].get("properties", {})) == list(
                scheme["credentials_schema"].get("properties", {})
            )


def test_bootstrap_local_shows_where_make_run_serves_and_labels_the_password_file(settings, tmp_path):
    settings.BASE_DIR = tmp_path
    out = io.StringIO()
    call_command("bootstrap_local", "--url", "http://0.0.0.0:9000", stdout=out)
    text = out.getvalue()
    assert "http://0.0.0.0:9000/" in text and "8000" not in text
    lines = (tmp_path / ".local" / "admin-password.txt").read_text().splitlines()
    assert lines[0] == "username: admin" and lines[1].startswith("password: ")
    again = io.StringIO()
    call_command("bootstrap_local", stdout=again)  # first start only
    assert again.getvalue() == ""
