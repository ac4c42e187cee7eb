"""The reports of issue 16, set-based: SLA and handling time, refund reasons, outcomes and money, the live dashboard.

Scope: `projects` is the set of project ids the report covers (None: every project), already narrowed by the
route to what the caller may see (api/access.py) and to the filters (project, city company).

Period: China dates [first, last]; a report covers the cases REGISTERED in the period (a cohort: every figure of
one report is about the same cases, and a month's figures do not change when another month's cases move on).
"Open now" / "overdue now" and the dashboard are about now, whatever the period.

Percentiles are PostgreSQL's percentile_cont over intervals (exact to the microsecond), the method
domain.reports.percentile defines — reproduced exactly from the report facts and cells of migration 0028 (see
"where the figures are read" below); rounding to 0.1 day / minute happens in domain.reports afterwards. Which
index each query uses is said at the query; docs/decisions.md ("Reports") has the definitions in words."""

from __future__ import annotations

import io
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from domain import reports as R
from domain.calendar import CHINA

CHINA_TZ = "Asia/Shanghai"
ZERO = Decimal("0.00")


def bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """[start, end) of the China dates first..last."""
    return datetime.combine(first, time(), CHINA), datetime.combine(last + timedelta(days=1), time(), CHINA)


def _scope(column: str, projects: frozenset[int] | None) -> tuple[str, dict]:
    """An AND clause restricting `column` to the projects (none when every project is covered)."""
    if projects is None:
        return "", {}
    return f" AND {column} = ANY(:pids)", {"pids": sorted(projects) or [-1]}


def _names(session: Session, table: str, column: str, ids) -> dict[int, str]:
    ids = sorted({i for i in ids if i is not None})
    if not ids:
        return {}
    rows = session.execute(text(f"SELECT id, {column} FROM {table} WHERE id = ANY(:ids)"), {"ids": ids})
    return {i: n for i, n in rows}


# ---------------------------------------------------------------- where the figures are read ----------
#
# The SLA, handling-time, reasons and money reports read the report facts and cells of migration 0028 (schema
# `reporting`, refreshed from the cases the records' writers mark: refresh_summaries), not the source tables:
#   reporting.tasks / reporting.cases    one row per task / case: its project, registration time and China month,
#                                        what it adds to each figure, durations with their microseconds and bucket;
#   reporting.step_cells, handling_cells every project, per month: counts, interval sums, duration histograms;
#   reporting.step_project_cells, handling_project_cells  the same per project;
#   reporting.step_values                per project, month and step: how many steps took each exact duration;
#   reporting.case_cells, reason_cells   per project and month: counts and money.
# A period is cut into China months: a whole month is read from cells, one covered in part from the facts or as its
# cell less the facts of the days left out (_split). Counts and sums add up exactly.
#
# Percentiles stay percentile_cont's, exactly: for n values and p, h = p·(n−1) in float8; the values of rank
# floor(h) and ceil(h) are found — the histogram (reporting.bucket, monotone) says which bucket holds the rank and
# how many smaller values precede it; the exact values in that bucket (step_values and the facts, counted per
# microsecond: the order of the intervals, which all come from timestamp subtraction) give the value at that
# offset — and interpolated with PostgreSQL's own interval arithmetic, (hi − lo) · (h − floor h) + lo, as
# percentile_cont does. The mean is sum / count, as avg(interval) is. Every figure is held to the known answers by
# tests/api/test_reports_api.py; summary_drift (below) holds the facts and cells to the records.

NO_DURATION = -32768  # step_cells.b of tasks without a duration


def refresh_summaries(session: Session) -> int:
    """Bring the report facts and cells up to date with every write committed so far: the cases the records' writers
    marked (reporting.dirty) are recomputed from their sources (reporting.refresh, migration 0028; one caller at a
    time, the others wait for it). Returns how many cases. In the caller's transaction: the reports call it first and
    their routes commit, so the next report starts from there; the warning sweep calls it every few minutes."""
    return session.scalar(text("SELECT reporting.refresh()"))


def _month_start(d: date) -> date:
    return d.replace(day=1)


def _next_month(d: date) -> date:
    return date(d.year + (d.month == 12), d.month % 12 + 1, 1)


def _split(first: date, last: date, use_cells: bool) -> tuple[date | None, date | None, list[tuple[datetime, datetime, int]]]:
    """How to read the period: (first month read from cells, the month after the last, and the [start, end) ranges read
    from the facts with their sign). A month the period covers in part is read from the facts, or — when the part
    it leaves out holds fewer days that have passed (nothing is registered in the future) — from its cell less the
    facts of the part left out: the same figures, fewer rows read."""
    start, end = bounds(first, last)
    if not use_cells:
        return None, None, [(start, end, 1)]
    now = datetime.now(CHINA)

    def cost(ranges: list[tuple[datetime, datetime]]) -> float:
        return sum(max(0.0, (min(e, now) - s).total_seconds()) for s, e in ranges)

    cells: list[date] = []
    parts: list[tuple[datetime, datetime, int]] = []
    m = _month_start(first)
    while m <= last:
        m_start, m_end = bounds(m, _next_month(m) - timedelta(days=1))
        lo, hi = max(start, m_start), min(end, m_end)
        left_out = [(s, e) for s, e in ((m_start, lo), (hi, m_end)) if s < e]
        if not left_out:
            cells.append(m)
        elif cost(left_out) < cost([(lo, hi)]):
            cells.append(m)
            parts += [(s, e, -1) for s, e in left_out]
        else:
            parts.append((lo, hi, 1))
        m = _next_month(m)
    if not cells:
        return None, None, parts
    return cells[0], _next_month(cells[-1]), parts


def _parts(first: date, last: date, use_cells: bool, projects: frozenset[int] | None,
           raw_sql: str, cells_sql: str, prefix: str = "") -> tuple[str, dict]:
    """raw_sql once per range read from the facts ({range} and {scope} for alias x; {neg} '-' and {sign} -1 where the
    range is taken off a cell) UNION ALL cells_sql over the months read from cells ({cells}; {scope} for the cells'
    project_id where they have one)."""
    lo, hi, ranges = _split(first, last, use_cells)
    scope, params = _scope("x.project_id", projects)
    parts = []
    for i, (s, e, sign) in enumerate(ranges):
        parts.append(raw_sql.format(range=f"x.registered_at >= :{prefix}r{i}s AND x.registered_at < :{prefix}r{i}e",
                                    scope=scope, neg="" if sign > 0 else "-", sign=sign))
        params |= {f"{prefix}r{i}s": s, f"{prefix}r{i}e": e}
    if lo is not None:
        parts.append(cells_sql.format(cells=f"x.month >= :{prefix}clo AND x.month < :{prefix}chi", scope=scope))
        params |= {f"{prefix}clo": lo, f"{prefix}chi": hi}
    return "\nUNION ALL\n".join(parts), params


