// The reports (issue 16): the API's answers as types, the query of the filters, and the charts as ECharts
// options (pure: the words come from the `t` passed in). Figures stay decimal strings; only the height of a
// bar or a point becomes a number.
import type { LineSeriesOption } from "echarts/charts";
import { describe, percent, toNumber, type ChartOption, type Translate } from "./charts";
import { fmtShare } from "./format";

export interface Filters {
  project_id: number | null;
  city_company_id: number | null;
  date_from: string; // YYYY-MM-DD, China dates; "" = the server's default
  date_to: string;
  baseline_days: string; // e.g. "5.8"; "" = none
}

export interface ReportScope {
  projects: { id: number; name: string; city_company_id: number }[];
  city_companies: { id: number; name: string }[];
  default_from: string;
  default_to: string;
}

export interface SlaStep {
  step?: string | null;
  department: string;
  done: number;
  median_minutes: string | null;
  p90_minutes: string | null;
  clocked: number;
  breached: number;
  breached_share: string | null;
  open_now: number;
  overdue_now: number;
}

export interface Span {
  mean_days: string | null;
  median_days: string | null;
  p90_days: string | null;
}

export interface Handling {
  cases: number;
  voided: number;
  with_outcome: number;
  to_outcome: Span;
  archived: number;
  to_archive: Span;
  vs_baseline: string | null;
}

export interface SlaReport {
  date_from: string;
  date_to: string;
  as_of: string;
  baseline_days: string | null;
  steps: SlaStep[];
  departments: SlaStep[];
  handling: Handling;
  handling_by_month: (Handling & { month: string })[];
}

export interface ReasonCount {
  reason: string;
  cases: number;
  share: string | null;
}

export interface Money {
  cases: number;
  loss: string;
  compensated: number;
  compensation: string;
  refunds: number;
  refund_instructed: string;
  refunds_paid_count: number;
  refunds_paid: string;
  fees_waived: number;
}

export interface ReasonsReport {
  date_from: string;
  date_to: string;
  cases: number;
  with_intake: number;
  reasons: ReasonCount[];
  by_month: { month: string; cases: number; reasons: Record<string, number> }[];
  by_project: { project_id: number; project: string; cases: number; reasons: ReasonCount[] }[];
  by_consultant: { consultant_id: number; consultant: string; cases: number; reasons: ReasonCount[] }[];
  outcomes: (Money & { path: string; share: string | null })[];
  outcomes_by_month: { month: string; paths: Record<string, number> }[];
  money: Money;
}

export const TIME_LEFT = ["overdue", "lt_1h", "lt_4h", "lt_24h", "ge_24h", "no_clock"] as const;
export type TimeLeft = (typeof TIME_LEFT)[number];

