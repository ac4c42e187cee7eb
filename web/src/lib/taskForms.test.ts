import { describe, expect, it } from "vitest";
import {
  checkUpload,
  originPrefill,
  collectRevision,
  collectTask,
  emptyRevisionValues,
  emptyTaskValues,
  fieldOf,
  fieldsFor,
  formKind,
  messageText,
  noteLabelKey,
  outcomeEntries,
  outcomeIsRaw,
  serverFieldErrors,
  sortedDeadlines,
  submitLabelKey,
  type TaskValues,
} from "./taskForms";

const values = (over: Partial<TaskValues> = {}): TaskValues => ({ ...emptyTaskValues(), ...over });
const keys = (errors: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(errors).map(([k, v]) => [k, (v as { key?: string }).key]));

describe("formKind and fieldsFor", () => {
  it("picks the assessment form by role", () => {
    expect(formKind("assessment", "finance")).toBe("finance");
    expect(formKind("assessment", "legal")).toBe("legal");
    expect(formKind("assessment", "marketing")).toBe("marketing");
    expect(formKind("contract_cancellation", "legal")).toBe("note");
    expect(formKind("escalation", "manager")).toBe("handled");
    expect(fieldsFor("intake", "frontdesk")).not.toContain("note");
    expect(fieldsFor("solution", "manager")).toContain("offer");
  });

  it("labels the submit button by kind", () => {
    expect(submitLabelKey("intake")).toBe("intake_submit");
    expect(submitLabelKey("review_meeting")).toBe("mark_done");
    expect(submitLabelKey("contract_cancellation")).toBe("cancel_confirm");
    expect(submitLabelKey("archive")).toBe("submit");
    expect(submitLabelKey("dispute")).toBe("mark_done");
    expect(submitLabelKey("refund_payment")).toBe("record_payment");
    expect(submitLabelKey("void_approval")).toBe("submit");
  });

  it("gives the void approval its own form and the dispute the handled form", () => {
    expect(formKind("void_approval", "citygm")).toBe("void_approval");
    expect(fieldsFor("void_approval", "citygm")).toEqual(["approve", "note"]);
    expect(formKind("dispute", "legal")).toBe("handled");
    expect(fieldsFor("dispute", "legal")).toEqual(["note"]);
    expect(fieldsFor("refund_payment", "finance")).toEqual(["amount", "paid_on", "bank_reference", "voucher_evidence_id", "difference_reason"]);
    expect(fieldsFor("review_meeting", "manager")).toEqual(["attendees", "minutes"]);
  });

  it("labels the note by what it means", () => {
    expect(noteLabelKey("escalation")).toBe("handled_escalation");
    expect(noteLabelKey("dispute")).toBe("handled_dispute");
    expect(noteLabelKey("contract_cancellation")).toBe("note");
  });
});

describe("intake", () => {
  it("marks every missing field", () => {
    const out = collectTask("intake", "frontdesk", values({ mobile: "12345", reason_text: "与家人商量" }));
    expect(out.body).toBeNull();
    expect(keys(out.errors)).toEqual({
      id_number: "required", mobile: "invalid_mobile", reasons: "choose_one", willing_to_consider: "required",
    });
  });

  it("checks the ID number and mobile patterns", () => {
    const bad = collectTask("intake", "frontdesk", values({ id_number: "12345", mobile: "23800000000" }));
    expect(keys(bad.errors)).toMatchObject({ id_number: "invalid_id", mobile: "invalid_mobile" });
  });

  it("builds the body, the ID number upper-cased, reasons in form order", () => {
    const out = collectTask("intake", "frontdesk", values({
      id_number: " 11010519491231002x ", mobile: "13800000000 ", reasons: ["other", "family_disagreement"],
      willing_to_consider: "negotiate", reason_text: "  x ", recording_ref: "REC-1", note: "ignored",
    }));
    expect(out.errors).toEqual({});
    expect(out.body).toEqual({
      id_number: "11010519491231002X", mobile: "13800000000", reasons: ["family_disagreement", "other"],
      reason_text: "x", willing_to_consider: "negotiate", recording_ref: "REC-1",
    });
  });
});