# The exact percentile from a histogram and the values inside its buckets. g: the group {keys} (never null), b, n;
# {groups}: per group `timed` (how many values); {need_extra}: columns a bucket's lookup needs besides keys and b;
# {lookup}: a LATERAL subquery over `nd` (a bucket of a group) giving each exact value in it once: us (its order),
# v (the value) and n (how many). Yields pct: keys, p, value.
def _percentile_ctes(keys: list[str], groups: str, lookup: str, need_extra: str = "") -> str:
    k = ", ".join(keys)
    on = lambda a, b: " AND ".join(f"{a}.{c} = {b}.{c}" for c in keys)  # noqa: E731
    of = lambda a: ", ".join(f"{a}.{c}" for c in keys)  # noqa: E731
    return f"""
hist AS MATERIALIZED (
    SELECT {k}, b, n, sum(n) OVER (PARTITION BY {k} ORDER BY b) - n AS before
    FROM g WHERE b <> {NO_DURATION} AND n > 0
),
ranks AS MATERIALIZED (
    SELECT {of("gr")}, p.p, p.p * (gr.timed - 1)::float8 AS h
    FROM {groups} gr CROSS JOIN (VALUES (0.5::float8), (0.9::float8)) AS p(p) WHERE gr.timed > 0
),
want AS (
    SELECT DISTINCT {k}, r FROM ranks CROSS JOIN LATERAL (VALUES (floor(h)::bigint), (ceil(h)::bigint)) AS x(r)
),
picks AS MATERIALIZED (
    SELECT {of("w")}, w.r, h.b, w.r - h.before AS off
    FROM want w JOIN hist h ON {on("h", "w")} AND w.r >= h.before AND w.r < h.before + h.n
),
need AS MATERIALIZED (SELECT DISTINCT {k}, b{need_extra} FROM picks),
dist AS MATERIALIZED (
    SELECT {of("nd")}, nd.b, v.v, v.n, sum(v.n) OVER (PARTITION BY {of("nd")}, nd.b ORDER BY v.us) - v.n AS before
    FROM need nd CROSS JOIN LATERAL ({lookup}) v
),
vals AS MATERIALIZED (
    SELECT {of("pk")}, pk.r, d.v FROM picks pk
    JOIN dist d ON {on("d", "pk")} AND d.b = pk.b AND pk.off >= d.before AND pk.off < d.before + d.n
),
pct AS (
    SELECT {of("r")}, r.p,
           CASE WHEN ceil(r.h) > floor(r.h) THEN (hi.v - lo.v) * (r.h - floor(r.h)) + lo.v ELSE lo.v END AS value
    FROM ranks r
    JOIN vals lo ON {on("lo", "r")} AND lo.r = floor(r.h)::bigint
    LEFT JOIN vals hi ON {on("hi", "r")} AND hi.r = ceil(r.h)::bigint
)"""


# ---------------------------------------------------------------- SLA and handling time ----------

# Per step (kind, role) and per department (role): counts and the exact median / p90 of opened → done.
_STEPS_RAW = f"""
SELECT x.kind, x.role, coalesce(x.b, {NO_DURATION})::smallint AS b, {{neg}}count(*) AS tasks,
       {{neg}}count(*) FILTER (WHERE x.done) AS done, {{neg}}count(*) FILTER (WHERE x.clocked) AS clocked,
       {{neg}}count(*) FILTER (WHERE x.late) AS late
FROM reporting.tasks x WHERE {{range}}{{scope}}
GROUP BY 1, 2, 3"""
_STEPS_CELLS = "SELECT x.kind, x.role, x.b, x.tasks, x.done, x.clocked, x.late FROM reporting.step_cells x WHERE {cells}"
_STEPS_PROJECT_CELLS = """
SELECT x.kind, x.role, x.b, x.tasks, x.done, x.clocked, x.late FROM reporting.step_project_cells x WHERE {cells}{scope}"""

_STEPS_SQL = """
WITH u AS (
{parts}
),
g AS (
    SELECT GROUPING(kind) AS all_steps, coalesce(kind, '') AS kind, role, b, sum(tasks) AS n, sum(done) AS done,
           sum(clocked) AS clocked, sum(late) AS late
    FROM u GROUP BY GROUPING SETS ((kind, role, b), (role, b))
),
groups AS (
    SELECT all_steps, kind, role, sum(n) AS tasks, sum(done) AS done, sum(clocked) AS clocked, sum(late) AS late,
           coalesce(sum(n) FILTER (WHERE b <> {none}), 0) AS timed
    FROM g GROUP BY all_steps, kind, role HAVING sum(n) > 0
),
{percentiles},
overdue AS (
    SELECT GROUPING(x.kind) AS all_steps, coalesce(x.kind, '') AS kind, x.role, count(*) AS n
    FROM reporting.tasks x
    WHERE x.status = 'open' AND x.due_at < :now AND x.registered_at >= :start AND x.registered_at < :end{scope}
    GROUP BY GROUPING SETS ((x.kind, x.role), (x.role))
)
SELECT gr.all_steps, gr.kind, gr.role, gr.done, gr.clocked, gr.late + coalesce(o.n, 0) AS breached,
       p50.value AS p50, p90.value AS p90
FROM groups gr
LEFT JOIN overdue o ON o.all_steps = gr.all_steps AND o.kind = gr.kind AND o.role = gr.role
LEFT JOIN pct p50 ON p50.all_steps = gr.all_steps AND p50.kind = gr.kind AND p50.role = gr.role AND p50.p = 0.5
LEFT JOIN pct p90 ON p90.all_steps = gr.all_steps AND p90.kind = gr.kind AND p90.role = gr.role AND p90.p = 0.9
"""

# The exact durations in a bucket of a step (all_steps = 0) or of a department (1): the facts of the partial months,
# reporting.step_values (per project) of the whole months.
_STEP_VALUES_RAW = """
        SELECT x.us, x.dur AS v, {sign} AS n FROM reporting.tasks x
        WHERE nd.all_steps = 0 AND x.kind = nd.kind AND x.role = nd.role AND x.b = nd.b AND {range}{scope}
        UNION ALL
        SELECT x.us, x.dur, {sign} FROM reporting.tasks x
        WHERE nd.all_steps = 1 AND x.role = nd.role AND x.b = nd.b AND {range}{scope}"""
