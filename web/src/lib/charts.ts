// The three charts of the sales statistics, as ECharts options built from the stats API's answer (pure:
// the words come from the `t` passed in). Money and rates stay decimal strings; only the height of a bar or
// a point becomes a number, and every figure a person reads (tooltip, label, description) is formatted
// from the string.
import type { BarSeriesOption, LineSeriesOption } from "echarts/charts";
import type {
  AriaComponentOption,
  GridComponentOption,
  LegendComponentOption,
  TitleComponentOption,
  TooltipComponentOption,
} from "echarts/components";
import type { ComposeOption } from "echarts/core";
import { fmtMoney, fmtShare } from "./format";

export type ChartOption = ComposeOption<
  | BarSeriesOption
  | LineSeriesOption
  | GridComponentOption
  | TooltipComponentOption
  | LegendComponentOption
  | TitleComponentOption
  | AriaComponentOption
>;

export interface SellThrough {
  layout: string;
  released: number;
  sold: number;
  rate: string | null;
}

export interface StatsDay {
  date: string;
  subscriptions: number;
  contracts: number;
  collections: string;
}

/** GET /api/projects/{id}/stats: money as decimal strings with two places, rates with four (null: nothing to divide by). */
export interface Stats {
  project_id: number;
  period: "today" | "week" | "month";
  date_from: string;
  date_to: string;
  calls: number;
  visits: { groups: number; first: number; repeat: number };
  effective_customers: number;
  subscriptions: {
    count: number;
    amount: string;
    cancelled: number;
    cancelled_amount: string;
    net_count: number;
    net_amount: string;
    cancelled_of_period: number;
  };
  contracts: { count: number; amount: string; refunded: number; net_count: number; net_amount: string };
  collections: { received: string; refunded: string; net: string };
  conversion: { visit_to_subscription: string | null; subscription_to_contract: string | null };
  refund_rate: string | null;
  sell_through_by_layout: SellThrough[];
  series: StatsDay[];
}

export type Translate = (key: string, named?: Record<string, unknown>) => string;

const BLUE = "#0b5cab";
const RED = "#b3261e";
const GREEN = "#1e6b35";
const AXIS = "#4a5360";
const TEXT = { color: "#1b1f24", fontSize: 12 };

/** A decimal string as a drawing height (never used for what a person reads). */
export function toNumber(value: string | number | null | undefined): number | null {
  if (value === null || value === undefined || value === "") return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

/** A share of one ("0.6") as a bar height in percent (60), null when there is nothing to divide by. */
export function percent(value: string | null | undefined): number | null {
  const n = toNumber(value);
  return n === null ? null : Math.round(n * 10000) / 100;
}

/** A money axis tick (a number the scale chose, not an amount from the API): ¥20,000 / -¥5,000.50. */
export function moneyTick(value: number): string {
  if (!Number.isFinite(value)) return "";
  const fixed = value.toFixed(2);
  return fmtMoney(fixed).replace(/\.00$/, "");
}

/** What a screen reader says about a chart: its title and each point, in the person's language. */
export function describe(title: string, items: string[], t: Translate): string {
  if (!items.length) return t("chart_no_data", { title });
  return t("chart_desc", { title, items: items.join(t("list_sep")) });
}

function aria(description: string): AriaComponentOption {
  return { enabled: true, label: { enabled: true, description } };
}

const tooltip = (valueFormatter: (index: number) => string): TooltipComponentOption => ({
  trigger: "axis",
  confine: true,
  axisPointer: { type: "shadow" },
  valueFormatter: (_value, dataIndex) => valueFormatter(dataIndex),
});

const grid: GridComponentOption = { left: 8, right: 16, top: 40, bottom: 8 };

/** The horizontal axis of every chart: named categories (layouts, days) under it. */
function categoryAxis(name: string, data: string[], axisLabel: Record<string, unknown> = {}) {
  return {
    type: "category" as const,
    name,
    nameLocation: "middle" as const,
    nameGap: 28,
    nameTextStyle: TEXT,
    data,
    axisLabel: { ...TEXT, hideOverlap: true, ...axisLabel },
    axisLine: { lineStyle: { color: AXIS } },
  };
}

/** 去化率（按户型）: one bar per layout, 0–100 %. */
export function sellThroughOption(stats: Pick<Stats, "sell_through_by_layout">, t: Translate): ChartOption {
  const rows = stats.sell_through_by_layout;
  const title = t("sell_through");
  return {
    aria: aria(describe(title, rows.map((r) => `${r.layout} ${fmtShare(r.rate)}`), t)),
    grid,
    tooltip: tooltip((i) => (rows[i] ? `${fmtShare(rows[i].rate)} (${rows[i].sold}/${rows[i].released})` : "")),
    xAxis: categoryAxis(t("layout"), rows.map((r) => r.layout), { interval: 0, width: 90, overflow: "truncate" }),
    yAxis: {
      type: "value",
      name: t("rate"),
      nameTextStyle: TEXT,
      min: 0,
      max: 100,
      axisLabel: { ...TEXT, formatter: "{value}%" },
    },
    series: [
      {
        type: "bar",
        name: t("rate"),
        data: rows.map((r) => percent(r.rate)),
        itemStyle: { color: BLUE },
        barMaxWidth: 48,
        label: { show: true, position: "top", ...TEXT, formatter: (p) => (rows[p.dataIndex] ? fmtShare(rows[p.dataIndex].rate) : "") },
      },
    ],
  };
}

/** 认购与签约走势: subscriptions and contracts per day. */
export function salesSeriesOption(stats: Pick<Stats, "series">, t: Translate): ChartOption {
  const days = stats.series;
  const title = t("over_time");
  const subs = t("subs");
  const contracts = t("contracts");
  const line = (name: string, color: string, key: "subscriptions" | "contracts"): LineSeriesOption => ({
    type: "line",
    name,
    data: days.map((d) => d[key]),
    itemStyle: { color },
    lineStyle: { color, width: 2 },
    symbolSize: 6,
  });
  return {
    aria: aria(describe(title, days.map((d) => `${d.date} ${subs} ${d.subscriptions} ${contracts} ${d.contracts}`), t)),
    grid: { ...grid, top: 56 },
    legend: { top: 0, textStyle: TEXT, data: [subs, contracts] },
    tooltip: { trigger: "axis", confine: true },
    xAxis: { ...categoryAxis(t("date"), days.map((d) => d.date.slice(5))), boundaryGap: false },
    yAxis: { type: "value", minInterval: 1, min: 0, axisLabel: TEXT },
    series: [line(subs, BLUE, "subscriptions"), line(contracts, RED, "contracts")],
  };
}

/** 每日回款: collections per day, in yuan. */
export function collectionsOption(stats: Pick<Stats, "series">, t: Translate): ChartOption {
  const days = stats.series;
  const title = t("collections_chart");
  return {
    aria: aria(describe(title, days.map((d) => `${d.date} ${fmtMoney(d.collections)}`), t)),
    grid,
    tooltip: tooltip((i) => (days[i] ? fmtMoney(days[i].collections) : "")),
    xAxis: categoryAxis(t("date"), days.map((d) => d.date.slice(5))),
    yAxis: { type: "value", name: t("collections"), nameTextStyle: TEXT, axisLabel: { ...TEXT, formatter: moneyTick } },
    series: [
      {
        type: "bar",
        name: t("collections"),
        data: days.map((d) => toNumber(d.collections)),
        itemStyle: { color: GREEN },
        barMaxWidth: 32,
      },
    ],
  };
}