describe("finance assessment and revision", () => {
  it("requires the commission and checks money and share", () => {
    const out = collectTask("assessment", "finance", values({ advertising_allocation: "12.345", proposed_share: "1.5" }));
    expect(keys(out.errors)).toEqual({
      commission_accrued: "required", advertising_allocation: "invalid_money", proposed_share: "invalid_share",
    });
  });

  it("keeps money as strings", () => {
    const out = collectTask("assessment", "finance", values({
      commission_accrued: "60000", advertising_allocation: "8000.50", proposed_share: "0.6", contract_confirmed: true, note: "ok",
    }));
    expect(out.body).toEqual({
      commission_accrued: "60000", advertising_allocation: "8000.50", proposed_share: "0.6", contract_confirmed: true, note: "ok",
    });
  });

  it("accepts the share's edges and refuses beyond them", () => {
    for (const s of ["0", "0.6543", "1", "1.0000"]) expect(collectRevision({ ...emptyRevisionValues(), commission_accrued: "1", proposed_share: s }).body).not.toBeNull();
    for (const s of ["1.01", "0.12345", "-0.1", ".5"]) expect(collectRevision({ ...emptyRevisionValues(), commission_accrued: "1", proposed_share: s }).errors.proposed_share).toEqual({ key: "invalid_share" });
  });

  it("a revision has no contract_confirmed", () => {
    const out = collectRevision({ ...emptyRevisionValues(), commission_accrued: "61000", advertising_allocation: "8000.50", proposed_share: "0.6" });
    expect(out.body).toEqual({ commission_accrued: "61000", advertising_allocation: "8000.50", proposed_share: "0.6" });
    expect(keys(collectRevision(emptyRevisionValues()).errors)).toEqual({ commission_accrued: "required" });
  });

  it("refuses more than ten digits or two decimals", () => {
    expect(collectRevision({ ...emptyRevisionValues(), commission_accrued: "12345678901" }).errors.commission_accrued).toEqual({ key: "invalid_money" });
    expect(collectRevision({ ...emptyRevisionValues(), commission_accrued: "1234567890.12" }).body).not.toBeNull();
  });
});

describe("legal, marketing and the GM", () => {
  it("legal must state the fault", () => {
    expect(keys(collectTask("assessment", "legal", values()).errors)).toEqual({ fault: "required" });
    expect(collectTask("assessment", "legal", values({ fault: "buyer", note: "n" })).body).toEqual({ fault: "buyer", note: "n" });
  });

  it("marketing must rate the risk; the flags are booleans", () => {
    expect(keys(collectTask("assessment", "marketing", values()).errors)).toEqual({ opinion_risk: "required" });
    expect(collectTask("assessment", "marketing", values({ opinion_risk: "low", media_involved: true })).body).toEqual({
      opinion_risk: "low", media_involved: true, group_complaint: false,
    });
  });

  it("the GM approves or rejects", () => {
    expect(keys(collectTask("gm_approval", "citygm", values()).errors)).toEqual({ approve: "required" });
    expect(collectTask("gm_approval", "citygm", values({ approve: "true" })).body).toEqual({ approve: true });
    expect(collectTask("gm_approval", "citygm", values({ approve: "false" })).body).toEqual({ approve: false });
  });
});

describe("solution", () => {
  it("needs two options", () => {
    const out = collectTask("solution", "manager", values({ offer: ["B"] }));
    expect(keys(out.errors)).toEqual({ offer: "choose_two" });
  });

  it("needs a compensation for A, which may be 0 (the buyer simply continues)", () => {
    expect(keys(collectTask("solution", "manager", values({ offer: ["A", "B"] })).errors)).toEqual({ compensation: "required" });
    expect(keys(collectTask("solution", "manager", values({ offer: ["A", "B"], compensation: "12.345" })).errors)).toEqual({ compensation: "invalid_money" });
    expect(keys(collectTask("solution", "manager", values({ offer: ["A", "B"], compensation: "-1" })).errors)).toEqual({ compensation: "invalid_money" });
    for (const zero of ["0", "0.00"]) {
      const out = collectTask("solution", "manager", values({ offer: ["A", "B"], compensation: zero }));
      expect(out.errors).toEqual({});
      expect(out.body).toEqual({ options: [{ kind: "A", description: "", compensation: zero }, { kind: "B", description: "" }] });
    }
  });

  it("builds the options in A, B, C order", () => {
    const out = collectTask("solution", "manager", values({
      offer: ["C", "A"], compensation: "12000", desc_A: " 物业费减免两年 ", desc_B: "not offered", fee_waiver: true, note: "none",
    }));
    expect(out.body).toEqual({
      options: [
        { kind: "A", description: "物业费减免两年", compensation: "12000" },
        { kind: "C", description: "", fee_waiver: true },
      ],
    });
  });
});