_STEP_VALUES_CELLS = """
        SELECT x.us, x.dur AS v, x.n FROM reporting.step_values x
        WHERE x.role = nd.role AND x.b = nd.b AND (nd.all_steps = 1 OR x.kind = nd.kind) AND {cells}{scope}"""

# Every open task of the scope, whenever its case was registered (ix_tasks_open_pool / ix_tasks_open_role).
_OPEN_SQL = """
SELECT t.kind, t.role, count(*) AS open_now, count(*) FILTER (WHERE t.due_at < :now) AS overdue_now
FROM tasks t WHERE t.status = 'open'{scope}
GROUP BY t.kind, t.role
"""

# Registration → outcome (the archive task opens at the outcome: _reach_outcome) and → archive (closed_at), by
# month and in all; voided registrations were mistakes, not cases: counted, but not in the handling time
# (reporting.case_source leaves their spans empty).
_HANDLING_RAW = f"""
SELECT x.month, m.metric, m.b, {{neg}}count(*) AS n, {{neg}}sum(m.span) AS total
FROM reporting.cases x
CROSS JOIN LATERAL (VALUES ('o', x.o_b, x.to_outcome), ('a', x.a_b, x.to_archive)) AS m(metric, b, span)
WHERE {{range}}{{scope}} AND m.span IS NOT NULL
GROUP BY 1, 2, 3"""
_HANDLING_CELLS = "SELECT x.month, x.metric, x.b, x.n, x.total FROM reporting.handling_cells x WHERE {cells}"
_HANDLING_PROJECT_CELLS = """
SELECT x.month, x.metric, x.b, x.n, x.total FROM reporting.handling_project_cells x WHERE {cells}{scope}"""

# The exact spans in a bucket of a month (or of the whole period: lo, hi), from the facts.
_HANDLING_LOOKUP = """
    SELECT y.us, min(y.v) AS v, count(*) AS n FROM (
        SELECT x.o_us AS us, x.to_outcome AS v FROM reporting.cases x
        WHERE nd.metric = 'o' AND x.o_b = nd.b AND x.registered_at >= nd.lo AND x.registered_at < nd.hi{scope}
        UNION ALL
        SELECT x.a_us, x.to_archive FROM reporting.cases x
        WHERE nd.metric = 'a' AND x.a_b = nd.b AND x.registered_at >= nd.lo AND x.registered_at < nd.hi{scope}) y
    GROUP BY y.us"""

_HANDLING_SQL = """
WITH u AS (
{parts}
),
g AS (
    SELECT GROUPING(month) AS all_months, coalesce(month, DATE '0001-01-01') AS month, metric, b, sum(n) AS n,
           sum(total) AS total
    FROM u GROUP BY GROUPING SETS ((month, metric, b), (metric, b))
),
groups AS (
    SELECT all_months, month, metric, sum(n) AS timed, sum(total) AS total
    FROM g GROUP BY all_months, month, metric HAVING sum(n) > 0
),
{percentiles}
SELECT gr.all_months, to_char(gr.month, 'YYYY-MM') AS month, gr.metric, gr.timed AS n,
       gr.total / gr.timed::float8 AS mean, p50.value AS p50, p90.value AS p90
FROM groups gr
LEFT JOIN pct p50 ON p50.all_months = gr.all_months AND p50.month = gr.month AND p50.metric = gr.metric AND p50.p = 0.5
LEFT JOIN pct p90 ON p90.all_months = gr.all_months AND p90.month = gr.month AND p90.metric = gr.metric AND p90.p = 0.9
"""

# The cases of the period by month and path, with the money (reporting.case_cells per project; facts at the edges).
_CASES_RAW = """
SELECT x.month, x.path, {neg}count(*) AS cases, {neg}coalesce(sum(x.loss), 0) AS loss,
       {neg}count(*) FILTER (WHERE x.compensated) AS compensated, {neg}coalesce(sum(x.compensation), 0) AS compensation,
       {neg}count(*) FILTER (WHERE x.refund) AS refunds, {neg}coalesce(sum(x.refund_instructed), 0) AS refund_instructed,
       {neg}count(*) FILTER (WHERE x.refund_paid) AS refunds_paid_count,
       {neg}coalesce(sum(x.refund_paid_amount), 0) AS refunds_paid,
       {neg}count(*) FILTER (WHERE x.fee_waived) AS fees_waived
FROM reporting.cases x WHERE {range}{scope}
GROUP BY 1, 2"""
_CASES_CELLS = """
SELECT x.month, x.path, x.cases, x.loss, x.compensated, x.compensation, x.refunds, x.refund_instructed,
       x.refunds_paid_count, x.refunds_paid, x.fees_waived
FROM reporting.case_cells x WHERE {cells}{scope}"""

_CASE_COUNTS_SQL = """
WITH u AS (
{parts}
)
SELECT to_char(month, 'YYYY-MM') AS month, GROUPING(month) AS total, sum(cases) AS cases,
       coalesce(sum(cases) FILTER (WHERE path = 'voided'), 0) AS voided
FROM u GROUP BY GROUPING SETS ((month), ()) HAVING sum(cases) > 0
"""


def _steps_sql(projects: frozenset[int] | None, first: date, last: date) -> tuple[str, dict]:
    parts, params = _parts(first, last, True, projects, _STEPS_RAW,
                           _STEPS_CELLS if projects is None else _STEPS_PROJECT_CELLS)
    values, vparams = _parts(first, last, True, projects, _STEP_VALUES_RAW, _STEP_VALUES_CELLS, prefix="v")
    scope, _ = _scope("x.project_id", projects)
    lookup = f"SELECT y.us, min(y.v) AS v, sum(y.n) AS n FROM ({values}) y GROUP BY y.us"
    sql = _STEPS_SQL.format(parts=parts, none=NO_DURATION, scope=scope,
                            percentiles=_percentile_ctes(["all_steps", "kind", "role"], "groups", lookup))
    return sql, params | vparams


