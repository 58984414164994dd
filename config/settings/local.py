"""Local development: `make run`. Works on a fresh machine with no environment at all."""

from __future__ import annotations

from cryptography.fernet import Fernet

from .base import *  # noqa: F403
from .base import BASE_DIR, PATCHBAY_ENCRYPTION_KEYS, env

# Off by default: a missing page shows Patchbay's 404, never Django's debug page. DJANGO_DEBUG=true for development.
DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="patchbay-local-development-only-not-secret")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
# Local stand-ins (an internal API on this machine) may be plain http here; production allows none.
PATCHBAY_ALLOW_HTTP_HOSTS = env.list("PATCHBAY_ALLOW_HTTP_HOSTS", default=["127.0.0.1", "localhost"])

if not PATCHBAY_ENCRYPTION_KEYS:
    # A key generated once per checkout, kept out of git, so local data survives restarts.
    _key_file = BASE_DIR / ".local" / "encryption.key"
    if not _key_file.exists():
        _key_file.parent.mkdir(parents=True, exist_ok=True)
        _key_file.write_text(Fernet.generate_key().decode() + "\n")
        _key_file.chmod(0o600)
    PATCHBAY_ENCRYPTION_KEYS = [_key_file.read_text().strip()]