describe("choice and archive", () => {
  it("needs an option, and a replacement buyer for C", () => {
    expect(keys(collectTask("choice", "manager", values()).errors)).toEqual({ option: "required" });
    expect(keys(collectTask("choice", "manager", values({ option: "C", new_customer_id: "x1" })).errors)).toEqual({ new_customer_id: "required" });
    expect(collectTask("choice", "manager", values({ option: "C", new_customer_id: "42" })).body).toEqual({ option: "C", new_customer_id: 42 });
    expect(collectTask("choice", "manager", values({ option: "B", new_customer_id: "42" })).body).toEqual({ option: "B" });
  });

  it("records that the buyer refused every option: refused and the note only, nothing else asked", () => {
    expect(collectTask("choice", "frontdesk", values({ option: "refused", note: " 都不接受 ", new_customer_id: "x" })))
      .toEqual({ body: { refused: true, note: "都不接受" }, errors: {} });
    expect(collectTask("choice", "manager", values({ option: "refused" })).body).toEqual({ refused: true });
    // a real option never carries `refused`
    expect(collectTask("choice", "manager", values({ option: "A" })).body).toEqual({ option: "A" });
  });

  it("the void approval approves or rejects, with a note", () => {
    expect(keys(collectTask("void_approval", "citygm", values({ note: "x" })).errors)).toEqual({ approve: "required" });
    expect(collectTask("void_approval", "citygm", values({ approve: "false", note: " 登记无误 " })).body).toEqual({ approve: false, note: "登记无误" });
    expect(collectTask("void_approval", "manager", values({ approve: "true" })).body).toEqual({ approve: true });
  });

  it("the archive needs a summary", () => {
    expect(keys(collectTask("archive", "manager", values()).errors)).toEqual({ summary: "required" });
    expect(collectTask("archive", "manager", values({ summary: "s" })).body).toEqual({ summary: "s", lessons: "" });
  });

  it("other kinds send the note only", () => {
    expect(collectTask("contract_cancellation", "legal", values({ note: " done " })).body).toEqual({ note: "done" });
    expect(collectTask("contract_cancellation", "legal", values()).body).toEqual({});
  });
});

describe("tasks recorded in the database only", () => {
  it("an escalation and a dispute need what was done", () => {
    for (const kind of ["escalation", "dispute"]) {
      expect(keys(collectTask(kind, "legal", values({ note: "  " })).errors)).toEqual({ note: "required" });
      expect(collectTask(kind, "legal", values({ note: " 已致电客户 " }))).toEqual({ body: { note: "已致电客户" }, errors: {} });
    }
  });

  it("a review meeting needs its attendees and minutes, nothing else", () => {
    expect(keys(collectTask("review_meeting", "manager", values({ note: "x" })).errors)).toEqual({ attendees: "choose_one", minutes: "required" });
    expect(collectTask("review_meeting", "manager", values({ attendees: [3, 7, 3], minutes: " 复盘纪要 ", note: "ignored" })))
      .toEqual({ body: { attendees: [3, 7], minutes: "复盘纪要" }, errors: {} });
  });

  describe("a refund payment", () => {
    const paid = (over: Partial<TaskValues> = {}) =>
      values({ amount: "12000.00", paid_on: "2026-03-02", bank_reference: " HX-001 ", ...over });
    const ctx = { instructed: "12000.00", today: "2026-03-02" };

    it("sends the instructed amount without a reason", () => {
      expect(collectTask("refund_payment", "finance", paid({ difference_reason: "left over", note: "n" }), ctx)).toEqual({
        body: { amount: "12000.00", paid_on: "2026-03-02", bank_reference: "HX-001" }, errors: {},
      });
      expect(collectTask("refund_payment", "finance", paid({ amount: "12000", voucher_evidence_id: 9 }), ctx).body)
        .toEqual({ amount: "12000", paid_on: "2026-03-02", bank_reference: "HX-001", voucher_evidence_id: 9 });
    });

    it("needs the amount, the date and the bank's reference", () => {
      expect(keys(collectTask("refund_payment", "finance", values(), ctx).errors)).toEqual({
        amount: "required", paid_on: "required", bank_reference: "required",
      });
      expect(keys(collectTask("refund_payment", "finance", paid({ amount: "12.345", paid_on: "2026-02-30" }), ctx).errors))
        .toEqual({ amount: "invalid_money", paid_on: "invalid_date" });
      expect(keys(collectTask("refund_payment", "finance", paid({ amount: "0.00" }), ctx).errors)).toEqual({ amount: "amount_above_zero" });
    });

    it("refuses a date after today in China", () => {
      expect(keys(collectTask("refund_payment", "finance", paid({ paid_on: "2026-03-03" }), ctx).errors)).toEqual({ paid_on: "date_in_future" });
      expect(collectTask("refund_payment", "finance", paid({ paid_on: "2026-03-01" }), ctx).errors).toEqual({});
    });

    it("needs a reason when the amount is not the instruction's", () => {
      expect(keys(collectTask("refund_payment", "finance", paid({ amount: "11000" }), ctx).errors)).toEqual({ difference_reason: "difference_reason_required" });
      expect(collectTask("refund_payment", "finance", paid({ amount: "11000", difference_reason: " 扣除手续费 " }), ctx).body)
        .toEqual({ amount: "11000", paid_on: "2026-03-02", bank_reference: "HX-001", difference_reason: "扣除手续费" });
    });

    it("sends a reason typed when the instruction is unknown: the server decides", () => {
      expect(collectTask("refund_payment", "finance", paid({ difference_reason: "r" }), { today: "2026-03-02" }).body)
        .toMatchObject({ difference_reason: "r" });
      expect(collectTask("refund_payment", "finance", paid(), { today: "2026-03-02" }).errors).toEqual({});
    });
  });
});