def _handling_sql(projects: frozenset[int] | None, first: date, last: date) -> tuple[str, dict]:
    parts, params = _parts(first, last, True, projects, _HANDLING_RAW,
                           _HANDLING_CELLS if projects is None else _HANDLING_PROJECT_CELLS)
    scope, _ = _scope("x.project_id", projects)
    # a bucket's values are read from the facts of its month (within the period), or of the whole period
    extra = (f", CASE WHEN all_months = 1 THEN :start"
             f" ELSE greatest(:start, month::timestamp AT TIME ZONE '{CHINA_TZ}') END AS lo"
             f", CASE WHEN all_months = 1 THEN :end"
             f" ELSE least(:end, (month + interval '1 month')::timestamp AT TIME ZONE '{CHINA_TZ}') END AS hi")
    percentiles = _percentile_ctes(["all_months", "month", "metric"], "groups", _HANDLING_LOOKUP.format(scope=scope), extra)
    return _HANDLING_SQL.format(parts=parts, percentiles=percentiles), params


def _days(d: timedelta | None) -> Decimal | None:
    return R.days_1(d)


def _span(found: dict | None) -> tuple[int, dict[str, Decimal | None]]:
    if found is None:
        return 0, {"mean_days": None, "median_days": None, "p90_days": None}
    return found["n"], {"mean_days": _days(found["mean"]), "median_days": _days(found["p50"]),
                        "p90_days": _days(found["p90"])}


def _handling(counts, spans: dict[str, dict]) -> dict[str, Any]:
    with_outcome, to_outcome = _span(spans.get("o"))
    archived, to_archive = _span(spans.get("a"))
    return {"cases": counts.cases, "voided": counts.voided, "with_outcome": with_outcome, "to_outcome": to_outcome,
            "archived": archived, "to_archive": to_archive}


def sla_report(session: Session, *, projects: frozenset[int] | None, first: date, last: date, now: datetime,
               baseline_days: Decimal | None = None) -> dict[str, Any]:
    """Per step (task kind) and department (task role): done, median and p90 of the time a step took (opened →
    done, minutes to 0.1), share breached; open now and overdue now (every open task of the scope); handling
    time per case by month against the baseline."""
    refresh_summaries(session)
    start, end = bounds(first, last)
    steps: dict[tuple[str, str], dict[str, Any]] = {}
    departments: dict[str, dict[str, Any]] = {}

    def blank(kind: str | None, role: str) -> dict[str, Any]:
        return {**({"step": kind} if kind is not None else {}), "department": role, "done": 0, "median_minutes": None,
                "p90_minutes": None, "clocked": 0, "breached": 0, "breached_share": None, "open_now": 0, "overdue_now": 0}

    sql, params = _steps_sql(projects, first, last)
    scope_params = _scope("x", projects)[1]
    for r in session.execute(text(sql), {**params, **scope_params, "start": start, "end": end, "now": now}):
        row = blank(None if r.all_steps else r.kind, r.role)
        row.update(done=int(r.done), median_minutes=R.minutes_1(r.p50), p90_minutes=R.minutes_1(r.p90),
                   clocked=int(r.clocked), breached=int(r.breached), breached_share=R.share(int(r.breached), int(r.clocked)))
        if r.all_steps:
            departments[r.role] = row
        else:
            steps[(r.kind, r.role)] = row
    scope, sparams = _scope("t.project_id", projects)
    for r in session.execute(text(_OPEN_SQL.format(scope=scope)), {"now": now, **sparams}):
        for key, table, kind in (((r.kind, r.role), steps, r.kind), (r.role, departments, None)):
            row = table.setdefault(key, blank(kind, r.role))
            row["open_now"] += r.open_now
            row["overdue_now"] += r.overdue_now

    parts, cparams = _parts(first, last, True, projects, _CASES_RAW, _CASES_CELLS)
    counts = {None if r.total else r.month: r for r in session.execute(text(_CASE_COUNTS_SQL.format(parts=parts)),
                                                                       {**cparams, **scope_params})}
    sql, hparams = _handling_sql(projects, first, last)
    spans: dict[str | None, dict[str, dict]] = defaultdict(dict)
    for r in session.execute(text(sql), {**hparams, **scope_params, "start": start, "end": end}):
        spans[None if r.all_months else r.month][r.metric] = {"n": int(r.n), "mean": r.mean, "p50": r.p50, "p90": r.p90}
    by_month = {m: _handling(c, spans.get(m, {})) for m, c in counts.items() if m is not None}
    total = _handling(counts[None], spans.get(None, {})) if None in counts else None
    empty = {"cases": 0, "voided": 0, "with_outcome": 0, "archived": 0,
             "to_outcome": {"mean_days": None, "median_days": None, "p90_days": None},
             "to_archive": {"mean_days": None, "median_days": None, "p90_days": None}}
    series = []
    for m in R.months(first, last):
        h = by_month.get(m, empty)
        series.append({"month": m, **h, "vs_baseline": R.vs_baseline(h["to_outcome"]["mean_days"], baseline_days)})
    total = total or empty
    return {
        "date_from": first, "date_to": last, "as_of": now, "baseline_days": baseline_days,
        "steps": sorted(steps.values(), key=lambda s: (R.step_order(s["step"]), s["department"])),
        "departments": sorted(departments.values(), key=lambda s: s["department"]),
        "handling": {**total, "vs_baseline": R.vs_baseline(total["to_outcome"]["mean_days"], baseline_days)},
        "handling_by_month": series,
    }


_CASE_DURATIONS_SQL = """
SELECT c.workflow_id, c.project_id, a.created_at - c.registered_at AS to_outcome, c.closed_at - c.registered_at AS to_archive
FROM refund_cases c LEFT JOIN tasks a ON a.case_id = c.id AND a.task_key = 'archive'
WHERE c.workflow_id = ANY(:wids)
"""


