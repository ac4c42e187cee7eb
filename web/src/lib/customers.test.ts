import { describe, expect, it } from "vitest";
import {
  collectFollowUp,
  collectNeeds,
  emptyFollowUp,
  fen,
  groupByState,
  importRefusals,
  needsValues,
  overrideError,
  overriddenFields,
  prefillLoss,
  type LossEstimate,
  type NeedsValues,
} from "@/lib/customers";
import { collectTask, emptyTaskValues, fieldsFor } from "@/lib/taskForms";

const keys = (errors: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(errors).map(([k, v]) => [k, (v as { key?: string }).key]));

describe("the consultant's list", () => {
  it("groups in the server's order and leaves empty groups out", () => {
    const items = [
      { id: 1, appointment_state: "overdue" as const },
      { id: 2, appointment_state: "due_today" as const },
      { id: 3, appointment_state: "none" as const },
      { id: 4, appointment_state: "overdue" as const },
    ];
    expect(groupByState(items).map(([s, v]) => [s, v.map((x) => x.id)])).toEqual([
      ["overdue", [1, 4]], ["due_today", [2]], ["none", [3]],
    ]);
    expect(groupByState([])).toEqual([]);
  });
});

describe("money as fen", () => {
  it("reads decimal strings exactly", () => {
    expect(fen("1234.5")).toBe(123450n);
    expect(fen(" 0.07 ")).toBe(7n);
    expect(fen("4000000")).toBe(400000000n);
    expect(fen("1.234")).toBeNull();
    expect(fen("-1")).toBeNull();
    expect(fen("")).toBeNull();
  });
});

describe("the quick follow-up", () => {
  const now = new Date("2026-03-02T02:00:00Z");

  it("needs a note or a next appointment, and the appointment in the future", () => {
    expect(keys(collectFollowUp(emptyFollowUp(), now).errors)).toEqual({ note: "cust_note_or_appointment" });
    expect(keys(collectFollowUp({ channel: "phone", note: "", next_at: "2026-03-01T09:00Z" }, now).errors))
      .toEqual({ next_at: "cust_appointment_future" });
    expect(keys(collectFollowUp({ channel: "phone", note: "x", next_at: "not a time" }, now).errors)).toEqual({ next_at: "cust_bad_time" });
  });

  it("sends the appointment as an instant", () => {
    const out = collectFollowUp({ channel: "wechat", note: " 约周六看房 ", next_at: "2026-03-07T10:00:00+08:00" }, now);
    expect(out.errors).toEqual({});
    expect(out.body).toEqual({ channel: "wechat", note: "约周六看房", next_appointment_at: "2026-03-07T02:00:00.000Z" });
  });
});

describe("the needs form", () => {
  const v = (over: Partial<NeedsValues> = {}): NeedsValues => ({ ...needsValues(null), ...over });

  it("builds the body with nulls for empty amounts and layouts split on any separator", () => {
    const out = collectNeeds(v({ budget_min: "3000000", layouts: "三室两厅、四室, 三室两厅", purpose: "upgrade",
      concerns: ["delivery", "school_district"], note: " 学区优先 " }));
    expect(out.errors).toEqual({});
    expect(out.body).toEqual({
      budget_min: "3000000", budget_max: null, area_min: null, area_max: null, layouts: ["三室两厅", "四室"],
      purpose: "upgrade", concerns: ["school_district", "delivery"], note: "学区优先",
    });
  });

  it("names every bad field", () => {
    const out = collectNeeds(v({ budget_min: "5000000", budget_max: "4000000", area_min: "0", area_max: "abc",
      layouts: "x".repeat(40) }));
    expect(out.body).toBeNull();
    expect(keys(out.errors)).toEqual({ area_min: "cust_bad_area", area_max: "cust_bad_area", budget_max: "cust_budget_order",
      layouts: "cust_too_long" });
    expect(keys(collectNeeds(v({ area_min: "120", area_max: "89.5" })).errors)).toEqual({ area_max: "cust_area_order" });
  });

  it("starts from what was recorded", () => {
    const n = needsValues({ budget_min: "1.00", budget_max: null, layouts: ["a", "b"], area_min: null, area_max: "90.00",
      purpose: null, concerns: ["price"], note: "" });
    expect(n.layouts).toBe("a、b");
    expect(n.purpose).toBe("");
    expect(collectNeeds(n).body?.layouts).toEqual(["a", "b"]);
  });
});

