// Sales statistics over any date range (issue 16): the range presets in China dates, the query string, the
// comparison with the previous period, and the channel funnel chart. Pure: dates are "YYYY-MM-DD" strings,
// money and rates stay decimal strings (only a bar's height becomes a number).
import type { BarSeriesOption } from "echarts/charts";
import { type ChartOption, describe, type Stats, type Translate } from "./charts";
import { fmtMoney, fmtShare } from "./format";

export const PRESETS = ["today", "week", "month", "last_month", "custom"] as const;
export type Preset = (typeof PRESETS)[number];
export const BREAKDOWNS = ["consultant", "channel"] as const;
export type Breakdown = (typeof BREAKDOWNS)[number];
/** The channels reception records (domain/reception.py CHANNELS); a customer's source channel may be any text. */
export const KNOWN_CHANNELS = ["walk_in", "referral", "online", "outdoor", "partner", "call", "other"];
export const MAX_RANGE_DAYS = 1096;

export interface FunnelRow {
  key: string | null;
  label: string | null;
  visits: number;
  effective_customers: number;
  subscriptions: number;
  subscription_amount: string;
  contracts: number;
  contract_amount: string;
  conversion: {
    visit_to_effective: string | null;
    effective_to_subscription: string | null;
    subscription_to_contract: string | null;
    visit_to_subscription: string | null;
    visit_to_contract: string | null;
  };
}

export interface Batch {
  batch_id: number | null;
  batch: string | null;
  released: number;
  subscribed: number;
  contracted: number;
  sell_through: string | null;
  contract_share: string | null;
  period_subscriptions: number;
  period_contracts: number;
}

/** GET /api/projects/{id}/stats with from/to, by and compare. */
export interface RangeStats extends Omit<Stats, "period"> {
  period: "today" | "week" | "month" | "custom" | "previous";
  sell_through_by_batch: Batch[];
  by_consultant: FunnelRow[] | null;
  by_channel: FunnelRow[] | null;
  previous: RangeStats | null;
}

export interface Selection {
  preset: Preset;
  from: string; // custom only
  to: string;
  compare: boolean;
}

