"""Run the test authorization server: migrate a fresh SQLite database, seed a user and a client, serve on loopback.

    python tests/oauth_server/serve.py            # prints "OAUTH_TEST_SERVER_READY <base_url>" when it accepts requests

Everything is configured by environment variables (see fixture.py for the list). It never imports Patchbay.
"""

from __future__ import annotations

import json
import os
import socketserver
import sys
import tempfile
import threading
import time
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

HERE = Path(__file__).resolve().parent


class ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True
    # Concurrency tests open many connections at once; the default backlog of 5 would refuse some.
    request_queue_size = 128


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        if os.environ.get("OAUTH_TEST_ACCESS_LOG"):
            super().log_message(format, *args)


def _setup_django() -> None:
    # This directory, not the repository root, goes on sys.path, so "authserver" is importable and Patchbay is not.
    sys.path.insert(0, str(HERE))
    os.environ["DJANGO_SETTINGS_MODULE"] = "authserver.settings"
    os.environ.setdefault("OAUTH_TEST_DATA_DIR", tempfile.mkdtemp(prefix="oauth-test-server-"))
    import django

    django.setup()


def _seed() -> dict[str, object]:
    from authserver.views import create_client
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    username = os.environ.get("OAUTH_TEST_USERNAME") or "alice"
    password = os.environ.get("OAUTH_TEST_PASSWORD") or "alice-password"
    user, _ = get_user_model().objects.get_or_create(username=username)
    user.set_password(password)
    user.save()
    redirect_uris = (os.environ.get("OAUTH_TEST_REDIRECT_URIS") or "http://testserver/oauth/callback").split()
    client = create_client(
        redirect_uris=redirect_uris,
        client_id=os.environ.get("OAUTH_TEST_CLIENT_ID") or "patchbay-test-client",
        client_secret=os.environ.get("OAUTH_TEST_CLIENT_SECRET") or "patchbay-test-secret",
        client_auth=os.environ.get("OAUTH_TEST_CLIENT_AUTH") or "any",
        skip_authorization=os.environ.get("OAUTH_TEST_SKIP_AUTHORIZATION", "") in ("1", "true"),
        name="Patchbay test client",
    )
    return {"client_id": client["client_id"], "redirect_uris": redirect_uris, "username": username}


def _exit_with_parent(parent_pid: int) -> None:
    """A killed pytest cannot stop us; poll so no orphan server outlives it."""
    while True:
        time.sleep(0.5)
        try:
            os.kill(parent_pid, 0)
        except OSError:
            os._exit(0)


def main() -> None:
    _setup_django()
    seeded = _seed()

    from django.core.wsgi import get_wsgi_application

    host = os.environ.get("OAUTH_TEST_HOST") or "127.0.0.1"
    port = int(os.environ.get("OAUTH_TEST_PORT") or 0)
    httpd = make_server(
        host, port, get_wsgi_application(), server_class=ThreadingWSGIServer, handler_class=QuietHandler
    )
    base_url = f"http://{host}:{httpd.server_port}"

    parent_pid = os.environ.get("OAUTH_TEST_PARENT_PID")
    if parent_pid:
        threading.Thread(target=_exit_with_parent, args=(int(parent_pid),), daemon=True).start()

    ready_file = os.environ.get("OAUTH_TEST_READY_FILE")
    if ready_file:
        tmp = f"{ready_file}.tmp"
        Path(tmp).write_text(json.dumps({"base_url": base_url, "pid": os.getpid(), **seeded}))
        os.replace(tmp, ready_file)  # atomic, so the reader never sees half a file
    print(f"OAUTH_TEST_SERVER_READY {base_url}", flush=True)
    try:
        httpd.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()


if __name__ == "__main__":
    main()