def case_durations(session: Session, workflow_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Per case (by workflow id): its project and the two spans the handling-time figures are made of, exact
    (timedelta; None while not reached). For a bench or a drill to compare with what it measured."""
    rows = session.execute(text(_CASE_DURATIONS_SQL), {"wids": list(workflow_ids)})
    return {r.workflow_id: {"project_id": r.project_id, "to_outcome": r.to_outcome, "to_archive": r.to_archive} for r in rows}


# ---------------------------------------------------------------- reasons, outcomes and money ----------

# Cases with an intake (total) and the cases giving each reason (a case counts once per reason), per month,
# project and consultant: reporting.reason_cells per project, facts at the edges.
_REASONS_RAW = """
SELECT x.month, x.project_id, x.consultant_id, true AS total, '' AS code, {neg}count(*) AS n
FROM reporting.cases x WHERE {range}{scope} AND x.has_intake
GROUP BY 1, 2, 3
UNION ALL
SELECT x.month, x.project_id, x.consultant_id, false, r.code, {neg}count(*)
FROM reporting.cases x CROSS JOIN LATERAL unnest(x.reasons) AS r(code)
WHERE {range}{scope} AND x.has_intake
GROUP BY 1, 2, 3, 5"""
_REASONS_CELLS = """
SELECT x.month, x.project_id, x.consultant_id, x.total, x.code, x.n FROM reporting.reason_cells x WHERE {cells}{scope}"""

_REASONS_SQL = """
WITH u AS (
{parts}
)
SELECT to_char(month, 'YYYY-MM') AS month, project_id, consultant_id, total, code,
       GROUPING(month) AS g_month, GROUPING(project_id) AS g_project, GROUPING(consultant_id) AS g_consultant,
       sum(n) AS cases
FROM u GROUP BY total, code, GROUPING SETS ((), (month), (project_id), (consultant_id))
HAVING sum(n) > 0
"""

# Money by path: compensation drawn from the retention pool (the case's draw, negative in the ledger:
# uq_retention_draw_case), refunds instructed and paid (refund_instructions.case_id, unique), transfers whose
# fee was waived (path C's new subscription). The fee itself carries no amount in the records: it is counted.
_OUTCOMES_SQL = """
WITH u AS (
{parts}
)
SELECT path, to_char(month, 'YYYY-MM') AS month, GROUPING(month) AS all_months,
       sum(cases) AS cases, sum(loss) AS loss, sum(compensated) AS compensated, sum(compensation) AS compensation,
       sum(refunds) AS refunds, sum(refund_instructed) AS refund_instructed,
       sum(refunds_paid_count) AS refunds_paid_count, sum(refunds_paid) AS refunds_paid, sum(fees_waived) AS fees_waived
FROM u GROUP BY GROUPING SETS ((path), (path, month)) HAVING sum(cases) > 0
"""

MONEY_KEYS = ("loss", "compensation", "refund_instructed", "refunds_paid")
COUNT_KEYS = ("cases", "compensated", "refunds", "refunds_paid_count", "fees_waived")


def reasons_report(session: Session, *, projects: frozenset[int] | None, first: date, last: date) -> dict[str, Any]:
    """Reasons of the period's cases with an intake (a case may give several: shares are of cases and may add up to
    more than 100 %): overall, by month, per project, per consultant; outcomes by path with the money."""
    refresh_summaries(session)
    totals: dict[str, dict] = {"all": {}, "month": {}, "project": {}, "consultant": {}}
    counts: dict[str, dict] = {"all": defaultdict(int), "month": defaultdict(dict), "project": defaultdict(dict),
                               "consultant": defaultdict(dict)}
    scope_params = _scope("x", projects)[1]
    parts, params = _parts(first, last, True, projects, _REASONS_RAW, _REASONS_CELLS)
    for r in session.execute(text(_REASONS_SQL.format(parts=parts)), {**params, **scope_params}):
        if not r.g_month:
            dim, key = "month", r.month
        elif not r.g_project:
            dim, key = "project", r.project_id
        elif not r.g_consultant:
            dim, key = "consultant", r.consultant_id
        else:
            dim, key = "all", None
        n = int(r.cases)
        if r.total:  # the group's cases with an intake
            totals[dim][key] = n
        elif dim == "all":
            counts["all"][r.code] = n
        else:
            counts[dim][key][r.code] = n
    whole = totals["all"].get(None, 0)
    codes = sorted(counts["all"], key=lambda c: (-counts["all"][c], c))

    def reasons_of(found: dict[str, int], n: int) -> list[dict]:
        return [{"reason": c, "cases": found[c], "share": R.share(found[c], n)}
                for c in sorted(found, key=lambda c: (-found[c], c))]

    project_names = _names(session, "projects", "name", totals["project"])
    consultant_names = _names(session, "users", "display_name", totals["consultant"])
    by_month = [{"month": m, "cases": totals["month"].get(m, 0),
                 "reasons": {c: counts["month"].get(m, {}).get(c, 0) for c in codes}}
                for m in R.months(first, last)]

    outcomes: dict[str, dict] = {}
    outcome_months: dict[str, dict[str, int]] = defaultdict(dict)
    parts, params = _parts(first, last, True, projects, _CASES_RAW, _CASES_CELLS)
    for r in session.execute(text(_OUTCOMES_SQL.format(parts=parts)), {**params, **scope_params}):
        if r.all_months:
            outcomes[r.path] = {"path": r.path, **{k: int(getattr(r, k)) for k in COUNT_KEYS},
                                **{k: Decimal(getattr(r, k)).quantize(Decimal("0.01")) for k in MONEY_KEYS}}
        else:
            outcome_months[r.month][r.path] = int(r.cases)
    paths = [p for p in R.PATHS if p in outcomes] + sorted(p for p in outcomes if p not in R.PATHS)
    n_cases = sum(o["cases"] for o in outcomes.values())
    path_rows = [{**outcomes[p], "share": R.share(outcomes[p]["cases"], n_cases)} for p in paths]
    money_total = {k: sum((o[k] for o in outcomes.values()), ZERO) for k in MONEY_KEYS}
    money_total |= {k: sum(o[k] for o in outcomes.values()) for k in COUNT_KEYS}
    return {
        "date_from": first, "date_to": last,
        "cases": n_cases,
        "with_intake": whole,
        "reasons": reasons_of(counts["all"], whole),
        "by_month": by_month,
        "by_project": sorted(({"project_id": p, "project": project_names.get(p, str(p)), "cases": n,
                               "reasons": reasons_of(counts["project"].get(p, {}), n)}
                              for p, n in totals["project"].items()), key=lambda x: (-x["cases"], x["project_id"])),
        "by_consultant": sorted(({"consultant_id": u, "consultant": consultant_names.get(u, str(u)), "cases": n,
                                  "reasons": reasons_of(counts["consultant"].get(u, {}), n)}
                                 for u, n in totals["consultant"].items()), key=lambda x: (-x["cases"], x["consultant_id"])),
        "outcomes": path_rows,
        "outcomes_by_month": [{"month": m, "paths": {p: outcome_months.get(m, {}).get(p, 0) for p in paths}}
                              for m in R.months(first, last)],
        "money": money_total,
    }


# ---------------------------------------------------------------- the live dashboard ----------

# Open cases (ix_refund_cases_open_registered) and the nearest deadline of their open tasks (ix_tasks_open_case_due,
# from the index alone): counted by stage and time left in the database (the buckets of domain.reports
# time_left_bucket, as comparisons of timestamps: hours left < 1 is due < now + 1 hour, exactly), and the most urgent.
_OPEN_CASES = """
SELECT c.id, c.case_no, c.stage, c.project_id, n.due
FROM refund_cases c
LEFT JOIN LATERAL (SELECT min(t.due_at) AS due FROM tasks t
                   WHERE t.case_id = c.id AND t.status = 'open' AND t.due_at IS NOT NULL) n ON true
