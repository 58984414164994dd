"""Executions: the workspace-wide list with filters and charts, and one execution's detail.

Every figure on the list page (the cards, the three charts, the table) follows the same filters: connector, status
and time range. Each part reads a bounded amount whatever the volume (dashboard/selectors.py).
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from connectors.executions.selectors import execution_get
from connectors.models import ExecutionStatus
from workspaces.models import Role

from ..access import workspace_for
from ..charts import bar_chart, latency_chart
from ..selectors import (
    DEFAULT_RANGE,
    RANGES,
    ExecutionStats,
    connector_filter,
    connector_suggestions,
    execution_stats,
    execution_table,
    window_start,
)
from .common import domain_errors, keyset_page, page

PER_PAGE = 25


def _charts(stats: ExecutionStats, *, filtered: bool) -> dict[str, object]:
    time_range = stats.range
    labels = [timezone.localtime(b.start).strftime(time_range.tick_format) for b in stats.buckets]
    period = time_range.label.lower()
    nothing = "No executions match these filters" if filtered else f"No executions in the {period}"
    return {
        "stats": stats,
        "chart_volume": bar_chart(
            [(label, b.total) for label, b in zip(labels, stats.buckets, strict=True)],
            label=f"Executions {time_range.per}, {period}",
            color="#4f46e5",
            integer=True,
            tick_every=time_range.tick_every,
            empty_message=nothing,
        ),
        "chart_errors": bar_chart(
            [(label, round(b.error_rate * 100, 1)) for label, b in zip(labels, stats.buckets, strict=True)],
            label=f"Error rate {time_range.per}, {period}",
            color="#e11d48",
            fmt=lambda v: f"{v:.0f}%",
            vmax=100,
            tick_every=time_range.tick_every,
            empty_message=f"No errors in the {period}" if stats.total else nothing,
        ),
        "chart_latency": latency_chart(
            [(row.name, row.p50, row.p95) for row in stats.latency],
            label=f"p50 and p95 latency of the busiest connectors, {period}",
        ),
    }


@require_GET
@login_required
@domain_errors
def execution_list_view(request: HttpRequest, slug: str) -> HttpResponse:
    membership = workspace_for(request, slug, Role.VIEWER)
    workspace = membership.workspace
    template = "dashboard/executions/list.html"
    target = request.htmx.target if request.htmx else None
    if target == "connector-options":
        # The connector box asks for suggestions as the user types: at most 20 names, never the whole workspace.
        context = {"suggestions": connector_suggestions(workspace=workspace, text=request.GET.get("connector", ""))}
        return page(request, template, context, partial="connector-options")

    connector = connector_filter(workspace=workspace, value=request.GET.get("connector", ""))
    status = request.GET.get("status", "")
    if status not in ExecutionStatus.values:
        status = ""
    range_key = request.GET.get("range", "") or DEFAULT_RANGE
    if range_key not in RANGES:
        range_key = DEFAULT_RANGE
    time_range = RANGES[range_key]
    connector_ids = connector.ids if connector.active else None
    now = timezone.now()
    since = window_start(time_range, now)  # the table and the charts cover the same buckets
    rows = execution_table(workspace=workspace, connector_ids=connector_ids, status=status, since=since)
    context: dict[str, Any] = {
        "workspace": workspace,
        "membership": membership,
        "page_obj": keyset_page(request, rows, PER_PAGE),
        "statuses": ExecutionStatus.choices,
        "ranges": [(r.key, r.label) for r in RANGES.values()],
        "range": time_range,
        "connector_filter": connector,
        "filters": {"connector": connector.text, "status": status, "range": range_key},
        "filtered": bool(connector.active or status or range_key != DEFAULT_RANGE),
        "other_range": "30d" if range_key != "30d" else "",
    }
    if target == "execution-results":
        # Newer / Older: only the table changes; the cards and charts on the page already show these filters.
        return page(request, template, context, partial="results")
    stats = execution_stats(
        workspace=workspace, range_key=range_key, connector_ids=connector_ids, status=status, now=now
    )
    context.update(_charts(stats, filtered=context["filtered"]))
    return page(request, template, context, partial="panel")


@require_GET
@login_required
@domain_errors
def execution_detail(request: HttpRequest, slug: str, execution_id: str) -> HttpResponse:
    membership = workspace_for(request, slug, Role.VIEWER)
    execution = execution_get(workspace=membership.workspace, execution_id=execution_id)
    context = {
        "workspace": membership.workspace,
        "membership": membership,
        "execution": execution,
        "params_json": json.dumps(execution.params, indent=2, ensure_ascii=False, default=str),
        "result_json": json.dumps(execution.result, indent=2, ensure_ascii=False, default=str)
        if execution.result is not None
        else "",
        "metadata_json": json.dumps(execution.connector_metadata, indent=2, default=str)
        if execution.connector_metadata
        else "",
    }
    return page(request, "dashboard/executions/detail.html", context)
