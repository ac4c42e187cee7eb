import { describe, expect, it } from "vitest";
import { fieldErrors, isStalled, mortgageErrors, pipeline, receiptErrors, type Mortgage } from "./money";

const loan = (over: Partial<Mortgage> = {}): Mortgage => ({
  loan_id: "L1", stage: "awaiting_documents", contract_id: 1, contract_no: "HT-1", bank: "CCB", loan_amount: "1400000.00",
  requested_on: "2026-09-28", documents_due: "2026-10-10", documents_due_basis: "working_days",
  approval_expected_by: null, stage_deadline: "2026-10-10", stalled: false, rejection_cause: null, ...over,
});

describe("the mortgage pipeline", () => {
  it("calls a loan stalled only after its stage's deadline day", () => {
    expect(isStalled(loan(), "2026-10-10")).toBe(false);
    expect(isStalled(loan(), "2026-10-11")).toBe(true);
    expect(isStalled(loan({ stage_deadline: null }), "2030-01-01")).toBe(false);
  });
  it("lists every stage with the stalled loans first", () => {
    const p = pipeline([loan({ loan_id: "A", stage_deadline: "2026-12-20" }), loan({ loan_id: "B" }),
      loan({ loan_id: "C", stage: "under_review", stage_deadline: "2026-12-01" }), loan({ loan_id: "D", stage: "odd" })], "2026-12-03");
    expect(p.map((c) => c.stage)).toEqual(["awaiting_documents", "documents_complete", "signed", "under_review",
      "approved", "registering", "disbursed", "rejected", "odd"]);
    expect(p[0].loans.map((m) => m.loan_id)).toEqual(["B", "A"]);
    expect(p[0].stalled).toBe(1);
    expect(p[3].stalled).toBe(1);
  });
});

describe("the forms", () => {
  it("refuses a receipt before the contract or in the future", () => {
    expect(receiptErrors({ amount: "100.00", received_on: "2026-11-01", reference: "" }, "2026-11-02", "2026-12-03"))
      .toEqual({ received_on: "money_date_before_contract" });
    expect(receiptErrors({ amount: "0", received_on: "2026-12-04", reference: "" }, "2026-11-02", "2026-12-03"))
      .toEqual({ amount: "money_amount_invalid", received_on: "money_date_future" });
    expect(receiptErrors({ amount: "1.5", received_on: "2026-12-03", reference: "" }, "2026-11-02", "2026-12-03")).toEqual({});
  });
  it("checks the mortgage's contract, request date, bank and amount", () => {
    expect(mortgageErrors({ contract_id: null, requested_on: "x", bank: " ", loan_amount: "1.234" }, null, "2026-12-03"))
      .toEqual({ contract_id: "money_contract_required", requested_on: "money_date_invalid", bank: "money_bank_required",
        loan_amount: "money_amount_invalid" });
    expect(mortgageErrors({ contract_id: 1, requested_on: "2026-09-28", bank: "CCB", loan_amount: "1400000" }, "2026-09-10", "2026-12-03")).toEqual({});
  });
  it("maps the server's field errors onto the form", () => {
    expect(fieldErrors([{ field: "body.received_on", message: "before" }, { field: "body.received_on", message: "2nd" }]))
      .toEqual({ received_on: "before" });
  });
});
