from __future__ import annotations

from tests.oauth.conftest import oauth_app, provider  # noqa: F401
from tests.oauth_server.fixture import clean_oauth_server, oauth_server  # noqa: F401