describe("server refusals", () => {
  const intake = fieldsFor("intake", "frontdesk");

  it("maps field paths", () => {
    expect(fieldOf("body.mobile")).toBe("mobile");
    expect(fieldOf("body.options.0.compensation")).toBe("compensation");
    expect(fieldOf("body.options.1.kind")).toBe("offer");
    expect(fieldOf("body.options")).toBe("offer");
    expect(fieldOf("body")).toBe("");
  });

  it("places field errors of this form only", () => {
    const out = serverFieldErrors({
      status: 422, message: "invalid", errors: [
        { field: "body.mobile", message: "String should have at most 20 characters" },
        { field: "body.summary", message: "not on this form" },
      ],
    }, intake);
    expect(out).toEqual({ mobile: { server: "String should have at most 20 characters", invalid: true } });
  });

  it("places a 422 message by what it names", () => {
    const msg = "the mobile number does not match the buyer on record";
    expect(serverFieldErrors({ status: 422, message: msg }, intake)).toEqual({ mobile: { server: msg } });
    expect(serverFieldErrors({ status: 422, message: "the ID number does not match the buyer on record" }, intake))
      .toEqual({ id_number: { server: "the ID number does not match the buyer on record" } });
    expect(serverFieldErrors({ status: 422, message: "give the options offered to the buyer (at least two)" }, fieldsFor("solution", "manager")))
      .toEqual({ offer: { server: "give the options offered to the buyer (at least two)" } });
    expect(serverFieldErrors({ status: 422, message: "customer 9 does not exist; register the replacement buyer first" }, fieldsFor("choice", "manager")))
      .toEqual({ new_customer_id: { server: "customer 9 does not exist; register the replacement buyer first" } });
  });

  it("places the payment's and the meeting's refusals", () => {
    const pay = fieldsFor("refund_payment", "finance");
    const reason = "the instruction is for 12000.00; a payment of 11000.00 needs a reason, and a second person approves it";
    expect(serverFieldErrors({ status: 422, message: reason }, pay)).toEqual({ difference_reason: { server: reason } });
    expect(serverFieldErrors({ status: 422, message: "the payment date 2026-09-01 is in the future" }, pay))
      .toEqual({ paid_on: { server: "the payment date 2026-09-01 is in the future" } });
    expect(serverFieldErrors({ status: 422, message: "give the bank's reference (流水号)" }, pay))
      .toEqual({ bank_reference: { server: "give the bank's reference (流水号)" } });
    expect(serverFieldErrors({ status: 422, message: "evidence 4 is not a file of this case" }, pay))
      .toEqual({ voucher_evidence_id: { server: "evidence 4 is not a file of this case" } });
    expect(serverFieldErrors({ status: 409, message: "this case has no refund instruction" }, pay)).toEqual({});
    const meeting = fieldsFor("review_meeting", "manager");
    expect(serverFieldErrors({ status: 422, message: "user 41 does not exist" }, meeting)).toEqual({ attendees: { server: "user 41 does not exist" } });
    expect(serverFieldErrors({ status: 422, message: "write the meeting's minutes" }, meeting)).toEqual({ minutes: { server: "write the meeting's minutes" } });
    expect(serverFieldErrors({ status: 422, message: "say what was done about the missed deadline" }, fieldsFor("escalation", "manager")))
      .toEqual({ note: { server: "say what was done about the missed deadline" } });
  });

  it("leaves other refusals to the banner", () => {
    expect(serverFieldErrors({ status: 409, message: "task 3 was already completed by 王五 at 2026-01-01 10:00:00" }, intake)).toEqual({});
    expect(serverFieldErrors({ status: 422, message: "something about a summary" }, intake)).toEqual({});
  });
});

