"""The reports of issue 16, set-based: SLA and handling time, refund reasons, outcomes and money, the live dashboard.

Scope: `projects` is the set of project ids the report covers (None: every project), already narrowed by the
route to what the caller may see (api/access.py) and to the filters (project, city company).

Period: China dates [first, last]; a report covers the cases REGISTERED in the period (a cohort: every figure of
one report is about the same cases, and a month's figures do not change when another month's cases move on).
"Open now" / "overdue now" and the dashboard are about now, whatever the period.

Percentiles are PostgreSQL's percentile_cont over intervals (exact to the microsecond), the method
domain.reports.percentile defines; rounding to 0.1 day / minute happens in domain.reports afterwards. Which
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
PATH = "coalesce(c.outcome->>'path', 'open')"
MONTH = f"to_char(c.registered_at AT TIME ZONE '{CHINA_TZ}', 'YYYY-MM')"


def bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """[start, end) of the China dates first..last."""
    return datetime.combine(first, time(), CHINA), datetime.combine(last + timedelta(days=1), time(), CHINA)


def _scope(column: str, projects: frozenset[int] | None) -> tuple[str, dict]:
    """An AND clause restricting `column` to the projects (none when every project is covered)."""
    if projects is None:
        return "", {}
    return f" AND {column} = ANY(:pids)", {"pids": sorted(projects) or [-1]}


def _cases(projects: frozenset[int] | None) -> tuple[str, dict]:
    """The period's cases (ix_refund_cases_project_registered, or ix_refund_cases_registered for every project)."""
    clause, params = _scope("c.project_id", projects)
    return f"c.registered_at >= :start AND c.registered_at < :end{clause}", params


def _names(session: Session, table: str, column: str, ids) -> dict[int, str]:
    ids = sorted({i for i in ids if i is not None})
    if not ids:
        return {}
    rows = session.execute(text(f"SELECT id, {column} FROM {table} WHERE id = ANY(:ids)"), {"ids": ids})
    return {i: n for i, n in rows}


# ---------------------------------------------------------------- SLA and handling time ----------

_STEPS_SQL = """
SELECT t.kind, t.role, GROUPING(t.kind) AS all_steps,
       count(*) FILTER (WHERE t.status = 'done') AS done,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY t.completed_at - t.created_at) FILTER (WHERE t.status = 'done') AS p50,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY t.completed_at - t.created_at) FILTER (WHERE t.status = 'done') AS p90,
       count(*) FILTER (WHERE t.status <> 'cancelled' AND t.due_at IS NOT NULL) AS clocked,
       count(*) FILTER (WHERE t.due_at IS NOT NULL AND ((t.status = 'done' AND t.completed_at > t.due_at)
                                                      OR (t.status = 'open' AND t.due_at < :now))) AS breached
FROM refund_cases c JOIN tasks t ON t.case_id = c.id
WHERE {cases}
GROUP BY GROUPING SETS ((t.kind, t.role), (t.role))
"""

# Every open task of the scope, whenever its case was registered (ix_tasks_open_pool / ix_tasks_open_role).
_OPEN_SQL = """
SELECT t.kind, t.role, count(*) AS open_now, count(*) FILTER (WHERE t.due_at < :now) AS overdue_now
FROM tasks t WHERE t.status = 'open'{scope}
GROUP BY t.kind, t.role
"""

# Registration → outcome (the archive task opens at the outcome: _reach_outcome) and → archive (closed_at).
# Voided registrations were mistakes, not cases: counted, but not in the handling time.
_HANDLING_SQL = f"""
SELECT {MONTH} AS month, GROUPING({MONTH}) AS total,
       count(*) AS cases,
       count(*) FILTER (WHERE c.outcome->>'path' = 'voided') AS voided,
       count(a.created_at) FILTER (WHERE v.counted) AS with_outcome,
       avg(a.created_at - c.registered_at) FILTER (WHERE v.counted) AS o_mean,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY a.created_at - c.registered_at) FILTER (WHERE v.counted) AS o_p50,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY a.created_at - c.registered_at) FILTER (WHERE v.counted) AS o_p90,
       count(c.closed_at) FILTER (WHERE v.counted) AS archived,
       avg(c.closed_at - c.registered_at) FILTER (WHERE v.counted) AS a_mean,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY c.closed_at - c.registered_at) FILTER (WHERE v.counted) AS a_p50,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY c.closed_at - c.registered_at) FILTER (WHERE v.counted) AS a_p90
FROM refund_cases c
LEFT JOIN tasks a ON a.case_id = c.id AND a.task_key = 'archive'
CROSS JOIN LATERAL (SELECT coalesce(c.outcome->>'path', '') <> 'voided' AS counted) v
WHERE {{cases}}
GROUP BY GROUPING SETS (({MONTH}), ())
"""


