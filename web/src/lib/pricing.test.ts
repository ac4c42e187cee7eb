import { describe, expect, it } from "vitest";

import { applyDiscounts, approvalLevel, fromFen, liveQuote, toFen } from "./pricing";

const opts = { floor: null, filed: null, limit: "0.02" };

describe("money in fen", () => {
  it("reads decimal strings exactly and refuses what is not money", () => {
    expect(toFen("1234.5")).toBe(123450n);
    expect(toFen("1,000,000")).toBe(100000000n);
    expect(toFen("0.001")).toBeNull();
    expect(toFen("-1")).toBeNull();
    expect(toFen("abc")).toBeNull();
    expect(fromFen(123405n)).toBe("1234.05");
  });
});

describe("discount rows", () => {
  it("apply in order, percentages on the running price, to the fen (as domain/pricing.py)", () => {
    const r = applyDiscounts("1500000", [
      { reason: "开盘", kind: "percent", value: "1" },
      { reason: "老带新", kind: "amount", value: "10000" },
      { reason: "按揭", kind: "percent", value: "0.5" },
    ]);
    expect(r.rows.map((x) => [x.deduction, x.priceAfter])).toEqual([
      ["15000.00", "1485000.00"], ["10000.00", "1475000.00"], ["7375.00", "1467625.00"]]);
    expect(fromFen(r.final)).toBe("1467625.00");
  });

  it("round half-up where a float would not", () => {
    expect(applyDiscounts("100.50", [{ reason: "x", kind: "percent", value: "1" }]).rows[0].deduction).toBe("1.01");
    expect(applyDiscounts("1234567.89", [{ reason: "x", kind: "percent", value: "1.33" }]).rows[0].deduction).toBe("16419.75");
  });

  it("name the row and field of each problem", () => {
    const r = applyDiscounts("100", [
      { reason: "", kind: "amount", value: "1" },
      { reason: "x", kind: "percent", value: "100" },
      { reason: "x", kind: "amount", value: "0" },
      { reason: "x", kind: "amount", value: "100" },
    ]);
    expect(r.problems).toEqual([
      { index: 0, field: "reason", code: "required" },
      { index: 1, field: "value", code: "too_large" },
      { index: 2, field: "value", code: "invalid" },
      { index: 3, field: "value", code: "too_large" },
    ]);
  });
});

describe("the approval it needs", () => {
  it("manager up to the limit, the city GM above, HQ risk below the floor", () => {
    const list = 100000000n; // 1,000,000.00
    expect(approvalLevel(list, list, null, "0.02")).toBeNull();
    expect(approvalLevel(list, 98000000n, null, "0.02")).toBe("manager");
    expect(approvalLevel(list, 97999999n, null, "0.02")).toBe("citygm");
    expect(approvalLevel(list, 99000000n, 99500000n, "0.02")).toBe("hqrisk");
  });

  it("the live quote flags the filed price and shows the share", () => {
    const q = liveQuote("1000000", [{ reason: "x", kind: "amount", value: "5000" }], { ...opts, filed: "990000" });
    expect(q).toMatchObject({ finalPrice: "995000.00", discount: "5000.00", share: "0.50", level: "manager", aboveFiled: true });
  });
});
