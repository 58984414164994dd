"""Process management for the fault-injection suite: a private PostgreSQL cluster, a private redis-server,
gunicorn, Celery workers and beat running the production settings, and a loopback vendor stand-in.

Nothing here touches the machine's shared PostgreSQL (5432) or Redis (6379): every server is started on a free
port in a temporary directory and torn down by `close()`, by `__del__`, or at interpreter exit. Every child is
started in its own session (process group), so a teardown kills the whole group and leaves no orphans.

No Django import at module level: the test process never configures the app it drives.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]  # the project (manage.py)
PY = sys.executable
# A fixed Fernet key (32 bytes, url-safe base64): the stack's encrypted rows stay readable across restarts.
FERNET_KEY = "cGF0Y2hiYXkgZmF1bHQtaW5qZWN0aW9uIHN1aXRlISE="
SECRET_KEY = "faults-suite-secret-key-not-for-production-0123456789abcdef"
TMP_PREFIX = "patchbay-faults-"

# Inherited variables that would point the app at something other than the private stack.
_SCRUBBED_PREFIXES = ("DJANGO_", "PATCHBAY_", "CELERY_")
_SCRUBBED_NAMES = {"DATABASE_URL", "REDIS_URL", "PGHOST", "PGPORT", "PGUSER", "PGDATABASE", "PGPASSWORD"}


class HarnessError(RuntimeError):
    """A process of the stack did not start, answer or stop as expected (its log tail is in the message)."""


# --- Small helpers -------------------------------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tcp_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.05, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return
        if time.monotonic() >= deadline:
            raise HarnessError(f"timed out after {timeout:.0f} s waiting for {what or predicate}")
        time.sleep(interval)


def pid_alive(pid: int) -> bool:
    """True while `pid` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            stat = fh.read()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def child_pids(pid: int) -> list[int]:
    """Direct children of `pid`, read from /proc (no psutil)."""
    children = []
    for stat_path in glob.glob("/proc/[0-9]*/stat"):
        try:
            with open(stat_path, encoding="ascii", errors="replace") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            children.append(int(stat_path.split("/")[2]))
    return sorted(children)


def pids_in_group(pgid: int) -> list[int]:
    pids = []
    for stat_path in glob.glob("/proc/[0-9]*/stat"):
        try:
            with open(stat_path, encoding="ascii", errors="replace") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            pids.append(int(stat_path.split("/")[2]))
    return sorted(pids)


def _signal(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, sig)


def kill_group(proc: subprocess.Popen | None, timeout: float = 10.0, sig: int = signal.SIGTERM) -> None:
    """Stop a child started with start_new_session=True and everything in its process group.

    Sends `sig` to the group, waits up to `timeout`, then SIGKILLs whatever of the group is still there (pool
    children orphaned by a killed parent keep the group id, so they are found too)."""
    if proc is None:
        return
    pgid = proc.pid  # session leader: its pid is the group id, even after it has exited
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=timeout)
    deadline = time.monotonic() + timeout
    while pids_in_group(pgid) and time.monotonic() < deadline:
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)
    wait_until(lambda: not pids_in_group(pgid), 5, what=f"process group {pgid} to exit")