describe("an import's refusal", () => {
  it("lists the bad cells by line, then column; items without a line are not rows", () => {
    expect(importRefusals([
      { field: "mobile", message: "m", line: 4 },
      { field: "name", message: "n", line: 2 },
      { field: "budget_max", message: "b", line: 4 },
      { field: "body", message: "x" },
    ])).toEqual([
      { line: 2, field: "name", message: "n" },
      { line: 4, field: "budget_max", message: "b" },
      { line: 4, field: "mobile", message: "m" },
    ]);
    expect(importRefusals(undefined)).toEqual([]);
  });
});

describe("finance's loss from the records", () => {
  const est = (c: string, a: string, o: string): LossEstimate => ({
    case_id: "x", unit_id: 1, contract_id: 2, price: "2000000.00", until: "2026-03-02", total: "0",
    commission_accrued: { amount: c, how: "", how_en: "", lines: [] },
    advertising_allocation: { amount: a, how: "", how_en: "", lines: [] },
    opportunity_cost: { amount: o, how: "", how_en: "", lines: [] },
  });
  const figures = { commission_accrued: "20000.00", advertising_allocation: "1500.00", opportunity_cost: "200.00" };

  it("prefills only the empty fields", () => {
    const values = { commission_accrued: "", advertising_allocation: "999", opportunity_cost: " " };
    expect(prefillLoss(values, est("20000.00", "1500.00", "200.00"))).toEqual(["commission_accrued", "opportunity_cost"]);
    expect(values).toEqual({ commission_accrued: "20000.00", advertising_allocation: "999", opportunity_cost: "200.00" });
  });

  it("compares amounts, not spellings, and an empty field as 0", () => {
    expect(overriddenFields({ commission_accrued: "20000", advertising_allocation: "1500.0", opportunity_cost: "200.00" }, figures)).toEqual([]);
    expect(overriddenFields({ commission_accrued: "21000", advertising_allocation: "", opportunity_cost: "200" }, figures))
      .toEqual(["commission_accrued", "advertising_allocation"]);
    expect(overriddenFields({ commission_accrued: "1", advertising_allocation: "", opportunity_cost: "" }, null)).toEqual([]);
    expect(overrideError({ ...figures, commission_accrued: "1" }, figures, " ")).toEqual({ key: "loss_override_reason_required" });
    expect(overrideError({ ...figures, commission_accrued: "1" }, figures, "已与渠道协商")).toBeNull();
  });

  it("asks the assessment for the reason and sends it as override_reason", () => {
    const v = { ...emptyTaskValues(), ...figures, contract_confirmed: true, loss_estimate: figures };
    expect(collectTask("assessment", "finance", v).body).toEqual({ ...figures, contract_confirmed: true });
    const over = { ...v, commission_accrued: "60000" };
    expect(keys(collectTask("assessment", "finance", over).errors)).toEqual({ override_reason: "loss_override_reason_required" });
    expect(collectTask("assessment", "finance", { ...over, override_reason: " 渠道佣金已支付 " }).body)
      .toEqual({ ...figures, commission_accrued: "60000", contract_confirmed: true, override_reason: "渠道佣金已支付" });
    // Without an estimate (none could be had) nothing is asked.
    expect(collectTask("assessment", "finance", { ...over, loss_estimate: null }).errors).toEqual({});
    expect(fieldsFor("assessment", "finance")).toContain("override_reason");
  });
});
