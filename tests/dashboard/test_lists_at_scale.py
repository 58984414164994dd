"""Dashboard lists and charts stay bounded as data grows: the same number of queries at N and at 10N rows, keyset
pages instead of counts, aggregates computed in SQL. (Speed itself is measured by bench/dashboard_scale.py.)"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from connectors.models import Connector, ConnectorDefinition, Execution, ExecutionStatus
from tests.dashboard.conftest import make_execution
from tests.factories import ConnectorFactory
from workspaces.models import AuditEvent, Workspace

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def add_connectors(ws: Workspace, n: int, *, prefix: str = "Connector") -> list[Connector]:
    stripe = ConnectorDefinition.objects.get(slug="stripe")
    github = ConnectorDefinition.objects.get(slug="github")
    return [
        ConnectorFactory(workspace=ws, name=f"{prefix} {i}", definition=github if i % 2 else stripe) for i in range(n)
    ]


def add_executions(connectors: list[Connector], n: int, *, spread: timedelta = timedelta(hours=20)) -> None:
    """n executions across the connectors, spread back in time from now, every 7th one failed."""
    now = timezone.now()
    rows = [
        Execution(
            workspace=connectors[i % len(connectors)].workspace,
            connector=connectors[i % len(connectors)],
            entity="customers",
            action="list",
            status=ExecutionStatus.ERROR if i % 7 == 0 else ExecutionStatus.SUCCESS,
            error_code="rate_limited" if i % 7 == 0 else "",
            duration_ms=20 + (i * 37) % 900,
            attempts=1,
        )
        for i in range(n)
    ]
    Execution.objects.bulk_create(rows)
    step = spread / max(n, 1)
    for i, row in enumerate(rows):  # auto_now_add wins on insert; spread the times afterwards
        Execution.objects.filter(pk=row.pk).update(created_at=now - step * i)


def add_audit_events(ws: Workspace, n: int) -> None:
    AuditEvent.objects.bulk_create(
        AuditEvent(
            workspace=ws,
            action=("connector.update", "connector.healthy", "api_key.create")[i % 3],
            target_type="Connector",
            target_repr=f"Connector {i}",
            metadata={"changed": ["name"]} if i % 3 == 0 else {"from": "unknown", "to": "healthy"},
        )
        for i in range(n)
    )


def count_queries(client, url: str, **kwargs: Any) -> tuple[int, Any]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, **kwargs)
    assert response.status_code == 200, (url, response.status_code)
    return len(captured), response


def executions_urls(ws: Workspace, connector: Connector) -> dict[str, str]:
    base = reverse("dashboard:executions", args=[ws.slug])
    return {
        "default": base,
        "last hour": f"{base}?range=1h",
        "7 days": f"{base}?range=7d",
        "30 days": f"{base}?range=30d",
        "errors": f"{base}?status=error&range=7d",
        "one connector": f"{base}?connector={connector.pk}",
        "by name": f"{base}?connector={connector.name.replace(' ', '+')}&range=30d",
        "no such name": f"{base}?connector=nobody",
    }


def test_executions_pages_run_the_same_queries_at_10x_the_data(ws, owner_client):
    small = add_connectors(ws, 3)
    add_executions(small, 30)
    for url in executions_urls(ws, small[0]).values():
        owner_client.get(url)  # per-process warm-up, as in a running server
    before = {name: count_queries(owner_client, url)[0] for name, url in executions_urls(ws, small[0]).items()}

    big = add_connectors(ws, 27, prefix="More")
    add_executions(small + big, 300, spread=timedelta(days=20))
    after = {name: count_queries(owner_client, url)[0] for name, url in executions_urls(ws, small[0]).items()}
    assert after == before
    again = {name: count_queries(owner_client, url)[0] for name, url in executions_urls(ws, small[0]).items()}
    assert again == before  # warm caches change the rows read, not the number of queries


def test_deeper_executions_pages_cost_no_more_queries(ws, owner_client):
    connectors = add_connectors(ws, 4)
    add_executions(connectors, 120)
    url = reverse("dashboard:executions", args=[ws.slug])
    table_only = {"HX-Request": "true", "HX-Target": "execution-results"}
    first_count, response = count_queries(owner_client, url, headers=table_only)
    counts = [first_count]
    html = response.content.decode()
    for _ in range(3):
        older = re.search(r'href="\?([^"]*before=[^"]*)"', html).group(1).replace("&amp;", "&")
        n, response = count_queries(owner_client, f"{url}?{older}", headers=table_only)
        counts.append(n)
        html = response.content.decode()
    assert len(set(counts)) == 1, counts


def test_connector_suggestions_are_bounded(ws, owner_client):
    add_connectors(ws, 45)
    url = reverse("dashboard:executions", args=[ws.slug])
    headers = {"HX-Request": "true", "HX-Target": "connector-options"}
    n_small, response = count_queries(owner_client, url, data={"connector": "Connector"}, headers=headers)
    html = response.content.decode()
    assert html.startswith("<datalist") and html.count("<option") == 20
    add_connectors(ws, 200, prefix="Later")
    n_big, response = count_queries(owner_client, url, data={"connector": "Connector"}, headers=headers)
    assert n_big == n_small
    # Type names match too: every GitHub connector is a suggestion for "github".
    html = owner_client.get(url, {"connector": "github"}, headers=headers).content.decode()
    assert html.count("<option") == 20 and "GitHub" in html


def test_the_executions_page_never_lists_every_connector(ws, owner_client):
    add_connectors(ws, 60)
    html = owner_client.get(reverse("dashboard:executions", args=[ws.slug])).content.decode()
    assert '<select id="ex-connector"' not in html and 'name="connector"' in html
    assert 'list="connector-options"' in html
    assert "Connector 59" not in html and "Connector 0" not in html  # suggestions load as you type


def test_audit_log_runs_the_same_queries_at_10x_the_events(ws, owner_client):
    url = reverse("dashboard:audit", args=[ws.slug])
    add_audit_events(ws, 40)
    pages = [url, f"{url}?action=connector.update", f"{url}?action=connector", f"{url}?actor=system"]
    before = [count_queries(owner_client, u)[0] for u in pages]
    add_audit_events(ws, 400)
    after = [count_queries(owner_client, u)[0] for u in pages]
    assert after == before


def test_audit_log_pages_newer_and_older(ws, owner_client):
    add_audit_events(ws, 70)
    url = reverse("dashboard:audit", args=[ws.slug])
    seen: list[str] = []
    html = owner_client.get(url).content.decode()
    assert "← Newer</span>" in html  # disabled on the newest page
    for _ in range(3):
        seen += re.findall(r"<td>(Connector \d+)<", html)
        match = re.search(r'href="\?([^"]*before=[^"]*)"', html)
        if not match:
            break
        html = owner_client.get(f"{url}?{match.group(1).replace('&amp;', '&')}").content.decode()
    assert len(seen) == 70 and len(set(seen)) == 70  # every event once, none twice


def test_connector_list_and_detail_run_the_same_queries_at_10x(ws, owner_client):
    connectors = add_connectors(ws, 5)
    add_executions(connectors[:1], 15)
    list_url = reverse("dashboard:connectors", args=[ws.slug])
    detail_url = reverse("dashboard:connector_detail", args=[ws.slug, connectors[0].pk])
    urls = [list_url, f"{list_url}?q=Conn&status=unknown", f"{list_url}?page=2", detail_url]
    for u in urls:
        owner_client.get(u)  # per-process warm-up (the parsed manifest is cached after its first read)
    before = [count_queries(owner_client, u)[0] for u in urls]
    more = add_connectors(ws, 50, prefix="More")
    add_executions(connectors[:1] + more, 150)
    after = [count_queries(owner_client, u)[0] for u in urls]
    assert after == before


def test_numbered_pages_stop_counting_at_the_cap(ws, owner_client, monkeypatch):
    from dashboard.views.common import CappedPaginator

    monkeypatch.setattr(CappedPaginator, "cap", 20)
    add_connectors(ws, 40)
    html = owner_client.get(reverse("dashboard:connectors", args=[ws.slug])).content.decode()
    assert "of 20+" in html  # "1–15 of 20+": the count read 21 rows, not 40


def test_keyset_pages_walk_every_execution_once(ws, owner_client):
    connectors = add_connectors(ws, 2)
    add_executions(connectors, 60)
    Execution.objects.filter(workspace=ws).update(created_at=timezone.now() - timedelta(minutes=5))  # all tied
    url = reverse("dashboard:executions", args=[ws.slug])
    headers = {"HX-Request": "true", "HX-Target": "execution-results"}
    pages: list[list[str]] = []
    query = ""
    for _ in range(5):
        html = owner_client.get(f"{url}?{query}", headers=headers).content.decode()
        pages.append(re.findall(r"/executions/([0-9a-f-]{36})/", html))
        match = re.search(r'href="\?([^"]*before=[^"]*)"', html)
        if not match:
            break
        query = match.group(1).replace("&amp;", "&")
    assert [len(p) for p in pages] == [25, 25, 10]
    ids = [i for p in pages for i in p]
    assert len(set(ids)) == 60
    # From the last page, "Newer" comes back to the second one.
    newer = re.search(r'href="\?([^"]*after=[^"]*)"', html).group(1).replace("&amp;", "&")
    html = owner_client.get(f"{url}?{newer}", headers=headers).content.decode()
    assert re.findall(r"/executions/([0-9a-f-]{36})/", html) == pages[1]
    # A cursor we did not write is the first page, not an error.
    html = owner_client.get(f"{url}?before=not-a-cursor", headers=headers).content.decode()
    assert re.findall(r"/executions/([0-9a-f-]{36})/", html) == pages[0]


def test_one_page_of_results_shows_no_pagination(ws, github, owner_client):
    for _ in range(3):
        make_execution(github, status="error", error_code="rate_limited")
    make_execution(github)
    html = owner_client.get(reverse("dashboard:executions", args=[ws.slug]), {"status": "error"}).content.decode()
    assert html.count("rate_limited") >= 3
    assert 'class="pagination"' not in html and "Older" not in html and "Newer" not in html


# --- Statistics follow the filters, computed in SQL --------------------------------------------------------------


def stat_values(html: str) -> list[str]:
    return re.findall(r'<span class="stat-value[^"]*">([^<]*)</span>', html)


def test_cards_and_charts_follow_connector_status_and_range(ws, github, hubspot, owner_client):
    for _ in range(3):
        make_execution(github, duration_ms=100)
    make_execution(github, status="error", error_code="upstream_error", duration_ms=900)
    make_execution(hubspot, duration_ms=300)
    old = make_execution(hubspot, entity="old", action="one", duration_ms=50)
    Execution.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=3))
    url = reverse("dashboard:executions", args=[ws.slug])

    everything = owner_client.get(url).content.decode()
    assert stat_values(everything)[:3] == ["5", "1", "20.0%"]
    assert "old.one" not in everything  # the default range is the last 24 hours
    week = owner_client.get(url, {"range": "7d"}).content.decode()
    assert stat_values(week)[:2] == ["6", "1"] and "old.one" in week
    assert "Executions per 6 hours" in week
    errors = owner_client.get(url, {"status": "error"}).content.decode()
    assert stat_values(errors)[:3] == ["1", "1", "100.0%"]
    hub = owner_client.get(url, {"connector": str(hubspot.pk)}).content.decode()
    assert stat_values(hub)[:2] == ["1", "0"]
    assert "HubSpot CRM" in hub and "GitHub prod" not in hub.split('class="charts"')[1].split("execution-results")[0]
    # The HTMX request a filter change makes answers the cards and charts too, not only the table.
    swapped = owner_client.get(url, {"status": "error"}, headers={"HX-Request": "true"}).content.decode()
    assert swapped.strip().startswith('<div id="execution-panel">') and stat_values(swapped)[:2] == ["1", "1"]


def test_hourly_buckets_and_percentiles_in_sql(ws, github):
    from dashboard.selectors import execution_stats

    for ms in (100, 200, 300, 400, 1000):
        make_execution(github, duration_ms=ms)
    make_execution(github, status="error", duration_ms=50)
    two_hours_ago = make_execution(github, duration_ms=70)
    Execution.objects.filter(pk=two_hours_ago.pk).update(created_at=timezone.now() - timedelta(hours=2))
    stats = execution_stats(workspace=ws)
    assert stats.total == 7 and stats.errors == 1 and len(stats.buckets) == 24
    assert stats.buckets[-1].total == 6 and stats.buckets[-3].total == 1
    (row,) = stats.latency
    assert row.count == 7
    # percentile_cont (linear interpolation) on PostgreSQL, the same formula in Python elsewhere.
    assert row.p50 == pytest.approx(200) and stats.p50 == pytest.approx(200)
    assert row.p95 == pytest.approx(820)


def test_latency_chart_shows_the_busiest_connectors_only(ws, owner_client):
    from dashboard.selectors import LATENCY_CONNECTORS, execution_stats

    connectors = add_connectors(ws, 12)
    add_executions(connectors, 120)
    add_executions(connectors[:1], 30)
    stats = execution_stats(workspace=ws)
    assert len(stats.latency) == LATENCY_CONNECTORS
    assert stats.latency[0].connector_id == connectors[0].pk and stats.latency[0].count == 40


def test_long_ranges_reuse_settled_hours_and_still_see_new_runs(ws, github, owner_client):
    from dashboard.selectors import execution_stats

    add_executions([github], 48, spread=timedelta(days=10))
    first = execution_stats(workspace=ws, range_key="30d")
    again = execution_stats(workspace=ws, range_key="30d")
    assert first.total == again.total == 48
    assert [b.total for b in first.buckets] == [b.total for b in again.buckets]
    make_execution(github, status="error")  # a new run lands in the hour the cache does not hold
    latest = execution_stats(workspace=ws, range_key="30d")
    assert latest.total == 49 and latest.errors == first.errors + 1
    week = execution_stats(workspace=ws, range_key="7d")
    uncached = sum(1 for e in Execution.objects.filter(workspace=ws) if e.created_at >= week.since)
    assert week.total == uncached


def test_filters_that_match_nothing_say_so_and_offer_to_clear(ws, github, owner_client):
    make_execution(github)
    url = reverse("dashboard:executions", args=[ws.slug])
    html = owner_client.get(url, {"status": "running"}).content.decode()
    assert "No executions match these filters" in html
    assert f'<a class="btn" href="{url}">Clear filters</a>' in html
    html = owner_client.get(url, {"connector": "Nobody here"}).content.decode()
    assert "No connector is named “Nobody here”" in html and "Clear filters" in html
    assert stat_values(html)[:2] == ["0", "0"]


def test_connector_filter_by_id_or_exact_name(ws, github, hubspot, owner_client):
    make_execution(github)
    make_execution(hubspot, entity="contacts", action="list")
    url = reverse("dashboard:executions", args=[ws.slug])
    by_id = owner_client.get(url, {"connector": str(hubspot.pk)}).content.decode()
    assert "contacts.list" in by_id and "users.me" not in by_id
    assert 'value="HubSpot CRM"' in by_id  # the box shows the name, not the id
    by_name = owner_client.get(url, {"connector": "hubspot crm"}).content.decode()
    assert "contacts.list" in by_name and "users.me" not in by_name
