"""Encryption key rotation: re-encrypts with the newest key, in batches, safe to re-run; lost keys fail clearly."""

from __future__ import annotations

import io

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command

from connectors.models import Connector
from connectors.selectors import connector_credentials
from tests.factories import ConnectorFactory

pytestmark = pytest.mark.django_db
OLD = "dGVzdC1rZXktMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDA="


def test_rotation_reencrypts_every_row_and_is_safe_to_rerun(workspace, settings):
    for i in range(7):
        ConnectorFactory(workspace=workspace, credentials={"api_key": f"sk_test_{i}"})
    before = dict(Connector.objects.values_list("pk", "credentials_encrypted"))
    new = Fernet.generate_key().decode()
    settings.PATCHBAY_ENCRYPTION_KEYS = [new, OLD]
    out = io.StringIO()
    call_command("rotate_encryption_key", "--batch-size", "3", stdout=out)
    text = out.getvalue()
    assert "Connector: 3/7" in text and "Connector: 6/7" in text and "Connector: 7/7" in text
    assert "7 re-encrypted" in text
    after = dict(Connector.objects.values_list("pk", "credentials_encrypted"))
    assert all(before[pk] != after[pk] for pk in before)

    # The new key alone now decrypts everything.
    settings.PATCHBAY_ENCRYPTION_KEYS = [new]
    assert sorted(connector_credentials(c)["api_key"] for c in Connector.objects.all()) == [
        f"sk_test_{i}" for i in range(7)
    ]
    again = io.StringIO()
    call_command("rotate_encryption_key", stdout=again)
    assert "0 re-encrypted, 7 already on the newest key" in again.getvalue()


def test_database_with_only_old_key_data_fails_clearly(workspace, settings):
    connector = ConnectorFactory(workspace=workspace, name="Payments")
    settings.PATCHBAY_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(CommandError) as excinfo:
        call_command("rotate_encryption_key", stdout=io.StringIO())
    assert f"connector {connector.pk} (Payments)" in str(excinfo.value)
