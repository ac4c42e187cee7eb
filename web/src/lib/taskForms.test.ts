import { describe, expect, it } from "vitest";
import {
  checkUpload,
  collectRevision,
  collectTask,
  emptyRevisionValues,
  emptyTaskValues,
  fieldOf,
  fieldsFor,
  formKind,
  messageText,
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
    expect(formKind("escalation", "manager")).toBe("note");
    expect(fieldsFor("intake", "frontdesk")).not.toContain("note");
    expect(fieldsFor("solution", "manager")).toContain("offer");
  });

  it("labels the submit button by kind", () => {
    expect(submitLabelKey("intake")).toBe("intake_submit");
    expect(submitLabelKey("review_meeting")).toBe("mark_done");
    expect(submitLabelKey("contract_cancellation")).toBe("cancel_confirm");
    expect(submitLabelKey("archive")).toBe("submit");
    expect(submitLabelKey("dispute")).toBe("mark_done");
    expect(submitLabelKey("void_approval")).toBe("submit");
  });

  it("gives the void approval its own form and the dispute the note form", () => {
    expect(formKind("void_approval", "citygm")).toBe("void_approval");
    expect(fieldsFor("void_approval", "citygm")).toEqual(["approve", "note"]);
    expect(formKind("dispute", "legal")).toBe("note");
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
    expect(collectTask("review_meeting", "manager", values()).body).toEqual({});
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