WHERE c.stage <> 'closed'{scope}
"""
_OPEN_BY_STAGE_SQL = f"""
SELECT o.stage, count(*) AS open,
       count(*) FILTER (WHERE o.due < :now) AS overdue,
       count(*) FILTER (WHERE o.due >= :now AND o.due < :now + interval '1 hour') AS lt_1h,
       count(*) FILTER (WHERE o.due >= :now + interval '1 hour' AND o.due < :now + interval '4 hours') AS lt_4h,
       count(*) FILTER (WHERE o.due >= :now + interval '4 hours' AND o.due < :now + interval '24 hours') AS lt_24h,
       count(*) FILTER (WHERE o.due >= :now + interval '24 hours') AS ge_24h,
       count(*) FILTER (WHERE o.due IS NULL) AS no_clock
FROM ({_OPEN_CASES}) o GROUP BY o.stage
"""
# Python's order (due, then case number by code point: COLLATE "C" on UTF-8).
_URGENT_SQL = f"""
SELECT o.id, o.case_no, o.stage, o.project_id, o.due FROM ({_OPEN_CASES}) o
WHERE o.due IS NOT NULL ORDER BY o.due, o.case_no COLLATE "C" LIMIT {{limit}}
"""

_BREACHES_SQL = """
SELECT (b.breached_at AT TIME ZONE '{tz}')::date AS day, b.sla, count(*) AS n
FROM sla_breaches b JOIN refund_cases c ON c.id = b.case_id
WHERE b.breached_at >= :start AND b.breached_at < :end{scope}
GROUP BY 1, 2
""".replace("{tz}", CHINA_TZ)

# Open warnings (ix_warnings_open) of the scope's customers; those of no customer only when every project is covered.
_WARNINGS_SQL = """
SELECT w.level, count(*) AS open, count(*) FILTER (WHERE w.response_due < :now) AS overdue
FROM warnings w LEFT JOIN customers cu ON cu.id = w.customer_id
WHERE w.responded_at IS NULL{scope}
GROUP BY w.level
"""

_REGISTERED_SQL = """
SELECT (c.registered_at AT TIME ZONE '{tz}')::date AS day, count(*) AS n
FROM refund_cases c WHERE c.registered_at >= :start AND c.registered_at < :end{scope} GROUP BY 1
""".replace("{tz}", CHINA_TZ)

# ix_refund_cases_closed_at
_CLOSED_SQL = """
SELECT (c.closed_at AT TIME ZONE '{tz}')::date AS day, count(*) AS n
FROM refund_cases c WHERE c.closed_at >= :start AND c.closed_at < :end{scope} GROUP BY 1
""".replace("{tz}", CHINA_TZ)

WARNING_LEVELS = ("red", "orange", "yellow")
URGENT = 10


def dashboard(session: Session, *, projects: frozenset[int] | None, today: date, now: datetime) -> dict[str, Any]:
    """Now: open cases by stage and time left to their nearest deadline, the most urgent ones, breaches today by
    step, open warnings by level, and the week's trend (the last seven China days: registered, closed, breaches)."""
    scope, sp = _scope("c.project_id", projects)
    hours = Decimal(3600)
    assert R.TIME_LEFT_BUCKETS == ("overdue", "lt_1h", "lt_4h", "lt_24h", "ge_24h", "no_clock")  # _OPEN_BY_STAGE_SQL's
    by_stage: dict[str, dict[str, int]] = {
        r.stage: {"stage": r.stage, "open": r.open, **{b: getattr(r, b) for b in R.TIME_LEFT_BUCKETS}}
        for r in session.execute(text(_OPEN_BY_STAGE_SQL.format(scope=scope)), {"now": now, **sp})}
    urgent = [(r.due, r.case_no, r) for r in session.execute(text(_URGENT_SQL.format(scope=scope, limit=URGENT)), sp)]
    names = _names(session, "projects", "name", {r.project_id for _, _, r in urgent[:URGENT]})
    week_first = today - timedelta(days=6)
    start, end = bounds(week_first, today)
    day_start, _ = bounds(today, today)
    breaches: dict[date, dict[str, int]] = defaultdict(dict)
    for r in session.execute(text(_BREACHES_SQL.format(scope=scope)), {"start": start, "end": end, **sp}):
        breaches[r.day][r.sla] = r.n
    registered = dict(session.execute(text(_REGISTERED_SQL.format(scope=scope)), {"start": start, "end": end, **sp}).all())
    closed = dict(session.execute(text(_CLOSED_SQL.format(scope=scope)), {"start": start, "end": end, **sp}).all())
    if projects is None:
        wscope, wp = "", {}
    else:
        wscope, wp = " AND cu.project_id = ANY(:pids)", {"pids": sorted(projects) or [-1]}
    warnings = {r.level: {"level": r.level, "open": r.open, "overdue": r.overdue}
                for r in session.execute(text(_WARNINGS_SQL.format(scope=wscope)), {"now": now, **wp})}
    levels = [*WARNING_LEVELS, *sorted(set(warnings) - set(WARNING_LEVELS))]
    stages = ("intake", "assessment", "gm_approval", "solution", "choice", "contract_cancellation", "archive")
    stage_rows = [by_stage[s] for s in stages if s in by_stage] + [by_stage[s] for s in sorted(set(by_stage) - set(stages))]
    today_breaches = breaches.get(today, {})
    return {
        "as_of": now, "today": today,
        "open_cases": sum(r["open"] for r in stage_rows),
        "overdue_cases": sum(r["overdue"] for r in stage_rows),
        "by_stage": stage_rows,
        "urgent": [{"case_id": str(r.id), "case_no": r.case_no, "stage": r.stage, "project": names.get(r.project_id, ""),
                    "due_at": due, "hours_left": (R.seconds(due - now) / hours).quantize(Decimal("0.1"))}
                   for due, _, r in urgent[:URGENT]],
        "breaches_today": sum(today_breaches.values()),
        "breaches_today_by_step": [{"sla": k, "count": v} for k, v in sorted(today_breaches.items())],
        "warnings": [warnings.get(lv, {"level": lv, "open": 0, "overdue": 0}) for lv in levels],
        "week": [{"date": d, "registered": registered.get(d, 0), "closed": closed.get(d, 0),
                  "breaches": sum(breaches.get(d, {}).values())}
                 for d in (week_first + timedelta(days=i) for i in range(7))],
    }


