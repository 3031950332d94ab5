"""Warnings a reviewer wants to see: schedules that disagree, inactive workflows, routes
that never check the user."""

from __future__ import annotations

import re

from compiler import messages
from compiler.diagnostics import Diagnostics
from compiler.ir import Plan
from compiler.model import HttpTrigger, ScheduleTrigger, Workflow


def cron_interval_ms(expr: str) -> int | None:
    """The period of simple cron expressions (``*/5 * * * *``: 300000), else None."""
    parts = expr.split()
    if len(parts) != 5:
        return None
    m = re.fullmatch(r"\*/(\d+)", parts[0])
    if m and all(p == "*" for p in parts[1:]):
        return int(m[1]) * 60_000
    if parts[0] == "*" and all(p == "*" for p in parts[1:]):
        return 60_000
    m = re.fullmatch(r"\d+", parts[0])
    h = re.fullmatch(r"\*/(\d+)", parts[1])
    if m and h and all(p == "*" for p in parts[2:]):
        return int(h[1]) * 3_600_000
    return None


def _human(ms: int) -> str:
    for unit, size in (("hour", 3_600_000), ("minute", 60_000), ("second", 1000)):
        if ms % size == 0:
            n = ms // size
            return f"every {n} {unit}{'s' if n != 1 else ''}"
    return f"every {ms} ms"


def workflow_warnings(wf: Workflow, plan: Plan | None, diags: Diagnostics) -> None:
    if not wf.active:
        diags.add(
            messages.WORKFLOW_INACTIVE.format(wf.id),
            wf.active_span or wf.span,
            hint=messages.HINT__IT_IS_COMPILED_AND,
        )
    scheduled = [t for t in wf.triggers if isinstance(t, ScheduleTrigger)]
    periods: list[tuple[str, int]] = []
    if wf.schedule is not None:
        cron = cron_interval_ms(wf.schedule[0])
        if cron is not None:
            periods.append((f"meta.schedule `{wf.schedule[0]}` ({_human(cron)})", cron))
    for t in scheduled:
        if t.cron is not None and (every := cron_interval_ms(t.cron)) is not None:
            periods.append((f"the trigger `SCHEDULED:{t.text}` ({_human(every)})", every))
        if t.every_ms is not None:
            periods.append(
                (f"the trigger `SCHEDULED:{t.text}` ({_human(t.every_ms)})", t.every_ms)
            )
    interval = wf.static_data.get("updateInterval")
    if interval is not None and isinstance(interval[0], int):
        periods.append(
            (f"staticData.updateInterval ({interval[0]} ms, {_human(interval[0])})", interval[0])
        )
    if len({p for _, p in periods}) > 1:
        span = scheduled[0].span if scheduled else (wf.schedule[1] if wf.schedule else wf.span)
        chosen = (
            interval[0] if interval is not None and isinstance(interval[0], int) else periods[0][1]
        )
        diags.add(
            messages.SCHEDULES_DISAGREE.format("; ".join(d for d, _ in periods)),
            span,
            hint=messages.HINT__THE_RUNTIME_RUNS_IT.format(_human(chosen)),
        )
    if (
        plan is not None
        and not plan.checks_user
        and any(isinstance(t, HttpTrigger) for t in wf.triggers)
    ):
        http = next(t for t in wf.triggers if isinstance(t, HttpTrigger))
        diags.add(
            messages.ROUTE_NEVER_CHECKS_USER.format(http.method, http.path),
            http.span,
            hint=messages.HINT__ADD_A_VALIDATE_NODE.format(),
        )