export interface Dashboard {
  as_of: string;
  today: string;
  open_cases: number;
  overdue_cases: number;
  by_stage: ({ stage: string; open: number } & Record<TimeLeft, number>)[];
  urgent: { case_id: string; case_no: string; stage: string; project: string; due_at: string; hours_left: string }[];
  breaches_today: number;
  breaches_today_by_step: { sla: string; count: number }[];
  warnings: { level: string; open: number; overdue: number }[];
  week: { date: string; registered: number; closed: number; breaches: number }[];
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const BASELINE = /^\d{1,3}(\.\d{1,2})?$/;

/** A baseline as typed ("5,8", " 5.8 ") in the API's form ("5.8"), or "" when it is not a number of days. */
export function cleanBaseline(raw: string): string {
  const v = raw.trim().replace(",", ".");
  return BASELINE.test(v) && Number(v) <= 365 ? v : "";
}

/** The query string of the filters (only what is set), for the report and its workbook alike. */
export function reportQuery(f: Partial<Filters>, withBaseline = true): string {
  const q = new URLSearchParams();
  if (f.project_id != null) q.set("project_id", String(f.project_id));
  else if (f.city_company_id != null) q.set("city_company_id", String(f.city_company_id));
  if (f.date_from && DATE.test(f.date_from)) q.set("date_from", f.date_from);
  if (f.date_to && DATE.test(f.date_to)) q.set("date_to", f.date_to);
  const b = withBaseline ? cleanBaseline(f.baseline_days ?? "") : "";
  if (b) q.set("baseline_days", b);
  const s = q.toString();
  return s ? `?${s}` : "";
}

/** The filters an address carries (?project=, ?city=, ?from=, ?to=, ?baseline=); anything malformed is dropped. */
export function filtersFromQuery(query: Record<string, unknown>): Filters {
  const one = (k: string): string => {
    const v = query[k];
    const s = Array.isArray(v) ? v[0] : v;
    return typeof s === "string" ? s : "";
  };
  const id = (k: string) => (/^\d{1,9}$/.test(one(k)) ? Number(one(k)) : null);
  return {
    project_id: id("project"),
    city_company_id: id("city"),
    date_from: DATE.test(one("from")) ? one("from") : "",
    date_to: DATE.test(one("to")) ? one("to") : "",
    baseline_days: cleanBaseline(one("baseline")),
  };
}

/** The address's query for the filters (the inverse of filtersFromQuery). */
export function filtersToQuery(f: Filters, tab: string): Record<string, string> {
  const out: Record<string, string> = { tab };
  if (f.project_id != null) out.project = String(f.project_id);
  if (f.city_company_id != null) out.city = String(f.city_company_id);
  if (f.date_from) out.from = f.date_from;
  if (f.date_to) out.to = f.date_to;
  if (f.baseline_days) out.baseline = f.baseline_days;
  return out;
}

/** "22.0" minutes as the office reads it: minutes under an hour, else hours, else days (one decimal). */
export function fmtMinutes(value: string | null | undefined, t: Translate): string {
  const n = toNumber(value);
  if (n === null) return "—";
  if (n < 60) return t("rep_min", { n: n.toFixed(1) });
  if (n < 60 * 48) return t("rep_hours", { n: (n / 60).toFixed(1) });
  return t("rep_days", { n: (n / 1440).toFixed(1) });
}

/** Days to 0.1 as given by the API ("5.5" → "5.5 天"), "—" for none. */
export function fmtDays(value: string | null | undefined, t: Translate): string {
  return value === null || value === undefined || value === "" ? "—" : t("rep_days", { n: value });
}

/** Hours left (negative: overdue) as "2.5 h" / "overdue 3.0 h". */
export function fmtHoursLeft(value: string, t: Translate): string {
  const n = toNumber(value) ?? 0;
  return n < 0 ? t("rep_overdue_by", { n: Math.abs(n).toFixed(1) }) : t("rep_hours", { n: n.toFixed(1) });
}

/** A share, or the figure's absence ("—"). */
export const share = (v: string | null | undefined) => fmtShare(v);

const BLUE = "#0b5cab";
const RED = "#b3261e";
const GREEN = "#1e6b35";
const GREY = "#6b7280";
const ORANGE = "#b85c00";
const TEXT = { color: "#1b1f24", fontSize: 12 };
const grid = { left: 8, right: 16, top: 56, bottom: 8, containLabel: true };

function aria(description: string) {
  return { enabled: true, label: { enabled: true, description } };
}

function line(name: string, color: string, data: (number | null)[], dashed = false): LineSeriesOption {
  return {
    type: "line",
    name,
    data,
    connectNulls: false,
    itemStyle: { color },
    lineStyle: { color, width: 2, type: dashed ? "dashed" : "solid" },
    symbolSize: 6,
  };
}

/** Handling time per month (mean and median to the outcome, mean to the archive) against the baseline: the
 * "5.8 → 1.2 days" chart. The baseline is a flat dashed line when the person gave one. */
export function handlingOption(rep: Pick<SlaReport, "handling_by_month" | "baseline_days">, t: Translate): ChartOption {
  const months = rep.handling_by_month;
  const title = t("rep_handling_chart");
  const mean = t("rep_mean_to_outcome");
  const med = t("rep_median_to_outcome");
  const arch = t("rep_mean_to_archive");
  const base = t("rep_baseline");
  const baseline = toNumber(rep.baseline_days);
  const series = [
    line(mean, BLUE, months.map((m) => toNumber(m.to_outcome.mean_days))),
    line(med, GREEN, months.map((m) => toNumber(m.to_outcome.median_days))),
    line(arch, GREY, months.map((m) => toNumber(m.to_archive.mean_days))),
  ];
  if (baseline !== null) series.push(line(base, RED, months.map(() => baseline), true));
  const items = months.map((m) => `${m.month} ${mean} ${m.to_outcome.mean_days ?? "—"}`);
  if (baseline !== null) items.push(`${base} ${rep.baseline_days}`);
  return {
    aria: aria(describe(title, items, t)),
    grid,
    legend: { top: 0, textStyle: TEXT, data: series.map((s) => s.name as string) },
    tooltip: { trigger: "axis", confine: true },
    xAxis: { type: "category", data: months.map((m) => m.month), axisLabel: TEXT, boundaryGap: false },
    yAxis: { type: "value", name: t("rep_days_axis"), min: 0, nameTextStyle: TEXT, axisLabel: TEXT },
    series,
  };
}

/** Share breached per step and department, 0–100 %. */
export function breachedOption(steps: SlaStep[], label: (s: SlaStep) => string, t: Translate): ChartOption {
  const title = t("rep_breached_chart");
  return {
    aria: aria(describe(title, steps.map((s) => `${label(s)} ${fmtShare(s.breached_share)}`), t)),
    grid: { ...grid, top: 24 },
    tooltip: { trigger: "axis", confine: true, axisPointer: { type: "shadow" } },
    xAxis: { type: "category", data: steps.map(label), axisLabel: { ...TEXT, interval: 0, rotate: 30 } },
    yAxis: { type: "value", min: 0, max: 100, axisLabel: { ...TEXT, formatter: "{value}%" } },
    series: [{ type: "bar", name: t("rep_breached_share"), data: steps.map((s) => percent(s.breached_share)),
               itemStyle: { color: RED }, barMaxWidth: 32 }],
  };
}

/** Reasons per month, one line per reason (cases of the month giving it). */
export function reasonTrendOption(rep: Pick<ReasonsReport, "by_month" | "reasons">, reasonLabel: (code: string) => string, t: Translate): ChartOption {
  const title = t("rep_reason_trend");
  const codes = rep.reasons.map((r) => r.reason);
  const colours = [BLUE, RED, GREEN, ORANGE, GREY];
  return {
    aria: aria(describe(title, rep.by_month.map((m) => `${m.month} ${codes.map((c) => `${reasonLabel(c)} ${m.reasons[c] ?? 0}`).join(" ")}`), t)),
    grid,
    legend: { top: 0, textStyle: TEXT, data: codes.map(reasonLabel) },
    tooltip: { trigger: "axis", confine: true },
    xAxis: { type: "category", data: rep.by_month.map((m) => m.month), axisLabel: TEXT, boundaryGap: false },
    yAxis: { type: "value", min: 0, minInterval: 1, axisLabel: TEXT },
    series: codes.map((c, i) => line(reasonLabel(c), colours[i % colours.length], rep.by_month.map((m) => m.reasons[c] ?? 0))),
  };
}

/** Reasons' distribution: one bar per reason, the share of the cases with an intake. */
export function reasonShareOption(reasons: ReasonCount[], reasonLabel: (code: string) => string, t: Translate): ChartOption {
  const title = t("rep_reason_share");
  return {
    aria: aria(describe(title, reasons.map((r) => `${reasonLabel(r.reason)} ${r.cases} (${fmtShare(r.share)})`), t)),
    grid: { ...grid, top: 24 },
    tooltip: { trigger: "axis", confine: true, axisPointer: { type: "shadow" } },
    xAxis: { type: "category", data: reasons.map((r) => reasonLabel(r.reason)), axisLabel: { ...TEXT, interval: 0 } },
    yAxis: { type: "value", min: 0, max: 100, axisLabel: { ...TEXT, formatter: "{value}%" } },
    series: [{ type: "bar", name: t("rep_share"), data: reasons.map((r) => percent(r.share)), itemStyle: { color: BLUE },
               barMaxWidth: 48, label: { show: true, position: "top", ...TEXT,
               formatter: (p: { dataIndex: number }) => fmtShare(reasons[p.dataIndex]?.share) } }],
  };
}

/** The week on the dashboard: registered, closed and breaches per day. */
export function weekOption(week: Dashboard["week"], t: Translate): ChartOption {
  const title = t("dash_week");
  const reg = t("dash_registered");
  const closed = t("dash_closed");
  const breaches = t("dash_breaches");
  return {
    aria: aria(describe(title, week.map((d) => `${d.date} ${reg} ${d.registered} ${closed} ${d.closed} ${breaches} ${d.breaches}`), t)),
    grid,
    legend: { top: 0, textStyle: TEXT, data: [reg, closed, breaches] },
    tooltip: { trigger: "axis", confine: true },
    xAxis: { type: "category", data: week.map((d) => d.date.slice(5)), axisLabel: TEXT },
    yAxis: { type: "value", min: 0, minInterval: 1, axisLabel: TEXT },
    series: [
      { type: "bar", name: reg, data: week.map((d) => d.registered), itemStyle: { color: BLUE }, barMaxWidth: 24 },
      { type: "bar", name: closed, data: week.map((d) => d.closed), itemStyle: { color: GREEN }, barMaxWidth: 24 },
      line(breaches, RED, week.map((d) => d.breaches)),
    ],
  };
}

/** Open cases by stage, stacked by the time left to their nearest deadline. */
export function stagesOption(rows: Dashboard["by_stage"], stageLabel: (s: string) => string, t: Translate): ChartOption {
  const title = t("dash_by_stage");
  const colours: Record<TimeLeft, string> = { overdue: RED, lt_1h: ORANGE, lt_4h: "#d9a400", lt_24h: BLUE, ge_24h: GREEN, no_clock: GREY };
  return {
    aria: aria(describe(title, rows.map((r) => `${stageLabel(r.stage)} ${r.open}`), t)),
    grid,
    legend: { top: 0, textStyle: TEXT, data: TIME_LEFT.map((b) => t(`dash_left.${b}`)) },
    tooltip: { trigger: "axis", confine: true, axisPointer: { type: "shadow" } },
    xAxis: { type: "category", data: rows.map((r) => stageLabel(r.stage)), axisLabel: { ...TEXT, interval: 0 } },
    yAxis: { type: "value", min: 0, minInterval: 1, axisLabel: TEXT },
    series: TIME_LEFT.map((b) => ({ type: "bar" as const, stack: "left", name: t(`dash_left.${b}`),
                                    data: rows.map((r) => r[b]), itemStyle: { color: colours[b] }, barMaxWidth: 40 })),
  };
}

/** Seconds until the next automatic refresh is due, given when the last answer came (ms) and the interval (s). */
export function refreshIn(lastMs: number, nowMs: number, everyS: number): number {
  return Math.max(0, Math.ceil((lastMs + everyS * 1000 - nowMs) / 1000));
}
