import { describe, expect, it } from "vitest";
import {
  amountDiffers,
  chinaToday,
  escalationTexts,
  isIsoDate,
  mayApprove,
  normalMoney,
  paymentOf,
  reasonRequired,
  refundStatusKey,
  stepMessageKey,
  withPayment,
  type RefundInstruction,
} from "./refunds";

const row = (over: Partial<RefundInstruction> = {}): RefundInstruction => ({
  id: 1, case_id: "c-1", case_no: "RC-1", customer_name: "张*", amount: "12000.00", share: "0.6", route: "tier",
  policy_version: "v1", status: "issued", created_at: "2026-03-01T02:00:00Z", ...over,
});

describe("status words", () => {
  it("knows issued, pending_approval and paid; anything else is shown as it came", () => {
    expect(refundStatusKey("issued")).toBe("refund_statuses.issued");
    expect(refundStatusKey("pending_approval")).toBe("refund_statuses.pending_approval");
    expect(refundStatusKey("paid")).toBe("refund_statuses.paid");
    expect(refundStatusKey("cancelled")).toBeNull();
    expect(refundStatusKey("")).toBeNull();
  });
});

describe("approving a difference", () => {
  it("is offered to finance and the manager, only while one waits", () => {
    expect(mayApprove(row({ status: "pending_approval" }), ["finance"])).toBe(true);
    expect(mayApprove(row({ status: "pending_approval" }), ["sales", "manager"])).toBe(true);
    expect(mayApprove(row({ status: "pending_approval" }), ["citygm", "ops"])).toBe(false);
    expect(mayApprove(row({ status: "pending_approval" }), undefined)).toBe(false);
    expect(mayApprove(row({ status: "issued" }), ["finance"])).toBe(false);
    expect(mayApprove(row({ status: "paid" }), ["manager"])).toBe(false);
  });

  it("takes the server's answer into the row", () => {
    const out = { id: 1, case_id: "c-1", status: "paid", amount: "12000.00", paid_amount: "11000.00", paid_on: "2026-03-02", bank_reference: "HX-1" };
    expect(withPayment(row({ status: "pending_approval" }), out)).toMatchObject({
      status: "paid", paid_amount: "11000.00", paid_on: "2026-03-02", bank_reference: "HX-1", case_no: "RC-1",
    });
  });

  it("shows a payment only when one was recorded", () => {
    expect(paymentOf(row())).toBeNull();
    expect(paymentOf(row({ paid_amount: null, paid_on: null, bank_reference: null }))).toBeNull();
    expect(paymentOf(row({ paid_amount: "12000.00", paid_on: "2026-03-02", bank_reference: "HX-1" })))
      .toEqual({ amount: "12000.00", paid_on: "2026-03-02", bank_reference: "HX-1" });
  });
});

describe("the amount paid against the instruction", () => {
  it("compares decimals by their digits", () => {
    expect(normalMoney("012000.50")).toBe("12000.5");
    expect(normalMoney("12000.00")).toBe("12000");
    expect(normalMoney("0.10")).toBe("0.1");
    expect(normalMoney("1e4")).toBeNull();
    expect(normalMoney("")).toBeNull();
    expect(amountDiffers("12000", "12000.00")).toBe(false);
    expect(amountDiffers(" 12000.0 ", "12000.00")).toBe(false);
    expect(amountDiffers("11999.99", "12000.00")).toBe(true);
    expect(amountDiffers("120000", "12000.00")).toBe(true);
  });

  it("asks for a reason only when a valid amount is not the instruction's", () => {
    expect(reasonRequired("12000.00", "12000.00")).toBe(false);
    expect(reasonRequired("11000", "12000.00")).toBe(true);
    expect(reasonRequired("", "12000.00")).toBe(false); // the amount itself is missing: that is its own error
    expect(reasonRequired("abc", "12000.00")).toBe(false);
    expect(reasonRequired("12.345", "12000.00")).toBe(false); // not an amount: its own error comes first
    expect(reasonRequired("0.00", "12000.00")).toBe(false);
    expect(reasonRequired("11000", null)).toBe(false); // unknown instruction: the server decides
  });
});

describe("dates", () => {
  it("today is China's date, whatever the browser's zone", () => {
    expect(chinaToday(new Date("2026-03-01T16:30:00Z"))).toBe("2026-03-02"); // 00:30 in Beijing
    expect(chinaToday(new Date("2026-03-01T15:59:59Z"))).toBe("2026-03-01");
    expect(chinaToday(new Date("2026-12-31T16:00:00Z"))).toBe("2027-01-01");
  });

  it("accepts real calendar dates only", () => {
    expect(isIsoDate("2026-02-28")).toBe(true);
    expect(isIsoDate("2028-02-29")).toBe(true);
    expect(isIsoDate("2026-02-29")).toBe(false);
    expect(isIsoDate("2026-13-01")).toBe(false);
    expect(isIsoDate("2026-3-1")).toBe(false);
    expect(isIsoDate("")).toBe(false);
  });
});

describe("the answer of a completed step", () => {
  it("words a refund paid, or waiting for a second person", () => {
    expect(stepMessageKey("refund paid")).toBe("step_messages.refund_paid");
    expect(stepMessageKey("payment recorded; a second person must approve the difference")).toBe("step_messages.payment_pending_approval");
    expect(stepMessageKey("escalation done")).toBeNull();
    expect(stepMessageKey(undefined)).toBeNull();
  });
});

describe("escalationTexts", () => {
  const words: Record<string, string> = {
    "escalation_codes.loss_over_threshold": "经济损失 {loss}，超过 {threshold}",
    "escalation_codes.media_involved": "涉及媒体",
  };
  const t = (key: string, params?: Record<string, string>) =>
    words[key].replace(/\{(\w+)\}/g, (_, k: string) => params?.[k] ?? "");
  const te = (key: string) => key in words;
  const money = (v: string) => `¥${v}`;

  it("words each reason by its code with its amounts formatted", () => {
    const codes = [
      { code: "escalation.loss_over_threshold", params: { loss: "60000.00", threshold: "50000" } },
      { code: "escalation.media_involved", params: {} },
    ];
    expect(escalationTexts(codes, t, te, money)).toEqual(["经济损失 ¥60000.00，超过 ¥50000", "涉及媒体"]);
  });

  it("shows an unknown code as it is", () => {
    expect(escalationTexts([{ code: "escalation.new_rule", params: {} }], t, te, money)).toEqual(["escalation.new_rule"]);
  });
});