def _days(d: timedelta | None) -> Decimal | None:
    return R.days_1(d)


def _handling(row) -> dict[str, Any]:
    return {
        "cases": row.cases,
        "voided": row.voided,
        "with_outcome": row.with_outcome,
        "to_outcome": {"mean_days": _days(row.o_mean), "median_days": _days(row.o_p50), "p90_days": _days(row.o_p90)},
        "archived": row.archived,
        "to_archive": {"mean_days": _days(row.a_mean), "median_days": _days(row.a_p50), "p90_days": _days(row.a_p90)},
    }


def sla_report(session: Session, *, projects: frozenset[int] | None, first: date, last: date, now: datetime,
               baseline_days: Decimal | None = None) -> dict[str, Any]:
    """Per step (task kind) and department (task role): done, median and p90 of the time a step took (opened →
    done, minutes to 0.1), share breached; open now and overdue now (every open task of the scope); handling
    time per case by month against the baseline."""
    start, end = bounds(first, last)
    cases, params = _cases(projects)
    params |= {"start": start, "end": end, "now": now}
    steps: dict[tuple[str, str], dict[str, Any]] = {}
    departments: dict[str, dict[str, Any]] = {}

    def blank(kind: str | None, role: str) -> dict[str, Any]:
        return {**({"step": kind} if kind is not None else {}), "department": role, "done": 0, "median_minutes": None,
                "p90_minutes": None, "clocked": 0, "breached": 0, "breached_share": None, "open_now": 0, "overdue_now": 0}

    for r in session.execute(text(_STEPS_SQL.format(cases=cases)), params):
        row = blank(None if r.all_steps else r.kind, r.role)
        row.update(done=r.done, median_minutes=R.minutes_1(r.p50), p90_minutes=R.minutes_1(r.p90), clocked=r.clocked,
                   breached=r.breached, breached_share=R.share(r.breached, r.clocked))
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

    by_month: dict[str, dict[str, Any]] = {}
    total: dict[str, Any] | None = None
    for r in session.execute(text(_HANDLING_SQL.format(cases=cases)), params):
        if r.total:
            total = _handling(r)
        else:
            by_month[r.month] = _handling(r)
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

_REASONS_SQL = f"""
WITH cs AS (
    SELECT c.id, {MONTH} AS month, c.project_id, s.consultant_id, f.reasons
    FROM refund_cases c
    JOIN intake_forms f ON f.case_id = c.id
    JOIN subscriptions s ON s.id = c.subscription_id
    WHERE {{cases}}
)
SELECT cs.month, cs.project_id, cs.consultant_id, r.code,
       GROUPING(cs.month) AS g_month, GROUPING(cs.project_id) AS g_project,
       GROUPING(cs.consultant_id) AS g_consultant, GROUPING(r.code) AS g_code,
       count(DISTINCT cs.id) AS cases
FROM cs LEFT JOIN LATERAL jsonb_array_elements_text(
    CASE WHEN jsonb_typeof(cs.reasons) = 'array' THEN cs.reasons ELSE '[]'::jsonb END) AS r(code) ON true
GROUP BY GROUPING SETS ((), (r.code), (cs.month), (cs.month, r.code), (cs.project_id), (cs.project_id, r.code),
                        (cs.consultant_id), (cs.consultant_id, r.code))
"""

