"""Dashboard and API lists at scale: 10,000 connectors, 1,000,000 executions and 200,000 audit events in one
workspace, on PostgreSQL.

Seeds a dedicated database (bulk SQL, a few minutes the first time; reused afterwards) and prints, for every
dashboard page and API list, the p50 server time, the first request's time (cold caches), the query count and the
response size. Run:

    python bench/dashboard_scale.py [--connectors 10000] [--executions 1000000] [--audit 200000] [--runs 15]
                                    [--reseed]

DATABASE_URL picks the server (default postgres://postgres@127.0.0.1:5432/patchbay_scale); the database is
created when missing. Figures go in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import quote_plus, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/patchbay_scale"


def ensure_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = f"postgresql://{parts.netloc}/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
            print(f"==> created database {name}", flush=True)


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", "--no-input", verbosity=0)


def seed(n_connectors: int, n_executions: int, n_audit: int, reseed: bool) -> tuple[object, object]:
    from django.db import connection

    from connectors import crypto
    from connectors.models import Connector, ConnectorDefinition, Execution
    from tests.factories import MembershipFactory, UserFactory
    from workspaces.models import AuditEvent, Role, Workspace

    workspace = Workspace.objects.filter(slug="scale").first()
    if workspace and reseed:
        print("==> dropping the old seed", flush=True)
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM connectors_execution WHERE workspace_id = %s", [workspace.pk])
            cursor.execute("DELETE FROM connectors_connector WHERE workspace_id = %s", [workspace.pk])
            cursor.execute("DELETE FROM workspaces_auditevent WHERE workspace_id = %s", [workspace.pk])
        workspace.delete()
        workspace = None
    if workspace is None:
        workspace = Workspace.objects.create(name="Scale", slug="scale")
    user = UserFactory(username="scale-owner")
    if not workspace.memberships.filter(user=user).exists():
        MembershipFactory(user=user, workspace=workspace, role=Role.OWNER)

    have = Connector.objects.filter(workspace=workspace).count()
    if have < n_connectors:
        started = time.monotonic()
        blob = crypto.encrypt_json({"api_key": "sk_test_scale"})
        definitions = list(ConnectorDefinition.objects.values_list("pk", flat=True))
        with connection.cursor() as cursor:
            cursor.execute(
                """
                INSERT INTO connectors_connector (id, workspace_id, definition_id, name, auth_scheme,
                    credentials_encrypted, replication_config, status, status_detail, created_at, updated_at,
                    refresh_failures, token_scopes)
                SELECT gen_random_uuid(), %s, (%s::uuid[])[1 + (g %% %s)], 'Connector ' || g, 'api_key', %s, '{}',
                    (ARRAY['healthy','healthy','healthy','needs_attention','needs_reauth'])[1 + (g %% 5)], '',
                    now() - (g || ' minutes')::interval, now(), 0, ''
                FROM generate_series(%s, %s) AS g
                """,
                [workspace.pk, [str(d) for d in definitions], len(definitions), blob, have + 1, n_connectors],
            )
        print(f"==> {n_connectors - have} connectors in {time.monotonic() - started:.1f}s", flush=True)

    have = Execution.objects.filter(workspace=workspace).count()
    if have < n_executions:
        started = time.monotonic()
        batch = 200_000
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE TEMP TABLE bench_connectors AS SELECT row_number() OVER () AS n, id FROM "
                "connectors_connector WHERE workspace_id = %s",
                [workspace.pk],
            )
            for start in range(have + 1, n_executions + 1, batch):
                end = min(start + batch - 1, n_executions)
                cursor.execute(
                    """
                    INSERT INTO connectors_execution (id, workspace_id, connector_id, entity, action, params,
                        params_encrypted, status, result, connector_metadata, error_code, error_message,
                        error_fields, attempts, duration_ms, created_at, finished_at, runner, run_count)
                    SELECT gen_random_uuid(), %s, c.id, 'customers', 'list', '{}', '',
                        CASE WHEN g %% 17 = 0 THEN 'error' ELSE 'success' END, NULL, '{}',
                        CASE WHEN g %% 17 = 0 THEN 'rate_limited' ELSE '' END,
                        CASE WHEN g %% 17 = 0 THEN 'Rate limited.' ELSE '' END, '[]', 1,
                        20 + (g * 7919) %% 900, ts, ts + interval '1 second', '', 1
                    FROM generate_series(%s::bigint, %s::bigint) AS g
                    JOIN bench_connectors c ON c.n = 1 + (g * 104729) %% %s
                    CROSS JOIN LATERAL (SELECT now() - ((g * 2.592)::int || ' seconds')::interval AS ts) t
                    """,
                    [workspace.pk, start, end, n_connectors],
                )
                print(f"    executions {end:,}/{n_executions:,}", flush=True)
            cursor.execute("DROP TABLE bench_connectors")
            cursor.execute("ANALYZE connectors_execution; ANALYZE connectors_connector")
        print(f"==> {n_executions - have:,} executions in {time.monotonic() - started:.1f}s", flush=True)

    have = AuditEvent.objects.filter(workspace=workspace).count()
    if have < n_audit:
        started = time.monotonic()
        with connection.cursor() as cursor:
            # A month of changes: mostly status transitions and edits, spread over 30 days, newest first by g.
            cursor.execute(
                """
                INSERT INTO workspaces_auditevent (workspace_id, actor_user_id, action, target_type, target_id,
                    target_repr, metadata, created_at)
                SELECT %s, CASE WHEN g %% 3 = 0 THEN %s ELSE NULL END,
                    (ARRAY['connector.update', 'connector.healthy', 'connector.needs_attention', 'connector.create',
                           'api_key.create', 'oauth_app.update', 'membership.update'])[1 + (g %% 7)],
                    'Connector', g::text, 'Connector ' || (g %% 10000),
                    CASE WHEN g %% 7 = 0 THEN '{"changed": ["name", "replication_config"], "credential_fields": []}'
                         ELSE '{"from": "unknown", "to": "healthy"}' END::jsonb,
                    now() - ((g * 12.96)::int || ' seconds')::interval
                FROM generate_series(%s::bigint, %s::bigint) AS g
                """,
                [workspace.pk, user.pk, have + 1, n_audit],
            )
            cursor.execute("ANALYZE workspaces_auditevent")
        print(f"==> {n_audit - have:,} audit events in {time.monotonic() - started:.1f}s", flush=True)
    return workspace, user


def measure(client, path: str, runs: int, headers: dict | None = None) -> tuple[float, float, int, int, int]:
    """(p50 ms, first request ms, queries, bytes, status). The first request pays any cold cache."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times: list[float] = []
    queries = size = status = 0
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(path, headers=headers or {})
            times.append((time.perf_counter() - started) * 1000)
        queries, size, status = len(captured), len(response.content), response.status_code
    return statistics.median(times), times[0], queries, size, status


