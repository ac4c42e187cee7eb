import { describe, expect, it } from "vitest";
import {
  channelLabel,
  chinaToday,
  consultantLabel,
  delta,
  fmtChange,
  funnelOption,
  presetRange,
  rangeError,
  selectionFromQuery,
  selectionToQuery,
  statsQuery,
  type FunnelRow,
} from "./stats";

const t = (key: string, named?: Record<string, unknown>) => (named ? `${key}:${JSON.stringify(named)}` : key);

describe("range presets (China dates)", () => {
  it("knows China's date at an instant", () => {
    expect(chinaToday(Date.parse("2026-03-31T16:30:00Z"))).toBe("2026-04-01"); // 00:30 in Beijing
    expect(chinaToday(Date.parse("2026-03-31T15:59:59Z"))).toBe("2026-03-31");
  });

  it("gives today, the ISO week, this month and last month", () => {
    expect(presetRange("today", "2026-11-25")).toEqual(["2026-11-25", "2026-11-25"]);
    expect(presetRange("week", "2026-11-25")).toEqual(["2026-11-23", "2026-11-29"]); // Wednesday
    expect(presetRange("week", "2026-11-29")).toEqual(["2026-11-23", "2026-11-29"]); // Sunday ends its week
    expect(presetRange("week", "2026-12-31")).toEqual(["2026-12-28", "2027-01-03"]);
    expect(presetRange("month", "2028-02-14")).toEqual(["2028-02-01", "2028-02-29"]);
    expect(presetRange("last_month", "2026-03-31")).toEqual(["2026-02-01", "2026-02-28"]);
    expect(presetRange("last_month", "2026-01-15")).toEqual(["2025-12-01", "2025-12-31"]);
    expect(presetRange("custom", "2026-01-15", { from: "2026-01-01", to: "2026-01-02" })).toEqual(["2026-01-01", "2026-01-02"]);
  });

  it("checks a custom range as the API does", () => {
    expect(rangeError("2026-03-01", "2026-03-01")).toBeNull();
    expect(rangeError("2023-11-26", "2026-11-25")).toBeNull(); // 1096 days
    expect(rangeError("2023-11-25", "2026-11-25")).toBe("st_err_long");
    expect(rangeError("2026-03-02", "2026-03-01")).toBe("st_err_order");
    expect(rangeError("2026-02-30", "2026-03-01")).toBe("st_err_from");
    expect(rangeError("2026-03-01", "")).toBe("st_err_to");
  });
});

describe("the query", () => {
  it("asks a named period as ?period= and the others as from/to, with breakdowns and comparison", () => {
    const sel = { preset: "week" as const, from: "", to: "", compare: false };
    expect(statsQuery(sel, "2026-11-25", [])).toBe("period=week");
    expect(statsQuery({ ...sel, compare: true }, "2026-11-25")).toBe("period=week&by=consultant&by=channel&compare=previous");
    expect(statsQuery({ ...sel, preset: "last_month" }, "2026-03-10", ["channel"])).toBe("from=2026-02-01&to=2026-02-28&by=channel");
    expect(statsQuery({ preset: "custom", from: "2026-03-05", to: "2026-03-14", compare: false }, "2026-11-25", [])).toBe(
      "from=2026-03-05&to=2026-03-14",
    );
  });

  it("reads and writes the page's address", () => {
    expect(selectionFromQuery({}, "2026-11-25")).toEqual({ preset: "week", from: "2026-11-25", to: "2026-11-25", compare: false });
    expect(selectionFromQuery({ period: "month" }, "2026-11-25").preset).toBe("month");
    expect(selectionFromQuery({ period: "year" }, "2026-11-25").preset).toBe("week");
    const custom = selectionFromQuery({ from: "2026-03-01", to: "2026-03-31", compare: "1" }, "2026-11-25");
    expect(custom).toEqual({ preset: "custom", from: "2026-03-01", to: "2026-03-31", compare: true });
    expect(selectionToQuery(custom, 7)).toEqual({ preset: "custom", from: "2026-03-01", to: "2026-03-31", compare: "1", project: "7" });
    expect(selectionToQuery({ ...custom, preset: "today", compare: false }, null)).toEqual({ period: "today" });
    expect(selectionFromQuery(selectionToQuery({ ...custom, preset: "last_month" }, null), "2026-11-25").preset).toBe("last_month");
  });
});

describe("comparison and labels", () => {
  it("subtracts exactly, in decimals", () => {
    expect(delta(6, 2)).toBe("+4");
    expect(delta(0, 3)).toBe("-3");
    expect(delta(1, 1)).toBe("0");
    expect(delta("0.3333", "0.5000")).toBe("-0.1667");
    expect(delta("3000000.00", "1500000.10")).toBe("+1499999.90");
    expect(delta("0.1", "0.30")).toBe("-0.20");
    expect(delta("-5.00", "-7.5")).toBe("+2.50");
    expect(delta(null, "0.5")).toBeNull();
  });

  it("words a change with its sign", () => {
    expect(fmtChange("+1499999.90", "money")).toBe("+¥1,499,999.90");
    expect(fmtChange("-0.1667", "share")).toBe("-16.67%");
    expect(fmtChange("0", "count")).toBe("0");
    expect(fmtChange(null, "share")).toBe("—");
  });

  it("words channels and consultants", () => {
    expect(channelLabel("online", t)).toBe("st_channels.online");
    expect(channelLabel("朋友圈", t)).toBe("朋友圈");
    expect(channelLabel(null, t)).toBe("st_channel_unknown");
    expect(consultantLabel({ key: null, label: null }, t)).toBe("st_unassigned");
    expect(consultantLabel({ key: "7", label: "王顾问" }, t)).toBe("王顾问");
  });
});

describe("the funnel chart", () => {
  const row = (key: string | null, v: number, e: number, s: number, c: number, rates: (string | null)[]): FunnelRow => ({
    key,
    label: null,
    visits: v,
    effective_customers: e,
    subscriptions: s,
    subscription_amount: "0.00",
    contracts: c,
    contract_amount: "0.00",
    conversion: {
      visit_to_effective: rates[0],
      effective_to_subscription: rates[1],
      subscription_to_contract: rates[2],
      visit_to_subscription: null,
      visit_to_contract: null,
    },
  });

  it("draws four stages per channel and says each stage's conversion", () => {
    const rows = [row("online", 4, 1, 1, 2, ["0.25", "1", "2"]), row("outdoor", 1, 0, 0, 0, ["0", null, null])];
    const option = funnelOption(rows, (k) => channelLabel(k, t), t);
    const series = option.series as { name: string; data: number[] }[];
    expect(series.map((s) => s.name)).toEqual(["st_stage.visits", "st_stage.effective_customers", "st_stage.subscriptions", "st_stage.contracts"]);
    expect(series.map((s) => s.data)).toEqual([[4, 1], [1, 0], [1, 0], [2, 0]]);
    expect((option.xAxis as { data: string[] }).data).toEqual(["st_channels.online", "st_channels.outdoor"]);
    const text = (option.aria as { label: { description: string } }).label.description;
    expect(text).toContain("st_stage.effective_customers 1 (25%)");
    expect(text).toContain("st_stage.contracts 2 (200%)");
    expect(text).toContain("st_stage.subscriptions 0 (—)");
  });

  it("says there is nothing when no channel had anything", () => {
    const text = (funnelOption([], (k) => String(k), t).aria as { label: { description: string } }).label.description;
    expect(text).toBe('chart_no_data:{"title":"st_funnel"}');
  });
});
