import { describe, expect, it } from "vitest";
import { daysLeft, expandRanges, parseDays, scheduleErrors, specialDays, type CalendarDay } from "./calendar";

const d = (day: string, workday: boolean, source = "weekly", name = ""): CalendarDay => ({ day, workday, source, name, statutory: null });

describe("the holiday calendar", () => {
  it("shows the holidays and the 调休 workdays, not ordinary weeks", () => {
    const days = [d("2027-01-01", false, "holiday", "元旦"), d("2027-01-02", false), d("2027-01-04", true),
      d("2027-02-14", true, "workday", "春节调休"), d("2026-10-01", false, "statutory", "National Day"), d("2026-10-10", true, "statutory")];
    expect(specialDays(days).map((x) => x.day)).toEqual(["2027-01-01", "2027-02-14", "2026-10-01", "2026-10-10"]);
  });
  it("counts the days left before the data runs out", () => {
    expect(daysLeft({ today: "2026-10-02", covered_until: "2026-12-31" })).toBe(90);
    expect(daysLeft({ today: "2027-01-02", covered_until: null })).toBeNull();
  });
  it("reads one day per line with an optional name, and expands ranges", () => {
    expect(parseDays("2027-01-01 元旦\n\n2027-13-01\n2027-01-02")).toEqual({
      days: [{ day: "2027-01-01", name: "元旦" }, { day: "2027-01-02", name: "" }], bad: ["2027-13-01"] });
    expect(expandRanges("2027-02-06..2027-02-08 春节")).toBe("2027-02-06 春节\n2027-02-07 春节\n2027-02-08 春节");
  });
  it("checks the year, duplicates and that a 调休 workday is a weekend day", () => {
    expect(scheduleErrors(2027, [], [])).toEqual({ holidays: "cal_holidays_required" });
    expect(scheduleErrors(2027, [{ day: "2028-01-01" }], [{ day: "2027-01-04" }]))
      .toEqual({ holidays: "cal_outside_year", workdays: "cal_not_weekend" });
    expect(scheduleErrors(2027, [{ day: "2027-01-01" }], [{ day: "2027-01-01" }])).toEqual({ workdays: "cal_duplicate" });
    expect(scheduleErrors(2027, [{ day: "2027-01-01" }], [{ day: "2027-02-14" }])).toEqual({});
  });
});
