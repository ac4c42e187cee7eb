import { describe, expect, it } from "vitest";
import type { Me } from "./access";
import {
  actionKey,
  actionPath,
  caseActions,
  collectCorrection,
  collectReason,
  correctionValues,
  entryNote,
  historyExpired,
  caseEntries,
  rolesIn,
  type CaseFacts,
} from "./caseActions";

function me(login: string, roles: string[], projectId = 3): Me {
  return {
    id: 7, username: login, display_name: login, employee_no: null, mobile_masked: null, primary_role: roles[0],
    must_change_password: false, roles, actions: ["cases"], memberships: [],
    projects: [{ id: projectId, name: "滨江府", city_company_id: 1, city_company_name: "杭州公司", roles, actions: ["cases"] }],
  };
}

const FINANCE = { by: "finance", loss: { commission_accrued: "60000.00", advertising_allocation: "8000.50", opportunity_cost: "0.00", total: "68000.50" }, proposed_share: "0.6", contract_confirmed: true, note: "财务意见" };
const LEGAL = { by: "legal", fault: "buyer", note: "" };
const MARKETING = { by: "marketing", opinion_risk: "medium", media_involved: true, group_complaint: false, note: "m" };

function theCase(over: Partial<CaseFacts> = {}): CaseFacts {
  return { stage: "intake", project_id: 3, assessments: {}, open_tasks: [], options: [], outcome: {}, ...over };
}

const kinds = (c: CaseFacts, who: Me) => caseActions(c, who).map(actionKey);

describe("rolesIn", () => {
  it("names the roles held in the case's project only", () => {
    expect(rolesIn(me("m", ["manager"]), 3)).toEqual(["manager"]);
    expect(rolesIn(me("m", ["manager"]), 5)).toEqual([]);
    expect(rolesIn(null, 3)).toEqual([]);
  });
});

describe("caseActions", () => {
  it("offers the front desk a withdrawal before the outcome, and nothing else", () => {
    const fd = me("frontdesk", ["frontdesk"]);
    for (const stage of ["intake", "assessment", "gm_approval", "solution", "choice"]) {
      expect(kinds(theCase({ stage, assessments: { finance: FINANCE } }), fd)).toEqual(["withdraw"]);
    }
    for (const stage of ["contract_cancellation", "archive", "closed"]) expect(kinds(theCase({ stage }), fd)).toEqual([]);
  });

  it("offers nothing once the case has an outcome, whatever its stage says", () => {
    expect(kinds(theCase({ stage: "choice", outcome: { path: "withdrawn" } }), me("m", ["manager"]))).toEqual([]);
  });

  it("offers the manager withdraw, void and a return for each assessment given, before the offer", () => {
    const m = me("manager", ["manager"]);
    expect(kinds(theCase({ stage: "intake" }), m)).toEqual(["withdraw", "void"]);
    expect(kinds(theCase({ stage: "assessment", assessments: { legal: LEGAL, finance: FINANCE } }), m))
      .toEqual(["withdraw", "void", "return-finance", "return-legal"]);
    // offered: no return any more; the buyer's answer is still awaited, so withdraw and void stay
    expect(kinds(theCase({ stage: "choice", assessments: { finance: FINANCE }, options: [{ kind: "A" }, { kind: "B" }] }), m))
      .toEqual(["withdraw", "void"]);
    // a solution stage with an offer on the table (after a loss revision moved it) is not before the offer
    expect(kinds(theCase({ stage: "gm_approval", assessments: { finance: FINANCE }, options: [{ kind: "B" }] }), m))
      .toEqual(["withdraw", "void"]);
  });

  it("offers no second void while one waits for approval", () => {
    const waiting = { id: 9, case_id: "c", case_no: "R-1", kind: "void_approval", role: "citygm", title: "作废审批", due_at: null };
    expect(kinds(theCase({ open_tasks: [waiting] }), me("manager", ["manager"]))).toEqual(["withdraw"]);
  });

  it("offers the city GM none of them: they decide a void in its task, they do not ask for one", () => {
    expect(kinds(theCase({ stage: "assessment", assessments: { finance: FINANCE } }), me("citygm", ["citygm"]))).toEqual([]);
  });

  it("offers a correction to the assessor who gave it only, before the offer", () => {
    const c = theCase({ stage: "gm_approval", assessments: { finance: FINANCE, legal: LEGAL } });
    expect(kinds(c, me("finance", ["finance"]))).toEqual(["correct-finance"]);
    expect(kinds(c, me("finance2", ["finance"]))).toEqual([]); // a colleague of the department
    expect(kinds(c, me("legal", ["legal"]))).toEqual(["correct-legal"]);
    expect(kinds(theCase({ stage: "intake", assessments: { finance: FINANCE } }), me("finance", ["finance"]))).toEqual([]);
    expect(kinds({ ...c, options: [{ kind: "B" }] }, me("finance", ["finance"]))).toEqual([]);
    expect(kinds({ ...c, project_id: 5 }, me("finance", ["finance"]))).toEqual([]); // not their project
  });

  it("offers a person with two roles what each allows", () => {
    const c = theCase({ stage: "solution", assessments: { marketing: MARKETING } });
    expect(kinds(c, me("marketing", ["manager", "marketing"]))).toEqual(["withdraw", "void", "return-marketing", "correct-marketing"]);
  });

  it("offers nothing before /api/me answered", () => {
    expect(caseActions(theCase(), null)).toEqual([]);
    expect(caseActions(null, me("m", ["manager"]))).toEqual([]);
  });
});