def _tail(path: Path, chars: int = 4000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return ""


def _popen(cmd: list[str], log: Path, env: dict[str, str] | None = None, cwd: Path | None = ROOT) -> subprocess.Popen:
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        return subprocess.Popen(
            cmd,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


# Everything still open at interpreter exit is closed (a crashed test run must not leave servers behind).
_open: weakref.WeakSet = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    for thing in list(_open):
        with contextlib.suppress(Exception):
            thing.close()


class _Managed:
    """close() once, from the fixture, `with`, __del__ or atexit."""

    _closed = False

    def __init__(self) -> None:
        _open.add(self)

    def close(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        if not self._closed:
            with contextlib.suppress(Exception):
                self.close()


def make_tmp(name: str, base: str | Path | None = None) -> Path:
    path = Path(tempfile.mkdtemp(prefix=f"{TMP_PREFIX}{name}-", dir=base))
    path.chmod(0o755)  # the postgres OS user must be able to traverse it
    return path


# --- PostgreSQL ------------------------------------------------------------------------------------------------


def postgres_bindir() -> Path | None:
    """The newest /usr/lib/postgresql/<version>/bin holding initdb, else the directory of an initdb on PATH."""
    found = []
    for path in glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        version = Path(path).parent.parent.name
        with contextlib.suppress(ValueError):
            found.append((float(version), Path(path).parent))
    if found:
        return max(found)[1]
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path else None


def redis_server_path() -> str | None:
    return shutil.which("redis-server")


class PrivatePostgres(_Managed):
    """A throw-away PostgreSQL cluster: trust auth, 127.0.0.1:<free port>, socket dir and data in a temp dir,
    durability off (fsync, full_page_writes, synchronous_commit). Run as the `postgres` OS user when we are root.

    The port is fixed for the object's lifetime, so stop()/start() and kill()/start() come back on the same URL."""

    SETTINGS = {
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
        "wal_level": "minimal",
        "max_wal_senders": "0",
        "checkpoint_timeout": "1d",
        "max_wal_size": "1GB",
        "autovacuum": "off",
        "shared_buffers": "32MB",
        "max_connections": "200",
        "jit": "off",
        "log_min_messages": "warning",
        "logging_collector": "off",
    }

    def __init__(self, base_dir: str | Path | None = None, port: int | None = None) -> None:
        super().__init__()
        bindir = postgres_bindir()
        if bindir is None:
            raise HarnessError("initdb not found (apt-get install postgresql)")
        self.bindir = bindir
        self.port = port or free_port()
        self.tmp = make_tmp("pg", base_dir)
        self.home = self.tmp / "pg"  # owned by the postgres user
        self.data = self.home / "data"
        self.sockdir = self.home / "sock"
        self.logfile = self.home / "postgres.log"
        self._as_postgres = os.geteuid() == 0
        self._initialised = False
        self._orphans: list[int] = []

    # -- plumbing
    def _cmd(self, *args: str) -> list[str]:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        return ["runuser", "-u", "postgres", "--", *cmd] if self._as_postgres else cmd

    def _run(self, *args: str, timeout: float = 60) -> str:
        done = subprocess.run(  # noqa: PLW1510 - checked below, with the output in the error
            self._cmd(*args), capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
        )
        if done.returncode != 0:
            raise HarnessError(
                f"{' '.join(args[:2])} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}\n{self.log()}"
            )
        return done.stdout

    def initdb(self) -> None:
        if self._initialised:
            return
        self.home.mkdir(exist_ok=True)
        self.sockdir.mkdir(exist_ok=True)
        if self._as_postgres:
            shutil.chown(self.home, "postgres", "postgres")
            shutil.chown(self.sockdir, "postgres", "postgres")
        self._run(
            "initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync",
            "--no-instructions",
        )  # fmt: skip
        conf = {
            **self.SETTINGS,
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.sockdir}'",
        }
        with open(self.data / "postgresql.conf", "a", encoding="utf-8") as fh:
            fh.write("\n# patchbay fault suite\n" + "".join(f"{k} = {v}\n" for k, v in conf.items()))
        self._initialised = True

    # -- state
    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/patchbay"

    def dsn(self, dbname: str = "patchbay") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def postmaster_pid(self) -> int | None:
        try:
            pid = int((self.data / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None
        return pid if pid_alive(pid) else None

    def is_up(self) -> bool:
        """True when the server accepts a connection and answers a query."""
        if not tcp_open("127.0.0.1", self.port, timeout=0.5):
            return False
        import psycopg

        try:
            with psycopg.connect(self.dsn("postgres"), connect_timeout=2) as conn:
                conn.execute("SELECT 1")
            return True
        except psycopg.Error:
            return False

    def wait_ready(self, timeout: float = 30) -> None:
        try:
            wait_until(self.is_up, timeout, what=f"PostgreSQL on port {self.port}")
        except HarnessError as exc:
            raise HarnessError(f"{exc}\n{self.log()}") from None

    def log(self) -> str:
        return _tail(self.logfile)

    # -- lifecycle
    def start(self, timeout: float = 30) -> None:
        """initdb on first use, then `pg_ctl start -w`. A no-op when the server is already running."""
        self.initdb()
        if self.postmaster_pid() is not None:
            self.wait_ready(timeout)
            return
        # After kill(): backends orphaned by the dead postmaster still hold its shared memory; a new postmaster
        # refuses to start until they are gone. They exit on their own when they notice; make sure.
        self._reap_orphans()
        self._remove_stale_lock()
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.logfile), "-w", "-t", str(int(timeout)), "start")
        self.wait_ready(timeout)

    def stop(self, mode: str = "fast", timeout: float = 30) -> None:
        """`pg_ctl stop -m <mode>` and wait (smart / fast / immediate). A no-op when it is not running."""
        if self.postmaster_pid() is None:
            self._reap_orphans()
            return
        self._run(
            "pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", str(int(timeout)), "stop", timeout=timeout + 5
        )

    def kill(self, children: bool = False) -> None:
        """SIGKILL the postmaster (a crash). Its backends notice the postmaster's death and exit on their own
        (start() waits for that); `children=True` SIGKILLs them at the same instant instead."""
        pid = self.postmaster_pid()
        if pid is None:
            return
        backends = child_pids(pid)
        self._orphans = backends
        _signal(pid, signal.SIGKILL)
        if children:
            for child in backends:
                _signal(child, signal.SIGKILL)
        wait_until(lambda: not pid_alive(pid), 10, what=f"postmaster {pid} to die")

    def _remove_stale_lock(self) -> None:
        """A SIGKILLed postmaster stays a zombie until PID 1 reaps it (here: up to ~2 s), and a zombie passes
        PostgreSQL's `kill(pid, 0)` liveness check, so the new postmaster would refuse the "still used" lock files.
        Its process and backends are dead (checked above), so the locks (data dir and socket) are stale."""
        for lock in (self.data / "postmaster.pid", self.sockdir / f".s.PGSQL.{self.port}.lock"):
            try:
                pid = int(lock.read_text().split("\n", 1)[0])
            except (OSError, ValueError):
                continue
            if not pid_alive(pid):
                lock.unlink(missing_ok=True)

    def _reap_orphans(self, timeout: float = 10) -> None:
        orphans, self._orphans = self._orphans, []
        deadline = time.monotonic() + timeout
        while any(pid_alive(p) for p in orphans) and time.monotonic() < deadline:
            time.sleep(0.05)
        for pid in orphans:
            if pid_alive(pid):
                _signal(pid, signal.SIGKILL)

    def create_database(self, name: str = "patchbay") -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.dsn("postgres"), autocommit=True, connect_timeout=5) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    def close(self) -> None:
        self.cleanup()

    def cleanup(self) -> None:
        """Stop the server (immediate, then SIGKILL) and remove the data directory."""
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(Exception):
            if self.postmaster_pid() is not None:
                self.stop(mode="immediate", timeout=10)
        pid = self.postmaster_pid()
        if pid is not None:
            self._orphans += child_pids(pid)
            _signal(pid, signal.SIGKILL)
        self._reap_orphans(timeout=5)
        shutil.rmtree(self.tmp, ignore_errors=True)
        _open.discard(self)


# --- Redis -------------------------------------------------------------------------------------------------------


class PrivateRedis(_Managed):
    """A private redis-server child process (no persistence) on 127.0.0.1:<free port>; restarts keep the port."""

    def __init__(self, base_dir: str | Path | None = None, port: int | None = None) -> None:
        super().__init__()
        binary = redis_server_path()
        if binary is None:
            raise HarnessError("redis-server not found (apt-get install redis-server)")
        self.binary = binary
        self.port = port or free_port()
        self.tmp = make_tmp("redis", base_dir)
        self.logfile = self.tmp / "redis.log"
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self, **kwargs: Any):
        import redis

        return redis.Redis.from_url(self.url, socket_timeout=2, socket_connect_timeout=2, **kwargs)

    def is_up(self) -> bool:
        if self.proc is None or self.proc.poll() is not None:
            return False
        try:
            with self.client() as client:
                return bool(client.ping())
        except Exception:  # noqa: BLE001 - any failure means "not up"
            return False

    def start(self, timeout: float = 10) -> None:
        if self.is_up():
            return
        self.proc = _popen(
            [
                self.binary,
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--save", "",
                "--appendonly", "no",
                "--dir", str(self.tmp),
                "--daemonize", "no",
                "--protected-mode", "no",
                "--loglevel", "notice",
            ],
            self.logfile,
            cwd=self.tmp,
        )  # fmt: skip
        try:
            wait_until(self.is_up, timeout, what=f"redis-server on port {self.port}")
        except HarnessError as exc:
            raise HarnessError(f"{exc}\n{self.log()}") from None

    def stop(self, timeout: float = 10) -> None:
        """SHUTDOWN NOSAVE, then SIGTERM/SIGKILL the group if it is still there."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            with contextlib.suppress(Exception), self.client() as client:
                client.shutdown(nosave=True)
        kill_group(self.proc, timeout=timeout)
        self.proc = None

    def kill(self) -> None:
        """SIGKILL redis-server (a crash: everything in memory, queued messages included, is lost)."""
        if self.proc is None:
            return
        kill_group(self.proc, timeout=5, sig=signal.SIGKILL)
        self.proc = None

    def llen(self, queue: str = "celery") -> int:
        """Messages waiting in a Celery queue (the Redis list named after it; default priority)."""
        with self.client() as client:
            return int(client.llen(queue))

    def unacked(self) -> int:
        """Messages a worker has reserved but not acknowledged (kombu's `unacked` hash; acks_late tasks)."""
        with self.client() as client:
            return int(client.hlen("unacked"))

    def log(self) -> str:
        return _tail(self.logfile)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(Exception):
            self.stop(timeout=5)
        shutil.rmtree(self.tmp, ignore_errors=True)
        _open.discard(self)


# --- The application's processes ----------------------------------------------------------------------------------


def stack_env(pg_url: str, redis_url: str, **extra: Any) -> dict[str, str]:
    """Environment for manage.py, gunicorn, celery worker and beat: production settings on the private stack.

    The current environment is inherited (PATH, HOME, locale) minus anything that could point the app elsewhere
    (DJANGO_*, PATCHBAY_*, CELERY_*, DATABASE_URL, REDIS_URL, PG*). `extra` is added last; dict and list values
    are JSON-encoded, everything else str()-ed, so `PATCHBAY_CATALOG_OVERRIDES={"stripe": {...}}` just works."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_SCRUBBED_PREFIXES) and k not in _SCRUBBED_NAMES}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY=SECRET_KEY,
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_SECURE_COOKIES="false",
        PATCHBAY_ENCRYPTION_KEYS=FERNET_KEY,
        DATABASE_URL=pg_url,
        REDIS_URL=redis_url,
        PYTHONUNBUFFERED="1",
        PYTHONDONTWRITEBYTECODE="1",
    )
    for key, value in extra.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = json.dumps(value) if isinstance(value, dict | list) else str(value)
    return env


def manage(env: dict[str, str], *args: str, timeout: float = 180) -> str:
    """`python manage.py <args>` with `env`; returns stdout, raises HarnessError (with stderr) on failure."""
    done = subprocess.run(  # noqa: PLW1510 - checked below, with the output in the error
        [PY, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    if done.returncode != 0:
        raise HarnessError(f"manage.py {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stdout


def http_ok(url: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status == 200
    except (OSError, urllib.error.URLError):
        return False


class Gunicorn(_Managed):
    """`gunicorn config.wsgi` (gthread: -w 2 --threads 4 --timeout 60) on a free port, logging to a file."""

    def __init__(
        self,
        env: dict[str, str],
        base_dir: str | Path | None = None,
        workers: int = 2,
        threads: int = 4,
        timeout: int = 60,
        port: int | None = None,
    ) -> None:
        super().__init__()
        self.env = env
        self.port = port or free_port()
        self.workers, self.threads, self.timeout = workers, threads, timeout
        self.tmp = make_tmp("web", base_dir)
        self.logfile = self.tmp / "gunicorn.log"
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def spawn(self) -> None:
        """Launch without waiting (wait_ready() later): lets a caller boot several processes at once."""
        if self.proc is not None and self.proc.poll() is None:
            return
        self.proc = _popen(
            [
                PY, "-m", "gunicorn", "config.wsgi:application",
                "-b", f"127.0.0.1:{self.port}",
                "-w", str(self.workers),
                "--threads", str(self.threads),
                "--timeout", str(self.timeout),
                "--graceful-timeout", "5",
                "--access-logfile", "-",
                "--error-logfile", "-",
                "--log-level", "info",
                "--no-control-socket",  # gunicorn 27 otherwise shares ~/.gunicorn/gunicorn.ctl with every instance
            ],
            self.logfile,
            env=self.env,
        )  # fmt: skip

    def wait_ready(self, timeout: float = 30) -> None:
        def ready() -> bool:
            if self.proc is None or self.proc.poll() is not None:
                raise HarnessError(f"gunicorn exited ({self.proc and self.proc.returncode}):\n{self.log()[-4000:]}")
            return http_ok(f"{self.url}/healthz")

        try:
            wait_until(ready, timeout, interval=0.1, what="gunicorn /healthz")
        except HarnessError as exc:
            raise HarnessError(f"{exc}\n{self.log()[-4000:]}") from None

    def start(self, timeout: float = 30) -> None:
        self.spawn()
        self.wait_ready(timeout)

    def stop(self, timeout: float = 10) -> None:
        """SIGTERM the arbiter (graceful: in-flight requests get --graceful-timeout), SIGKILL the group after."""
        kill_group(self.proc, timeout=timeout)
        self.proc = None

    def worker_pids(self) -> list[int]:
        """The gunicorn worker processes (children of the arbiter) that serve requests."""
        return child_pids(self.proc.pid) if self.proc is not None and self.proc.poll() is None else []

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Send `sig` to the arbiter only (SIGKILL: its workers are left behind until stop() or close())."""
        if self.proc is not None and self.proc.poll() is None:
            _signal(self.proc.pid, sig)

    def log(self) -> str:
        try:
            return self.logfile.read_text(errors="replace")
        except OSError:
            return ""

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(Exception):
            self.stop(timeout=5)
        shutil.rmtree(self.tmp, ignore_errors=True)
        _open.discard(self)


@dataclass
class _Worker:
    name: str
    logfile: Path
    proc: subprocess.Popen | None = None


class Workers(_Managed):
    """N separate `celery -A config worker` processes (prefork, -c 2 each), each with its own log file.

    Index `i` addresses one worker: kill(i) signals its main process, pool_children(i) lists the forked pool
    processes that actually run tasks, restart(i) brings it back under the same node name."""

    def __init__(
        self,
        env: dict[str, str],
        n: int = 2,
        base_dir: str | Path | None = None,
        concurrency: int = 2,
        pool: str = "prefork",
        extra_args: Iterable[str] = (),
    ) -> None:
        super().__init__()
        self.env = env
        self.concurrency, self.pool, self.extra_args = concurrency, pool, list(extra_args)
        self.tmp = make_tmp("workers", base_dir)
        tag = f"{os.getpid()}-{self.tmp.name.rsplit('-', 1)[-1]}"
        self.workers = [_Worker(f"faults{i}-{tag}@127.0.0.1", self.tmp / f"worker{i}.log") for i in range(n)]
        self._app = None

    def __len__(self) -> int:
        return len(self.workers)

    @property
    def names(self) -> list[str]:
        return [w.name for w in self.workers]

    def pid(self, i: int) -> int | None:
        proc = self.workers[i].proc
        return proc.pid if proc is not None and proc.poll() is None else None

    def alive(self, i: int) -> bool:
        return self.pid(i) is not None

    def spawn(self, i: int | None = None) -> None:
        """Launch worker i (or all) without waiting; wait_ready() afterwards."""
        for j in range(len(self.workers)) if i is None else [i]:
            worker = self.workers[j]
            if worker.proc is not None and worker.proc.poll() is None:
                continue
            with open(worker.logfile, "ab") as fh:
                fh.write(f"\n===== start {time.strftime('%H:%M:%S')} =====\n".encode())
            worker.proc = _popen(
                [
                    PY, "-m", "celery", "-A", "config", "worker",
                    "-P", self.pool, "-c", str(self.concurrency),
                    "--without-gossip", "--without-mingle", "--without-heartbeat",
                    "-n", worker.name, "-l", "info", *self.extra_args,
                ],
                worker.logfile,
                env=self.env,
            )  # fmt: skip

    def _control_app(self):
        if self._app is None:
            from celery import Celery

            broker = self.env["REDIS_URL"]
            self._app = Celery("faults-control", broker=broker, backend=broker, set_as_current=False)
            self._app.conf.broker_connection_retry_on_startup = True
        return self._app

    def ping(self, timeout: float = 0.5) -> set[str]:
        """Names of the workers that answer a broadcast ping."""
        try:
            replies = self._control_app().control.ping(destination=self.names, timeout=timeout)
        except Exception:  # noqa: BLE001 - broker down: nobody answers
            return set()
        return {name for reply in replies for name in reply}

    def wait_ready(self, timeout: float = 30, indices: Iterable[int] | None = None) -> None:
        """Until every (or each listed) worker answers a ping, i.e. consumes from the broker."""
        wanted = {self.workers[i].name for i in (range(len(self.workers)) if indices is None else indices)}

        def ready() -> bool:
            for worker in self.workers:
                if worker.name in wanted and (worker.proc is None or worker.proc.poll() is not None):
                    raise HarnessError(f"celery worker {worker.name} exited:\n{_tail(worker.logfile)}")
            return wanted <= self.ping()

        try:
            wait_until(ready, timeout, interval=0.1, what=f"celery workers {sorted(wanted)}")
        except HarnessError as exc:
            raise HarnessError(f"{exc}\n" + "\n".join(_tail(w.logfile, 2000) for w in self.workers)) from None

    def start(self, timeout: float = 30) -> None:
        self.spawn()
        self.wait_ready(timeout)

    def stop(self, i: int | None = None, timeout: float = 10) -> None:
        """Warm shutdown (SIGTERM: finish running tasks) of worker i or all, SIGKILL after `timeout`."""
        for j in range(len(self.workers)) if i is None else [i]:
            worker = self.workers[j]
            kill_group(worker.proc, timeout=timeout)
            worker.proc = None

    def kill(self, i: int, sig: int = signal.SIGKILL) -> None:
        """Send `sig` to worker i's main process only (its pool children are left to fend for themselves)."""
        pid = self.pid(i)
        if pid is None:
            raise HarnessError(f"worker {i} is not running")
        _signal(pid, sig)
        if sig == signal.SIGKILL:
            self.workers[i].proc.wait(timeout=10)  # type: ignore[union-attr]

    def pool_children(self, i: int) -> list[int]:
        """Pids of worker i's pool processes (children of its main process)."""
        pid = self.pid(i)
        return child_pids(pid) if pid is not None else []

    def kill_children(self, i: int, sig: int = signal.SIGKILL) -> list[int]:
        """Send `sig` to every pool process of worker i; returns their pids."""
        children = self.pool_children(i)
        for child in children:
            _signal(child, sig)
        return children

    def group_pids(self, i: int) -> list[int]:
        """Every live process of worker i's process group (main, pool children, orphans of a killed main)."""
        proc = self.workers[i].proc
        return pids_in_group(proc.pid) if proc is not None else []

    def restart(self, i: int | None = None, timeout: float = 30) -> None:
        """Stop worker i, or all (killing whatever is left, orphans included), and start it again under the same
        name; waits until it answers a ping."""
        self.stop(i, timeout=10)
        self.spawn(i)
        self.wait_ready(timeout, indices=None if i is None else [i])

    def log(self, i: int) -> str:
        try:
            return self.workers[i].logfile.read_text(errors="replace")
        except OSError:
            return ""

    def logs(self) -> list[str]:
        return [self.log(i) for i in range(len(self.workers))]

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(Exception):
            self.stop(timeout=5)
        if self._app is not None:
            with contextlib.suppress(Exception):
                self._app.close()
        shutil.rmtree(self.tmp, ignore_errors=True)
        _open.discard(self)


class Beat(_Managed):
    """`celery -A config beat` with its schedule file in a temp dir."""

    def __init__(self, env: dict[str, str], base_dir: str | Path | None = None, max_interval: int = 1) -> None:
        super().__init__()
        self.env = env
        self.max_interval = max_interval
        self.tmp = make_tmp("beat", base_dir)
        self.logfile = self.tmp / "beat.log"
        self.schedule = self.tmp / "celerybeat-schedule"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 20) -> None:
        if self.proc is not None and self.proc.poll() is None:
            return
        self.proc = _popen(
            [
                PY, "-m", "celery", "-A", "config", "beat",
                "-s", str(self.schedule), "--max-interval", str(self.max_interval), "-l", "info",
            ],
            self.logfile,
            env=self.env,
        )  # fmt: skip

        def ready() -> bool:
            if self.proc is None or self.proc.poll() is not None:
                raise HarnessError(f"celery beat exited:\n{self.log()}")
            return "beat: Starting..." in self.log()

        wait_until(ready, timeout, interval=0.1, what="celery beat")

    def stop(self, timeout: float = 10) -> None:
        kill_group(self.proc, timeout=timeout)
        self.proc = None

    def log(self) -> str:
        try:
            return self.logfile.read_text(errors="replace")
        except OSError:
            return ""

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.stop(timeout=5)
        shutil.rmtree(self.tmp, ignore_errors=True)
        _open.discard(self)