describe("messages, uploads, outcome and deadlines", () => {
  const t = (key: string, params?: Record<string, string | number>) => `${key}${params && Object.keys(params).length ? JSON.stringify(params) : ""}`;
  const server = (s: string) => `zh(${s})`;

  it("renders field messages", () => {
    expect(messageText({ key: "required" }, t, server)).toBe("required");
    expect(messageText({ key: "file_too_big", params: { mb: 10 } }, t, server)).toBe('file_too_big{"mb":10}');
    expect(messageText({ server: "x" }, t, server)).toBe("zh(x)");
    expect(messageText({ server: "x", invalid: true }, t, server)).toBe("invalid：x");
    expect(messageText(undefined, t, server)).toBeUndefined();
  });

  it("checks a file before upload", () => {
    expect(checkUpload(null)).toEqual({ key: "required" });
    expect(checkUpload({ type: "text/plain", size: 1 })).toEqual({ key: "file_type_bad" });
    expect(checkUpload({ type: "image/png", size: 10 * 1024 * 1024 + 1 })).toEqual({ key: "file_too_big", params: { mb: 10 } });
    expect(checkUpload({ type: "application/pdf", size: 10 * 1024 * 1024 })).toBeNull();
  });

  it("orders the outcome and drops empty values", () => {
    expect(outcomeEntries({ note: "", refund_amount: "30000.00", path: "B", extra: 1 })).toEqual([
      ["path", "B"], ["refund_amount", "30000.00"], ["extra", 1],
    ]);
    expect(outcomeEntries(null)).toEqual([]);
    expect(outcomeEntries({ path: "withdrawn", reason: "客户改主意", evidence_ids: [] })).toEqual([
      ["path", "withdrawn"], ["reason", "客户改主意"],
    ]);
    expect(outcomeEntries({ note: "n", rounds: 2, reason: "the buyer refused every offer", path: "legal" }).map(([k]) => k))
      .toEqual(["path", "reason", "rounds", "note"]);
  });

  it("keeps what a person typed as it is, and translates the workflow's own reasons", () => {
    expect(outcomeIsRaw("reason", "客户改主意")).toBe(true);
    expect(outcomeIsRaw("reason", "the buyer refused every offer")).toBe(false);
    expect(outcomeIsRaw("reason", "city GM did not approve a site settlement")).toBe(false);
    expect(outcomeIsRaw("note", "x")).toBe(true);
    expect(outcomeIsRaw("requested_by", "manager")).toBe(true);
    expect(outcomeIsRaw("path", "withdrawn")).toBe(false);
  });

  it("orders the deadlines by stage", () => {
    expect(sortedDeadlines({ archive: "d", solution: "c", intake: "a", assessment: "b" }).map(([k]) => k))
      .toEqual(["intake", "assessment", "solution", "archive"]);
  });
});

describe("originPrefill", () => {
  const t = (key: string, params?: Record<string, string>) => `${key}${params?.cause ? `|${params.cause}` : ""}`;
  it("starts a mortgage rejection's intake from its cause", () => {
    expect(originPrefill("loan_rejected: 征信记录不良: 逾期", t)).toEqual({
      reasons: ["funds_shortfall"], reason_text: "origin_text.loan_rejected|征信记录不良: 逾期",
    });
  });
  it("knows the payment follow-up's origins and nothing else", () => {
    expect(originPrefill("inability", t)?.reasons).toEqual(["funds_shortfall"]);
    expect(originPrefill("transfer_intent", t)?.reasons).toEqual(["other"]);
    expect(originPrefill(null, t)).toBeNull();
    expect(originPrefill("api", t)).toBeNull();
  });
});
