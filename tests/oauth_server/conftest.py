from __future__ import annotations

from .fixture import clean_oauth_server, oauth_server, oauth_server_factory

__all__ = ["clean_oauth_server", "oauth_server", "oauth_server_factory"]