# ---------------------------------------------------------------- the report facts stay equal to the records ----------

# Each check counts the rows where the kept summary and a recomputation differ (both ways): the facts against their
# definition over the source tables (reporting.task_source / case_source), the cells against the facts.
_DRIFT_CHECKS = {
    "tasks": "SELECT * FROM reporting.task_source",
    "cases": "SELECT * FROM reporting.case_source",
    "step_cells": f"""
        SELECT month, kind, role, coalesce(b, {NO_DURATION})::smallint, count(*)::int, count(*) FILTER (WHERE done)::int,
               count(*) FILTER (WHERE clocked)::int, count(*) FILTER (WHERE late)::int
        FROM reporting.tasks GROUP BY 1, 2, 3, 4""",
    "step_project_cells": f"""
        SELECT project_id, month, kind, role, coalesce(b, {NO_DURATION})::smallint, count(*)::int,
               count(*) FILTER (WHERE done)::int, count(*) FILTER (WHERE clocked)::int, count(*) FILTER (WHERE late)::int
        FROM reporting.tasks GROUP BY 1, 2, 3, 4, 5""",
    "step_values": """
        SELECT role, b, kind, month, project_id, us, count(*)::int, min(dur) FROM reporting.tasks WHERE b IS NOT NULL
        GROUP BY 1, 2, 3, 4, 5, 6""",
    "handling_cells": """
        SELECT month, 'o'::char(1), o_b, count(*)::int, sum(to_outcome) FROM reporting.cases WHERE to_outcome IS NOT NULL
        GROUP BY 1, 2, 3
        UNION ALL
        SELECT month, 'a'::char(1), a_b, count(*)::int, sum(to_archive) FROM reporting.cases WHERE to_archive IS NOT NULL
        GROUP BY 1, 2, 3""",
    "handling_project_cells": """
        SELECT project_id, month, 'o'::char(1), o_b, count(*)::int, sum(to_outcome) FROM reporting.cases
        WHERE to_outcome IS NOT NULL GROUP BY 1, 2, 3, 4
        UNION ALL
        SELECT project_id, month, 'a'::char(1), a_b, count(*)::int, sum(to_archive) FROM reporting.cases
        WHERE to_archive IS NOT NULL GROUP BY 1, 2, 3, 4""",
    "case_cells": """
        SELECT month, project_id, path, count(*)::int, coalesce(sum(loss), 0), count(*) FILTER (WHERE compensated)::int,
               coalesce(sum(compensation), 0), count(*) FILTER (WHERE refund)::int, coalesce(sum(refund_instructed), 0),
               count(*) FILTER (WHERE refund_paid)::int, coalesce(sum(refund_paid_amount), 0),
               count(*) FILTER (WHERE fee_waived)::int
        FROM reporting.cases GROUP BY 1, 2, 3""",
    "reason_cells": """
        SELECT month, project_id, consultant_id, true, '', count(*)::int FROM reporting.cases WHERE has_intake GROUP BY 1, 2, 3
        UNION ALL
        SELECT month, project_id, consultant_id, false, code, count(*)::int
        FROM reporting.cases CROSS JOIN LATERAL unnest(reasons) AS code WHERE has_intake GROUP BY 1, 2, 3, 5""",
}
# The cells kept (rows whose counters all came back to zero say nothing, and are left out).
_KEPT = {
    "tasks": "SELECT * FROM reporting.tasks",
    "cases": "SELECT * FROM reporting.cases",
    "step_cells": "SELECT * FROM reporting.step_cells WHERE (tasks, done, clocked, late) <> (0, 0, 0, 0)",
    "step_project_cells": "SELECT * FROM reporting.step_project_cells WHERE (tasks, done, clocked, late) <> (0, 0, 0, 0)",
    "step_values": "SELECT * FROM reporting.step_values WHERE n <> 0",
    "handling_cells": "SELECT * FROM reporting.handling_cells WHERE n <> 0 OR total <> interval '0'",
    "handling_project_cells": "SELECT * FROM reporting.handling_project_cells WHERE n <> 0 OR total <> interval '0'",
    "case_cells": """SELECT * FROM reporting.case_cells WHERE (cases, loss, compensated, compensation, refunds, refund_instructed,
                     refunds_paid_count, refunds_paid, fees_waived) <> (0, 0, 0, 0, 0, 0, 0, 0, 0)""",
    "reason_cells": "SELECT * FROM reporting.reason_cells WHERE n <> 0",
}


def summary_drift(session: Session) -> dict[str, int]:
    """Per table of schema `reporting`: how many rows differ from a recomputation from the records (0 everywhere: the
    marks of migration 0028 and refresh_summaries kept it; call that first). Reads everything: for tests, the bench and an operator's check."""
    out = {}
    for name, expected in _DRIFT_CHECKS.items():
        kept = _KEPT[name]
        out[name] = session.scalar(text(f"SELECT count(*) FROM (({expected}) EXCEPT ALL ({kept})"
                                        f" UNION ALL (({kept}) EXCEPT ALL ({expected}))) d"))
    return out


# ---------------------------------------------------------------- XLSX ----------

MONEY_FORMAT = "#,##0.00"
SHARE_FORMAT = "0.00%"
TENTH_FORMAT = "0.0"


