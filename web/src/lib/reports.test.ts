import { describe, expect, it } from "vitest";
import {
  breachedOption,
  cleanBaseline,
  filtersFromQuery,
  filtersToQuery,
  fmtDays,
  fmtHoursLeft,
  fmtMinutes,
  handlingOption,
  reasonShareOption,
  reasonTrendOption,
  refreshIn,
  reportQuery,
  stagesOption,
  weekOption,
  type Dashboard,
  type SlaReport,
} from "./reports";

const t = (key: string, named?: Record<string, unknown>) =>
  named ? `${key}(${Object.entries(named).map(([k, v]) => `${k}=${v}`).join(",")})` : key === "list_sep" ? "; " : `<${key}>`;
type Loose = any;

const span = (mean: string | null, median: string | null = mean) => ({ mean_days: mean, median_days: median, p90_days: null });
const month = (m: string, mean: string | null) => ({
  month: m, cases: mean ? 10 : 0, voided: 0, with_outcome: mean ? 10 : 0, to_outcome: span(mean), archived: 0,
  to_archive: span(null), vs_baseline: null,
});

describe("the filters", () => {
  it("go into the query only when set, project before city company", () => {
    expect(reportQuery({})).toBe("");
    expect(reportQuery({ project_id: 3, city_company_id: 9, date_from: "2026-03-01", date_to: "2026-04-30", baseline_days: "5.8" }))
      .toBe("?project_id=3&date_from=2026-03-01&date_to=2026-04-30&baseline_days=5.8");
    expect(reportQuery({ project_id: null, city_company_id: 9, baseline_days: "5.8" }, false)).toBe("?city_company_id=9");
    expect(reportQuery({ date_from: "2026-3-1", baseline_days: "abc" })).toBe("");
  });

  it("read a baseline as typed, and refuse what is not a number of days", () => {
    expect(cleanBaseline(" 5,8 ")).toBe("5.8");
    expect(cleanBaseline("5.80")).toBe("5.80");
    expect(cleanBaseline("-1")).toBe("");
    expect(cleanBaseline("400")).toBe("");
    expect(cleanBaseline("5.8.1")).toBe("");
  });

  it("round-trip through the address, dropping anything malformed", () => {
    const f = filtersFromQuery({ project: "12", city: ["4"], from: "2026-01-01", to: "bad", baseline: "5.8" });
    expect(f).toEqual({ project_id: 12, city_company_id: 4, date_from: "2026-01-01", date_to: "", baseline_days: "5.8" });
    expect(filtersToQuery(f, "sla")).toEqual({ tab: "sla", project: "12", city: "4", from: "2026-01-01", baseline: "5.8" });
    expect(filtersFromQuery({ project: "1e3" }).project_id).toBeNull();
  });
});

describe("figures as people read them", () => {
  it("minutes under an hour, hours under two days, else days", () => {
    expect(fmtMinutes("22.0", t)).toBe("rep_min(n=22.0)");
    expect(fmtMinutes("90.0", t)).toBe("rep_hours(n=1.5)");
    expect(fmtMinutes("4320.0", t)).toBe("rep_days(n=3.0)");
    expect(fmtMinutes(null, t)).toBe("—");
    expect(fmtDays("5.5", t)).toBe("rep_days(n=5.5)");
    expect(fmtDays(null, t)).toBe("—");
    expect(fmtHoursLeft("-3.25", t)).toBe("rep_overdue_by(n=3.3)");
    expect(fmtHoursLeft("1.5", t)).toBe("rep_hours(n=1.5)");
  });

  it("count down to the next refresh, never below zero", () => {
    expect(refreshIn(1000, 1000, 30)).toBe(30);
    expect(refreshIn(1000, 30_500, 30)).toBe(1);
    expect(refreshIn(1000, 31_000, 30)).toBe(0);
    expect(refreshIn(1000, 99_000, 30)).toBe(0);
  });
});

describe("charts", () => {
  it("draw handling time by month with the baseline as a dashed line", () => {
    const rep: Pick<SlaReport, "handling_by_month" | "baseline_days"> = {
      baseline_days: "5.8", handling_by_month: [month("2026-03", "1.2"), month("2026-04", null)],
    };
    const o = handlingOption(rep, t) as Loose;
    expect(o.xAxis.data).toEqual(["2026-03", "2026-04"]);
    expect(o.series.map((s: Loose) => s.name)).toEqual(["<rep_mean_to_outcome>", "<rep_median_to_outcome>", "<rep_mean_to_archive>", "<rep_baseline>"]);
    expect(o.series[0].data).toEqual([1.2, null]); // an empty month is a gap, not zero
    expect(o.series[3].data).toEqual([5.8, 5.8]);
    expect(o.series[3].lineStyle.type).toBe("dashed");
    expect(o.aria.label.description).toContain("<rep_baseline> 5.8");
    const none = handlingOption({ ...rep, baseline_days: null }, t) as Loose;
    expect(none.series).toHaveLength(3);
  });

  it("draw shares as percentages and reasons per month", () => {
    const steps = [{ step: "intake", department: "frontdesk", done: 10, median_minutes: "22.0", p90_minutes: "36.4", clocked: 10,
                     breached: 3, breached_share: "0.3000", open_now: 0, overdue_now: 0 }];
    const b = breachedOption(steps, (s) => `${s.step}/${s.department}`, t) as Loose;
    expect(b.series[0].data).toEqual([30]);
    expect(b.xAxis.data).toEqual(["intake/frontdesk"]);
    const reasons = [{ reason: "family_disagreement", cases: 7, share: "0.6364" }, { reason: "other", cases: 2, share: "0.1818" }];
    const s = reasonShareOption(reasons, (c) => c.toUpperCase(), t) as Loose;
    expect(s.series[0].data).toEqual([63.64, 18.18]);
    const tr = reasonTrendOption({ reasons, by_month: [{ month: "2026-03", cases: 9, reasons: { family_disagreement: 7 } }] }, (c) => c, t) as Loose;
    expect(tr.series.map((x: Loose) => x.data)).toEqual([[7], [0]]);
  });

  it("draw the dashboard's stages stacked by time left and the week", () => {
    const rows: Dashboard["by_stage"] = [{ stage: "intake", open: 3, overdue: 1, lt_1h: 1, lt_4h: 0, lt_24h: 1, ge_24h: 0, no_clock: 0 }];
    const o = stagesOption(rows, (s) => `S:${s}`, t) as Loose;
    expect(o.series).toHaveLength(6);
    expect(o.series.every((s: Loose) => s.stack === "left")).toBe(true);
    expect(o.series[0].data).toEqual([1]);
    expect(o.xAxis.data).toEqual(["S:intake"]);
    const w = weekOption([{ date: "2026-12-03", registered: 2, closed: 1, breaches: 1 }], t) as Loose;
    expect(w.xAxis.data).toEqual(["12-03"]);
    expect(w.series.map((s: Loose) => s.data)).toEqual([[2], [1], [1]]);
  });
});