# --- A loopback vendor -------------------------------------------------------------------------------------------


@dataclass
class RecordedRequest:
    method: str
    path: str  # without the query string
    query: str
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.monotonic)

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == lowered), None)

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class Route:
    body: Any = None  # JSON-encoded unless bytes
    status: int = 200
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    handler: Callable[[RecordedRequest], tuple[int, Any, dict[str, str]]] | None = None


class SlowVendor(_Managed):
    """A threaded loopback HTTP server standing in for a third-party API.

    Records every request (method, path, query, headers, body) in a thread-safe list. `route(path, body, delay=N)`
    makes `path` answer JSON after sleeping N seconds, so a test can kill a worker while an execution is
    mid-request (`wait_for_request(path)` tells you when it is). `listener=True` answers 200 `{}` to everything:
    a host that must receive nothing (`assert not vendor.requests`). `release()` cuts every pending sleep short."""

    def __init__(self, listener: bool = False, port: int | None = None) -> None:
        super().__init__()
        self.listener = listener
        self.routes: dict[tuple[str | None, str], Route] = {}
        self._requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._release = threading.Event()
        self.in_flight = 0
        vendor = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # quiet
                return

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path, _, query = self.path.partition("?")
                req = RecordedRequest(self.command, path, query, dict(self.headers.items()), body)
                route = vendor._route_for(self.command, path)
                with vendor._arrived:
                    vendor._requests.append(req)
                    vendor.in_flight += 1
                    vendor._arrived.notify_all()
                try:
                    status, payload, headers = vendor._answer(route, req)
                    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                    self.send_response(status)
                    self.send_header("Content-Type", headers.pop("Content-Type", "application/json"))
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client (a killed worker) went away mid-answer
                finally:
                    with vendor._lock:
                        vendor.in_flight -= 1

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", port or 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Serving starts in the constructor; kept for symmetry."""

    def route(
        self,
        path: str,
        body: Any = None,
        *,
        status: int = 200,
        delay: float = 0.0,
        method: str | None = None,
        headers: dict[str, str] | None = None,
        handler: Callable[[RecordedRequest], tuple[int, Any, dict[str, str]]] | None = None,
    ) -> None:
        """Answer `path` (any method, or only `method`) with `body` as JSON after `delay` seconds; or call
        `handler(request) -> (status, body, headers)` (after the delay) for dynamic answers."""
        self.routes[(method.upper() if method else None, path)] = Route(
            body, status, delay, dict(headers or {}), handler
        )

    def set_delay(self, path: str, seconds: float, method: str | None = None) -> None:
        self.routes[(method.upper() if method else None, path)].delay = seconds

    def _route_for(self, method: str, path: str) -> Route | None:
        return self.routes.get((method, path)) or self.routes.get((None, path))

    def _answer(self, route: Route | None, req: RecordedRequest) -> tuple[int, Any, dict[str, str]]:
        if route is None:
            if self.listener:
                return 200, {}, {}
            return 404, {"error": {"message": f"No route for {req.method} {req.path}", "code": "resource_missing"}}, {}
        if route.delay:
            self._release.wait(route.delay)
        if route.handler is not None:
            status, payload, headers = route.handler(req)
            return status, payload, dict(headers or {})
        return route.status, route.body, dict(route.headers)

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def requests_to(self, path: str, method: str | None = None) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == path and (method is None or r.method == method.upper())]

    def wait_for_request(self, path: str | None = None, count: int = 1, timeout: float = 30) -> list[RecordedRequest]:
        """Block until `count` requests (to `path`, if given) have arrived; returns them."""

        def matching() -> list[RecordedRequest]:
            return [r for r in self._requests if path is None or r.path == path]

        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(matching()) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise HarnessError(
                        f"{len(matching())} of {count} requests to {path or 'the vendor'} in {timeout} s"
                    )
                self._arrived.wait(left)
            return matching()

    def clear(self) -> None:
        """Forget recorded requests (routes stay)."""
        with self._lock:
            self._requests.clear()

    def reset(self) -> None:
        """Forget recorded requests and routes; pending sleeps are cut short."""
        self.release()
        self.clear()
        self.routes.clear()
        self._release = threading.Event()

    def release(self) -> None:
        self._release.set()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.release()
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)
        _open.discard(self)
