import { describe, expect, it } from "vitest";
import { collectionsOption, describe as describeChart, moneyTick, percent, salesSeriesOption, sellThroughOption, toNumber, type Stats } from "./charts";

// A stand-in translator: the key, with its named values.
const t = (key: string, named?: Record<string, unknown>) =>
  named ? `${key}(${Object.entries(named).map(([k, v]) => `${k}=${v}`).join(",")})` : key === "list_sep" ? "; " : `<${key}>`;

const stats: Pick<Stats, "sell_through_by_layout" | "series"> = {
  sell_through_by_layout: [
    { layout: "三室两厅 98㎡", released: 10, sold: 6, rate: "0.6000" },
    { layout: "四室两厅 128㎡", released: 0, sold: 0, rate: null },
  ],
  series: [
    { date: "2026-12-01", subscriptions: 2, contracts: 1, collections: "12345678901234567.89" },
    { date: "2026-12-02", subscriptions: 0, contracts: 3, collections: "-552800.00" },
  ],
};

// The options are plain objects; read them loosely.
type Loose = any;

describe("numbers for drawing only", () => {
  it("turn decimal strings into heights, null for nothing", () => {
    expect(toNumber("12.50")).toBe(12.5);
    expect(toNumber(null)).toBeNull();
    expect(toNumber("")).toBeNull();
    expect(toNumber("abc")).toBeNull();
    expect(percent("0.6000")).toBe(60);
    expect(percent("0.3333")).toBe(33.33);
    expect(percent(null)).toBeNull();
  });

  it("format a money axis tick without cents when whole", () => {
    expect(moneyTick(20000)).toBe("¥20,000");
    expect(moneyTick(-5000.5)).toBe("-¥5,000.50");
    expect(moneyTick(0)).toBe("¥0");
  });
});

describe("the sell-through chart", () => {
  const option: Loose = sellThroughOption(stats, t);

  it("has one bar per layout in percent, no bar where nothing was released", () => {
    expect(option.xAxis.data).toEqual(["三室两厅 98㎡", "四室两厅 128㎡"]);
    expect(option.series[0].type).toBe("bar");
    expect(option.series[0].data).toEqual([60, null]);
    expect(option.yAxis.max).toBe(100);
  });

  it("reads out the rates from the strings, in the person's words", () => {
    expect(option.xAxis.name).toBe("<layout>");
    expect(option.series[0].label.formatter({ dataIndex: 0 })).toBe("60%");
    expect(option.series[0].label.formatter({ dataIndex: 1 })).toBe("—");
    expect(option.tooltip.valueFormatter(60, 0)).toBe("60% (6/10)");
    expect(option.aria.label.description).toBe("chart_desc(title=<sell_through>,items=三室两厅 98㎡ 60%; 四室两厅 128㎡ —)");
  });
});

describe("the subscriptions and contracts chart", () => {
  const option: Loose = salesSeriesOption(stats, t);

  it("has a line each, named in the person's language, one point per day", () => {
    expect(option.series.map((s: Loose) => [s.type, s.name])).toEqual([["line", "<subs>"], ["line", "<contracts>"]]);
    expect(option.series[0].data).toEqual([2, 0]);
    expect(option.series[1].data).toEqual([1, 3]);
    expect(option.legend.data).toEqual(["<subs>", "<contracts>"]);
    expect(option.xAxis.data).toEqual(["12-01", "12-02"]);
    expect(option.yAxis.minInterval).toBe(1);
  });
});

describe("the collections chart", () => {
  const option: Loose = collectionsOption(stats, t);

  it("draws the amounts as heights but shows them from the strings, to the cent", () => {
    expect(option.series[0].data).toEqual([12345678901234567.89, -552800]);
    expect(option.tooltip.valueFormatter(12345678901234568, 0)).toBe("¥12,345,678,901,234,567.89");
    expect(option.tooltip.valueFormatter(-552800, 1)).toBe("-¥552,800.00");
    expect(option.aria.label.description).toContain("2026-12-01 ¥12,345,678,901,234,567.89");
    expect(option.yAxis.axisLabel.formatter(20000)).toBe("¥20,000");
  });

  it("says there is no data when there is none", () => {
    const empty: Loose = collectionsOption({ series: [] }, t);
    expect(empty.series[0].data).toEqual([]);
    expect(empty.aria.label.description).toBe("chart_no_data(title=<collections_chart>)");
  });
});

describe("a chart's description", () => {
  it("joins the points with the language's separator", () => {
    expect(describeChart("T", ["a", "b"], t)).toBe("chart_desc(title=T,items=a; b)");
  });
});