def cursor_at(qs, offset: int) -> str:
    """The dashboard's `before` cursor of the row `offset` rows down `qs` (empty before keyset pages existed)."""
    try:
        from dashboard.views.common import encode_cursor
    except ImportError:
        return ""
    row = qs.order_by("-created_at", "-id").values_list("created_at", "pk")[offset]
    return encode_cursor(*row)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connectors", type=int, default=10_000)
    parser.add_argument("--executions", type=int, default=1_000_000)
    parser.add_argument("--audit", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--reseed", action="store_true")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    if not url.startswith("postgres"):
        sys.exit("bench/dashboard_scale.py needs PostgreSQL (DATABASE_URL=postgres://...)")
    ensure_database(url)
    setup_django(url)

    from datetime import timedelta

    from django.test import Client
    from django.utils import timezone

    from connectors.models import Connector, Execution
    from workspaces.models import AuditEvent
    from workspaces.services import api_key_create

    workspace, user = seed(args.connectors, args.executions, args.audit, args.reseed)
    client = Client()
    client.force_login(user)
    connector = Connector.objects.filter(workspace=workspace).order_by("-created_at").first()
    execution = Execution.objects.filter(workspace=workspace).order_by("-created_at").first()
    _, key = api_key_create(workspace=workspace, name="bench")
    bearer = {"Authorization": f"Bearer {key}"}
    api = "/api/v1/integrations"
    first = client.get(f"{api}/connectors?limit=50", headers=bearer).json()
    nxt = urlsplit(first.get("next") or f"{api}/connectors?limit=50")
    cursor_page = f"{nxt.path}?{nxt.query}"
    ws = f"/w/{workspace.slug}"
    # 5,000 rows down the default (24 h) executions list and 3,000 down the audit log: `page=` for the numbered pages
    # of the first version, `before=` for the keyset pages since; each version ignores the other's parameter.
    day = Execution.objects.filter(workspace=workspace, created_at__gte=timezone.now() - timedelta(hours=23))
    deep_executions = f"{ws}/executions/?page=200&before={cursor_at(day, 5000)}"
    deep_audit = f"{ws}/audit/?page=100&before={cursor_at(AuditEvent.objects.filter(workspace=workspace), 3000)}"
    suggest = {"HX-Request": "true", "HX-Target": "connector-options"}
    by_name = quote_plus(connector.name)
    pages = [
        ("dashboard: connectors", f"{ws}/", None),
        ("dashboard: connectors, search", f"{ws}/?q=Connector+99", None),
        ("dashboard: connectors, page 50", f"{ws}/?page=50", None),
        ("dashboard: catalog", f"{ws}/connectors/new/", None),
        ("dashboard: connector detail", f"{ws}/connectors/{connector.pk}/", None),
        ("dashboard: executions", f"{ws}/executions/", None),
        ("dashboard: executions, last hour", f"{ws}/executions/?range=1h", None),
        ("dashboard: executions, last 7 days", f"{ws}/executions/?range=7d", None),
        ("dashboard: executions, last 30 days", f"{ws}/executions/?range=30d", None),
        ("dashboard: executions, errors 7d", f"{ws}/executions/?status=error&range=7d", None),
        ("dashboard: executions, one connector", f"{ws}/executions/?connector={connector.pk}", None),
        ("dashboard: executions, connector by name", f"{ws}/executions/?range=30d&connector={by_name}", None),
        ("dashboard: executions, 5,000 rows down", deep_executions, None),
        ("dashboard: executions, name suggestions", f"{ws}/executions/?connector=Connector+12", suggest),
        ("dashboard: execution detail", f"{ws}/executions/{execution.pk}/", None),
        ("dashboard: audit log", f"{ws}/audit/", None),
        ("dashboard: audit log, one action", f"{ws}/audit/?action=connector.create", None),
        ("dashboard: audit log, 3,000 rows down", deep_audit, None),
        ("dashboard: API keys", f"{ws}/api-keys/", None),
        ("API: list connectors", f"{api}/connectors?limit=50", bearer),
        ("API: list connectors, next page", cursor_page, bearer),
        ("API: list connectors of a type", f"{api}/connectors?connector_type=stripe&limit=50", bearer),
        ("API: get an execution", f"{api}/executions/{execution.pk}", bearer),
    ]
    print(
        f"\n{args.connectors:,} connectors, {args.executions:,} executions, {args.audit:,} audit events; "
        f"p50 of {args.runs} requests\n"
    )
    print(f"| {'page':<40} | {'p50 ms':>8} | {'first ms':>8} | {'queries':>7} | {'KB':>7} | status |")
    print(f"|{'-' * 42}|{'-' * 10}|{'-' * 10}|{'-' * 9}|{'-' * 9}|--------|")
    for name, path, headers in pages:
        p50, first, queries, size, status = measure(client, path, args.runs, headers)
        print(
            f"| {name:<40} | {p50:8.1f} | {first:8.1f} | {queries:7d} | {size / 1024:7.1f} | {status:6d} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