def _workbook(sheets: list[tuple[str, list[str], list[list[Any]], dict[int, str]]], title: str) -> bytes:
    """Sheets of (name, header, rows, {column: number format}): numbers stay numbers, formatted."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    wb.remove(wb.active)
    bold = Font(bold=True)
    for name, header, rows, formats in sheets:
        ws = wb.create_sheet(name)
        ws.append(header)
        for cell in ws[1]:
            cell.font = bold
        for row in rows:
            ws.append(row)
            for col, fmt in formats.items():
                ws.cell(row=ws.max_row, column=col).number_format = fmt
        ws.freeze_panes = "A2"
        for i, _ in enumerate(header):
            ws.column_dimensions[chr(ord("A") + i) if i < 26 else "A"].width = 14
    wb.properties.title = title
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


STEP_LABELS = {"intake": "登记", "assessment": "联席评估", "gm_approval": "城市总审批", "solution": "解决方案",
               "choice": "客户选择", "contract_cancellation": "网签注销", "refund_payment": "退款支付",
               "archive": "归档", "review_meeting": "复盘会", "escalation": "超时升级处理",
               "void_approval": "作废审批", "dispute": "争议处理"}
ROLE_LABELS = {"frontdesk": "前台", "sales": "置业顾问", "manager": "案场经理", "finance": "财务", "legal": "法务",
               "marketing": "营销", "citygm": "城市总", "hqrisk": "总部风控", "ops": "运营"}
REASON_LABELS = {"family_disagreement": "家庭意见不统一", "funds_shortfall": "资金不足",
                 "competitor_comparison": "竞品比较", "other": "其他"}
PATH_LABELS = {"A": "A 继续履约+补偿", "B": "B 退房退款", "C": "C 更名转让", "withdrawn": "撤回", "voided": "作废",
               "legal": "法律途径", "open": "未结"}


def sla_xlsx(rep: dict[str, Any], *, title: str) -> bytes:
    def step_row(s: dict, with_step: bool) -> list[Any]:
        head = [STEP_LABELS.get(s["step"], s["step"])] if with_step else []
        return [*head, ROLE_LABELS.get(s["department"], s["department"]), s["done"], s["median_minutes"],
                s["p90_minutes"], s["clocked"], s["breached"], s["breached_share"], s["open_now"], s["overdue_now"]]

    cols = ["完成数", "中位数 (分钟)", "P90 (分钟)", "计时数", "超时数", "超时率", "当前未完成", "当前已逾期"]
    fmt = lambda off: {off + 2: TENTH_FORMAT, off + 3: TENTH_FORMAT, off + 6: SHARE_FORMAT}  # noqa: E731
    h = rep["handling"]
    month_rows = [[m["month"], m["cases"], m["with_outcome"], m["to_outcome"]["mean_days"], m["to_outcome"]["median_days"],
                   m["to_outcome"]["p90_days"], m["archived"], m["to_archive"]["mean_days"], m["to_archive"]["median_days"],
                   m["to_archive"]["p90_days"], rep["baseline_days"], m["vs_baseline"]] for m in rep["handling_by_month"]]
    month_rows.append(["合计", h["cases"], h["with_outcome"], h["to_outcome"]["mean_days"], h["to_outcome"]["median_days"],
                       h["to_outcome"]["p90_days"], h["archived"], h["to_archive"]["mean_days"],
                       h["to_archive"]["median_days"], h["to_archive"]["p90_days"], rep["baseline_days"], h["vs_baseline"]])
    return _workbook([
        ("按步骤", ["步骤", "部门", *cols], [step_row(s, True) for s in rep["steps"]], fmt(1)),
        ("按部门", ["部门", *cols], [step_row(s, False) for s in rep["departments"]], fmt(0)),
        ("处理时长", ["登记月份", "案件数", "已出结果", "至结果 平均 (天)", "至结果 中位数 (天)", "至结果 P90 (天)", "已归档",
                  "至归档 平均 (天)", "至归档 中位数 (天)", "至归档 P90 (天)", "基线 (天)", "较基线缩短"],
         month_rows, {4: TENTH_FORMAT, 5: TENTH_FORMAT, 6: TENTH_FORMAT, 8: TENTH_FORMAT, 9: TENTH_FORMAT,
                      10: TENTH_FORMAT, 11: TENTH_FORMAT, 12: SHARE_FORMAT}),
    ], title)


def reasons_xlsx(rep: dict[str, Any], *, title: str) -> bytes:
    codes = [r["reason"] for r in rep["reasons"]]
    label = lambda c: REASON_LABELS.get(c, c)  # noqa: E731
    m = MONEY_FORMAT
    money = rep["money"]
    return _workbook([
        ("退房原因", ["原因", "案件数", "占比"], [[label(r["reason"]), r["cases"], r["share"]] for r in rep["reasons"]]
         + [["有登记的案件", rep["with_intake"], None]], {3: SHARE_FORMAT}),
        ("按月趋势", ["登记月份", "案件数", *map(label, codes)],
         [[b["month"], b["cases"], *(b["reasons"][c] for c in codes)] for b in rep["by_month"]], {}),
        ("按项目", ["项目", "原因", "案件数", "占比"],
         [[p["project"], label(r["reason"]), r["cases"], r["share"]] for p in rep["by_project"] for r in p["reasons"]],
         {4: SHARE_FORMAT}),
        ("按置业顾问", ["置业顾问", "原因", "案件数", "占比"],
         [[p["consultant"], label(r["reason"]), r["cases"], r["share"]] for p in rep["by_consultant"] for r in p["reasons"]],
         {4: SHARE_FORMAT}),
        ("结果与金额", ["路径", "案件数", "占比", "损失合计 (元)", "补偿案件", "挽留池补偿 (元)", "退款指令", "指令金额 (元)",
                   "已付退款", "已付金额 (元)", "免更名费"],
         [[PATH_LABELS.get(o["path"], o["path"]), o["cases"], o["share"], o["loss"], o["compensated"], o["compensation"],
           o["refunds"], o["refund_instructed"], o["refunds_paid_count"], o["refunds_paid"], o["fees_waived"]]
          for o in rep["outcomes"]]
         + [["合计", money["cases"], None, money["loss"], money["compensated"], money["compensation"], money["refunds"],
             money["refund_instructed"], money["refunds_paid_count"], money["refunds_paid"], money["fees_waived"]]],
         {3: SHARE_FORMAT, 4: m, 6: m, 8: m, 10: m}),
    ], title)


def dashboard_xlsx(dash: dict[str, Any], *, title: str) -> bytes:
    b = R.TIME_LEFT_BUCKETS
    return _workbook([
        ("按阶段", ["阶段", "未结案件", "已逾期", "<1小时", "1–4小时", "4–24小时", "≥24小时", "无计时"],
         [[s["stage"], s["open"], *(s[k] for k in b)] for s in dash["by_stage"]], {}),
        ("本周", ["日期", "新登记", "已归档", "超时"], [[w["date"], w["registered"], w["closed"], w["breaches"]] for w in dash["week"]], {}),
        ("预警", ["级别", "未响应", "已逾期"], [[w["level"], w["open"], w["overdue"]] for w in dash["warnings"]], {}),
    ], title)