const pad = (n: number) => String(n).padStart(2, "0");
const iso = (d: Date) => `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
const parse = (s: string) => new Date(`${s}T00:00:00Z`);
const DAY_MS = 86_400_000;

/** Today's date in China (UTC+8, no DST) at the instant `nowMs`. */
export function chinaToday(nowMs: number): string {
  return iso(new Date(nowMs + 8 * 3_600_000));
}

export function isDate(s: unknown): s is string {
  return typeof s === "string" && /^\d{4}-\d{2}-\d{2}$/.test(s) && iso(parse(s)) === s;
}

/** The inclusive [from, to] of a preset around `today` (a China date); the custom range as given. */
export function presetRange(preset: Preset, today: string, custom: { from: string; to: string } = { from: today, to: today }): [string, string] {
  const d = parse(today);
  if (preset === "today") return [today, today];
  if (preset === "week") {
    const monday = new Date(d.getTime() - ((d.getUTCDay() + 6) % 7) * DAY_MS);
    return [iso(monday), iso(new Date(monday.getTime() + 6 * DAY_MS))];
  }
  if (preset === "month") {
    const first = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1));
    return [iso(first), iso(new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)))];
  }
  if (preset === "last_month") {
    return [iso(new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 1, 1))), iso(new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 0)))];
  }
  return [custom.from, custom.to];
}

/** What is wrong with a custom range, as a message key (null: nothing), checked as the API checks it. */
export function rangeError(from: string, to: string): string | null {
  if (!isDate(from)) return "st_err_from";
  if (!isDate(to)) return "st_err_to";
  if (from > to) return "st_err_order";
  if ((parse(to).getTime() - parse(from).getTime()) / DAY_MS + 1 > MAX_RANGE_DAYS) return "st_err_long";
  return null;
}

/** The API's query string: a named period as ?period=, last month and custom as ?from=&to=; the breakdowns
 * and the comparison as asked. */
export function statsQuery(sel: Selection, today: string, by: readonly Breakdown[] = BREAKDOWNS): string {
  const q = new URLSearchParams();
  if (sel.preset === "today" || sel.preset === "week" || sel.preset === "month") q.set("period", sel.preset);
  else {
    const [from, to] = presetRange(sel.preset, today, sel);
    q.set("from", from);
    q.set("to", to);
  }
  for (const b of by) q.append("by", b);
  if (sel.compare) q.set("compare", "previous");
  return q.toString();
}

/** The selection of the page's address (?period=, ?preset=, ?from=&to=, ?compare=1); the week by default. */
export function selectionFromQuery(query: Record<string, unknown>, today: string): Selection {
  const compare = query.compare === "1";
  const from = isDate(query.from) ? query.from : today;
  const to = isDate(query.to) ? query.to : from;
  const asked = typeof query.preset === "string" ? query.preset : typeof query.period === "string" ? query.period : "";
  if ((PRESETS as readonly string[]).includes(asked)) return { preset: asked as Preset, from, to, compare };
  if (isDate(query.from)) return { preset: "custom", from, to, compare };
  return { preset: "week", from, to, compare };
}

export function selectionToQuery(sel: Selection, project: number | null): Record<string, string> {
  const q: Record<string, string> = {};
  if (sel.preset === "today" || sel.preset === "week" || sel.preset === "month") q.period = sel.preset;
  else q.preset = sel.preset;
  if (sel.preset === "custom") Object.assign(q, { from: sel.from, to: sel.to });
  if (sel.compare) q.compare = "1";
  if (project !== null) q.project = String(project);
  return q;
}

/** "−2", "+3", "0" for counts; money and rates as exact decimal differences ("+0.1250"), never through floats. */
export function delta(now: string | number | null | undefined, before: string | number | null | undefined): string | null {
  if (now === null || now === undefined || before === null || before === undefined) return null;
  const a = String(now);
  const b = String(before);
  const places = Math.max((a.split(".")[1] ?? "").length, (b.split(".")[1] ?? "").length);
  const scale = 10n ** BigInt(places);
  const toInt = (s: string) => {
    const neg = s.startsWith("-");
    const [i, f = ""] = s.replace("-", "").split(".");
    const v = BigInt(i) * scale + BigInt((f + "0".repeat(places)).slice(0, places) || "0");
    return neg ? -v : v;
  };
  const diff = toInt(a) - toInt(b);
  const abs = diff < 0n ? -diff : diff;
  const int = (abs / scale).toString();
  const frac = places ? "." + (abs % scale).toString().padStart(places, "0") : "";
  return `${diff > 0n ? "+" : diff < 0n ? "-" : ""}${int}${frac}`;
}

/** A change (from delta) as a person reads it: "+¥1,500.00" / "-16.67%" / "+2"; "—" when there is none. */
export function fmtChange(change: string | null, kind: "count" | "money" | "share"): string {
  if (change === null) return "—";
  const sign = change.startsWith("-") ? "-" : change.startsWith("+") ? "+" : "";
  const abs = change.replace(/^[+-]/, "");
  if (kind === "money") return sign + fmtMoney(abs);
  if (kind === "share") return sign + fmtShare(abs);
  return sign + abs;
}

/** A channel's words: a known code in the person's language, other text as written, none as "unknown". */
export function channelLabel(key: string | null, t: Translate): string {
  if (key === null) return t("st_channel_unknown");
  return KNOWN_CHANNELS.includes(key) ? t(`st_channels.${key}`) : key;
}

export function consultantLabel(row: Pick<FunnelRow, "key" | "label">, t: Translate): string {
  if (row.key === null) return t("st_unassigned");
  return row.label ?? `#${row.key}`;
}

const STAGES = ["visits", "effective_customers", "subscriptions", "contracts"] as const;
const STAGE_COLORS = ["#0b5cab", "#5b8fd1", "#1e6b35", "#b3261e"];
const TEXT = { color: "#1b1f24", fontSize: 12 };

/** 渠道漏斗: per channel, one bar per stage (visits → effective → subscriptions → contracts), side by side;
 * the description a screen reader reads gives each stage's count and its conversion from the stage before. */
export function funnelOption(rows: FunnelRow[], label: (key: string | null) => string, t: Translate): ChartOption {
  const names = rows.map((r) => label(r.key));
  const title = t("st_funnel");
  const stepRate = (r: FunnelRow, i: number) =>
    [null, r.conversion.visit_to_effective, r.conversion.effective_to_subscription, r.conversion.subscription_to_contract][i];
  const series: BarSeriesOption[] = STAGES.map((stage, i) => ({
    type: "bar",
    name: t(`st_stage.${stage}`),
    data: rows.map((r) => r[stage]),
    itemStyle: { color: STAGE_COLORS[i] },
    barMaxWidth: 28,
  }));
  return {
    aria: {
      enabled: true,
      label: {
        enabled: true,
        description: describe(
          title,
          rows.map((r, n) => `${names[n]} ${STAGES.map((s, i) => `${t(`st_stage.${s}`)} ${r[s]}${i ? ` (${fmtShare(stepRate(r, i))})` : ""}`).join(" ")}`),
          t,
        ),
      },
    },
    grid: { left: 8, right: 16, top: 56, bottom: 8, containLabel: true },
    legend: { top: 0, textStyle: TEXT, data: STAGES.map((s) => t(`st_stage.${s}`)) },
    tooltip: { trigger: "axis", confine: true, axisPointer: { type: "shadow" } },
    xAxis: { type: "category", data: names, axisLabel: { ...TEXT, interval: 0, width: 90, overflow: "truncate" } },
    yAxis: { type: "value", minInterval: 1, min: 0, axisLabel: TEXT },
    series,
  };
}
