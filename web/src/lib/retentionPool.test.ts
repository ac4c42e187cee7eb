import { describe, expect, it } from "vitest";
import { fundingErrors, fundingPreview, overdrawn } from "./retentionPool";

describe("the funding form", () => {
  it("wants money with at most two places and a reason", () => {
    expect(fundingErrors({ marketing_budget: "3000000", reason: "年度预算" })).toEqual({});
    expect(fundingErrors({ marketing_budget: "3000000", reason: "x".repeat(120) })).toEqual({});
    expect(fundingErrors({ marketing_budget: "12.345", reason: " " })).toEqual({
      marketing_budget: "pool_budget_invalid", reason: "pool_reason_required" });
    expect(fundingErrors({ marketing_budget: "-1", reason: "x".repeat(121) })).toEqual({
      marketing_budget: "pool_budget_invalid", reason: "pool_reason_long" });
  });
});

describe("what a budget gives the pool", () => {
  const pool = { share: "0.05", credited: "100000.00", drawn: "6000.00" };
  it("is the budget times the share to the fen, half up, and the entry is the difference", () => {
    expect(fundingPreview("3000000", pool)).toEqual({ allotment: "150000.00", change: "50000.00", belowDrawn: false });
    expect(fundingPreview("1000.10", { ...pool, credited: "0.00", drawn: "0.00" })).toEqual({
      allotment: "50.01", change: "50.01", belowDrawn: false }); // 50.005 → 50.01
    expect(fundingPreview("2000000", pool)?.change).toBe("0.00");
    expect(fundingPreview("1000000", pool)?.change).toBe("-50000.00");
  });
  it("says when the pool would hold less than it has paid out", () => {
    expect(fundingPreview("119999.80", pool)).toEqual({ allotment: "5999.99", change: "-94000.01", belowDrawn: true });
    expect(fundingPreview("120000", pool)?.belowDrawn).toBe(false);
  });
  it("knows nothing without money or a policy's share", () => {
    expect(fundingPreview("abc", pool)).toBeNull();
    expect(fundingPreview("100", { ...pool, share: null })).toBeNull();
  });
});

describe("a compensation against what the pool has left", () => {
  it("is over only when it takes more than the remaining", () => {
    expect(overdrawn("5000", "5000.00")).toBe(false);
    expect(overdrawn("5000.01", "5000.00")).toBe(true);
    expect(overdrawn("1", "0.00")).toBe(true);
    expect(overdrawn("", "100.00")).toBe(false);
    expect(overdrawn("12000", null)).toBe(false);
  });
});
