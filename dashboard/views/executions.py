"""Executions: the workspace-wide list with filters and charts, and one execution's detail."""

from __future__ import annotations

import json
from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from connectors.models import ExecutionStatus
from connectors.executions.selectors import execution_get, execution_list
from connectors.selectors import connector_list
from workspaces.models import Role

from ..access import workspace_for
from ..charts import bar_chart, latency_chart
from ..selectors import execution_stats
from .common import domain_errors, page, paginate, query_without_page

RANGES = {
    "1h": ("Last hour", timedelta(hours=1)),
    "24h": ("Last 24 hours", timedelta(hours=24)),
    "7d": ("Last 7 days", timedelta(days=7)),
    "30d": ("Last 30 days", timedelta(days=30)),
}


def _charts(workspace) -> dict[str, object]:  # noqa: ANN001
    stats = execution_stats(workspace=workspace)
    local = [timezone.localtime(h.start) for h in stats.hours]
    return {
        "stats": stats,
        "chart_volume": bar_chart(
            [(t.strftime("%H:00"), h.total) for t, h in zip(local, stats.hours, strict=True)],
            label="Executions per hour, last 24 hours",
            color="#4f46e5",
            integer=True,
        ),
        "chart_errors": bar_chart(
            [(t.strftime("%H:00"), round(h.error_rate * 100, 1)) for t, h in zip(local, stats.hours, strict=True)],
            label="Error rate per hour, last 24 hours",
            color="#e11d48",
            fmt=lambda v: f"{v:.0f}%",
            vmax=100,
            empty_message="No errors in the last 24 hours" if stats.total else "No executions in this period",
        ),
        "chart_latency": latency_chart([(row.name, row.p50, row.p95) for row in stats.latency]),
    }


@require_GET
@login_required
@domain_errors
def execution_list_view(request: HttpRequest, slug: str) -> HttpResponse:
    membership = workspace_for(request, slug, Role.VIEWER)
    workspace = membership.workspace
    connectors = connector_list(workspace=workspace)
    connector_id = request.GET.get("connector", "")
    if connector_id and not any(str(c.pk) == connector_id for c in connectors):
        connector_id = ""  # another workspace's (or a malformed) id filters nothing rather than erroring
    status = request.GET.get("status", "")
    if status not in ExecutionStatus.values:
        status = ""
    range_key = request.GET.get("range", "")
    since = timezone.now() - RANGES[range_key][1] if range_key in RANGES else None
    executions = execution_list(workspace=workspace, connector_id=connector_id or None, status=status, since=since)
    context = {
        "workspace": workspace,
        "membership": membership,
        "page_obj": paginate(request, executions, 25),
        "query": query_without_page(request),
        "connectors": connectors,
        "statuses": ExecutionStatus.choices,
        "ranges": [(k, v[0]) for k, v in RANGES.items()],
        "filters": {"connector": connector_id, "status": status, "range": range_key},
    }
    if not request.htmx:
        context.update(_charts(workspace))
    return page(request, "dashboard/executions/list.html", context, partial="results")


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