# Money by path: compensation drawn from the retention pool (the case's draw, negative in the ledger:
# uq_retention_draw_case), refunds instructed and paid (refund_instructions.case_id, unique), transfers whose
# fee was waived (path C's new subscription). The fee itself carries no amount in the records: it is counted.
_OUTCOMES_SQL = f"""
SELECT {PATH} AS path, {MONTH} AS month, GROUPING({MONTH}) AS all_months,
       count(*) AS cases,
       coalesce(sum(c.loss_total), 0) AS loss,
       count(l.id) AS compensated,
       coalesce(-sum(l.amount), 0) AS compensation,
       count(ri.id) AS refunds,
       coalesce(sum(ri.amount), 0) AS refund_instructed,
       count(ri.id) FILTER (WHERE ri.status = 'paid') AS refunds_paid_count,
       coalesce(sum(ri.paid_amount) FILTER (WHERE ri.status = 'paid'), 0) AS refunds_paid,
       count(w.transferred_from_id) AS fees_waived
FROM refund_cases c
LEFT JOIN retention_ledger l ON l.case_id = c.id
LEFT JOIN refund_instructions ri ON ri.case_id = c.id
LEFT JOIN (SELECT DISTINCT transferred_from_id FROM subscriptions
           WHERE fee_waived AND transferred_from_id IS NOT NULL) w
       ON w.transferred_from_id = c.subscription_id AND c.outcome->>'path' = 'C'
WHERE {{cases}}
GROUP BY GROUPING SETS (({PATH}), ({PATH}, {MONTH}))
"""

MONEY_KEYS = ("loss", "compensation", "refund_instructed", "refunds_paid")
COUNT_KEYS = ("cases", "compensated", "refunds", "refunds_paid_count", "fees_waived")


def reasons_report(session: Session, *, projects: frozenset[int] | None, first: date, last: date) -> dict[str, Any]:
    """Reasons of the period's cases with an intake (a case may give several: shares are of cases and may add up to
    more than 100 %): overall, by month, per project, per consultant; outcomes by path with the money."""
    start, end = bounds(first, last)
    cases, params = _cases(projects)
    params |= {"start": start, "end": end}
    totals: dict[str, dict] = {"all": {}, "month": {}, "project": {}, "consultant": {}}
    counts: dict[str, dict] = {"all": defaultdict(int), "month": defaultdict(dict), "project": defaultdict(dict),
                               "consultant": defaultdict(dict)}
    for r in session.execute(text(_REASONS_SQL.format(cases=cases)), params):
        if not r.g_month:
            dim, key = "month", r.month
        elif not r.g_project:
            dim, key = "project", r.project_id
        elif not r.g_consultant:
            dim, key = "consultant", r.consultant_id
        else:
            dim, key = "all", None
        if r.g_code:  # the group's cases with an intake
            totals[dim][key] = r.cases
        elif r.code is not None:
            if dim == "all":
                counts["all"][r.code] = r.cases
            else:
                counts[dim][key][r.code] = r.cases
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
    for r in session.execute(text(_OUTCOMES_SQL.format(cases=cases)), params):
        if r.all_months:
            outcomes[r.path] = {"path": r.path, **{k: getattr(r, k) for k in COUNT_KEYS},
                                **{k: Decimal(getattr(r, k)).quantize(Decimal("0.01")) for k in MONEY_KEYS}}
        else:
            outcome_months[r.month][r.path] = r.cases
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

# Open cases (ix_refund_cases_open_registered) and the nearest deadline of their open tasks (ix_tasks_case_id).
_OPEN_CASES_SQL = """
SELECT c.id, c.case_no, c.stage, c.project_id, c.registered_at, n.due
FROM refund_cases c
LEFT JOIN LATERAL (SELECT min(t.due_at) AS due FROM tasks t
                   WHERE t.case_id = c.id AND t.status = 'open' AND t.due_at IS NOT NULL) n ON true
WHERE c.stage <> 'closed'{scope}
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
    by_stage: dict[str, dict[str, int]] = {}
    urgent = []
    for r in session.execute(text(_OPEN_CASES_SQL.format(scope=scope)), sp):
        left = None if r.due is None else R.seconds(r.due - now) / hours
        bucket = R.time_left_bucket(left)
        row = by_stage.setdefault(r.stage, {"stage": r.stage, "open": 0, **{b: 0 for b in R.TIME_LEFT_BUCKETS}})
        row["open"] += 1
        row[bucket] += 1
        if r.due is not None:
            urgent.append((r.due, r.case_no, r))
    urgent.sort(key=lambda x: (x[0], x[1]))
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