describe("what each action sends", () => {
  it("goes to the case's own address", () => {
    expect(actionPath("abc", { kind: "withdraw" })).toBe("/api/refund-cases/abc/withdraw");
    expect(actionPath("abc", { kind: "void" })).toBe("/api/refund-cases/abc/void");
    expect(actionPath("abc", { kind: "return", dept: "legal" })).toBe("/api/refund-cases/abc/assessments/legal/return");
    expect(actionPath("abc", { kind: "correct", dept: "finance" })).toBe("/api/refund-cases/abc/assessments/finance/correct");
  });

  it("needs a reason, trimmed, at most 2000 characters", () => {
    expect(collectReason("withdraw", "   ")).toEqual({ body: null, errors: { reason: { key: "required" } } });
    expect(collectReason("void", "x".repeat(2001)).errors).toEqual({ reason: { key: "too_long", params: { n: 2000 } } });
    expect(collectReason("return", " 数据有误 ").body).toEqual({ reason: "数据有误" });
  });

  it("names evidence files for a withdrawal only, each once", () => {
    expect(collectReason("withdraw", "客户改主意", [5, 2, 5]).body).toEqual({ reason: "客户改主意", evidence_ids: [2, 5] });
    expect(collectReason("withdraw", "客户改主意").body).toEqual({ reason: "客户改主意" });
    expect(collectReason("void", "登记错房号", [5]).body).toEqual({ reason: "登记错房号" });
  });

  it("prefills a correction with what the assessor gave, and sends it as the assessment", () => {
    const v = correctionValues("finance", FINANCE);
    expect(v).toMatchObject({
      commission_accrued: "60000.00", advertising_allocation: "8000.50", opportunity_cost: "0.00", proposed_share: "0.6",
      contract_confirmed: true, note: "财务意见",
    });
    expect(collectCorrection("finance", { ...v, commission_accrued: "40000" }).body).toEqual({
      commission_accrued: "40000", advertising_allocation: "8000.50", opportunity_cost: "0.00", proposed_share: "0.6",
      contract_confirmed: true, note: "财务意见",
    });
    expect(correctionValues("legal", LEGAL).fault).toBe("buyer");
    expect(correctionValues("marketing", MARKETING)).toMatchObject({ opinion_risk: "medium", media_involved: true, group_complaint: false });
    expect(collectCorrection("legal", correctionValues("legal", { by: "legal" })).errors).toEqual({ fault: { key: "required" } });
  });
});

describe("the timeline", () => {
  it("adds the department and the words a person gave to the new entries", () => {
    expect(entryNote({ kind: "assessment_returned", detail: { department: "finance", reason: "佣金算错", round: 1 } }))
      .toEqual({ dept: "finance", text: "佣金算错" });
    expect(entryNote({ kind: "assessment_corrected", detail: { department: "legal", from: {}, to: {} } })).toEqual({ dept: "legal" });
    expect(entryNote({ kind: "withdrawal", detail: { path: "withdrawn", reason: " 客户改主意 ", evidence_ids: [] } })).toEqual({ text: "客户改主意" });
    expect(entryNote({ kind: "void", detail: { reason: "登记错房号", note: "同意", requested_by: "manager" } })).toEqual({ text: "登记错房号；同意" });
    expect(entryNote({ kind: "refusal", detail: { refused: true, round: 1, note: "" } })).toEqual({});
    expect(entryNote({ kind: "intake", detail: { reason: "not shown" } })).toEqual({});
    expect(entryNote({ kind: "assessment_returned", detail: null })).toEqual({});
  });

  it("lists the case's own record and says when the engine's history has expired", () => {
    const tl = {
      engine_history: "expired" as const,
      entries: [
        { at: "1", source: "case" as const, kind: "registered", actor: "frontdesk", detail: {} },
        { at: "2", source: "workflow" as const, kind: "timer_fired", actor: "temporal", detail: {} },
      ],
    };
    expect(caseEntries(tl).map((e) => e.kind)).toEqual(["registered"]);
    expect(historyExpired(tl)).toBe(true);
    expect(historyExpired({ engine_history: "available" })).toBe(false);
    expect(historyExpired(null)).toBe(false);
  });
});
