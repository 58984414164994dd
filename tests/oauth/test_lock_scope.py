"""A token refresh locks the connector's row only: never the shared workspace or definition rows, which every
other refresh (and anything updating the workspace) would then wait on behind a third party's latency."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from connectors.oauth.tokens import refresh_token
from core.errors import TokenUnavailable
from tests.factories import ConnectorFactory

pytestmark = pytest.mark.django_db


def test_refresh_locks_only_the_connector_row(workspace, require_postgres):
    connector = ConnectorFactory(workspace=workspace, credentials={"api_key": "sk_test"})
    with CaptureQueriesContext(connection) as captured, pytest.raises(TokenUnavailable):
        refresh_token(connector_id=connector.pk, force=True)  # no refresh token: it locks, then says so
    locking = [q["sql"] for q in captured if "FOR UPDATE" in q["sql"]]
    assert locking, "the refresh took no row lock"
    assert all('FOR UPDATE OF "connectors_connector"' in sql for sql in locking), locking
