import { describe, expect, it } from "vitest";
import { MESSAGES } from "@/i18n";
import {
  CLOCKS,
  cityCompanies,
  cmpDecimal,
  collectDraft,
  collectPolicy,
  collectPublish,
  compareDefaults,
  comparePath,
  compareText,
  draftRefusal,
  EDITOR_FIELDS,
  emptyDraft,
  fmtPercent,
  formFromBody,
  fractionToPercent,
  labelFor,
  moneyText,
  parsePoints,
  percentToFraction,
  placeErrors,
  policyActions,
  policyField,
  POLICY_STATES,
  PROBLEM_CODES,
  publicClocks,
  publicPath,
  rowLabel,
  ruleLines,
  scopeText,
  spanParts,
  STATE_TONE,
  tierField,
  tierStages,
  versionPath,
  wholeNumber,
  type PolicyBody,
  type PolicyForm,
} from "./policies";

const get = (messages: Record<string, unknown>, key: string) =>
  key.split(".").reduce<unknown>((o, p) => (o && typeof o === "object" ? (o as Record<string, unknown>)[p] : undefined), messages);
const ZH_T = (key: string) => String(get(MESSAGES.zh, key) ?? key);
const EN_T = (key: string) => String(get(MESSAGES.en, key) ?? key);

/** A valid body, as domain.refund.policy_to_body writes the default policy. */
const BODY: PolicyBody = {
  intake_minutes: 30, assessment_minutes: 1440, solution_minutes: 2880, archive_minutes: 1440,
  escalation_loss_threshold: "50000", min_options: 2, record_retention_days: 731, choice_minutes: 4320,
  contract_cancellation_minutes: 10080, rework_minutes: 720, max_offer_rounds: 2, refund_payment_minutes: 10080,
  escalation_response_minutes: 240, review_meeting_minutes: 10080, choice_working_days: null,
  contract_cancellation_working_days: null, refund_payment_working_days: 5, retention_pool_share: "0.05",
  tiers: [
    { stage: "deposit_paid", min_share: "0.60", max_share: "0.80", note: "扣除营销服务费" },
    { stage: "online_signed", min_share: "0.30", max_share: "0.50", note: "" },
  ],
};

const form = (edit: (f: PolicyForm) => void = () => undefined): PolicyForm => {
  const f = formFromBody(structuredClone(BODY), "定金阶梯上调");
  edit(f);
  return f;
};

describe("per cents and fractions", () => {
  it("move the decimal point exactly, never through a float", () => {
    expect(percentToFraction("60")).toBe("0.60");
    expect(percentToFraction("5")).toBe("0.05");
    expect(percentToFraction("0")).toBe("0.00");
    expect(percentToFraction("100")).toBe("1.00");
    expect(percentToFraction("60.5")).toBe("0.605");
    expect(percentToFraction("12.34")).toBe("0.1234");
    expect(percentToFraction("60.50")).toBe("0.605");
    expect(percentToFraction(" 70% ")).toBe("0.70");
    expect(percentToFraction("007")).toBe("0.07");
    // 0.1 + 0.2 would not survive a float; 29.01 / 100 is 0.29009999999999997 in one
    expect(percentToFraction("29.01")).toBe("0.2901");
    expect(percentToFraction("57.99")).toBe("0.5799");
  });

  it("refuse what is not a per cent with at most two decimals", () => {
    for (const bad of ["", "abc", "-5", "60.555", "1e2", "60,5", "1000", ".5", "5."]) expect(percentToFraction(bad)).toBeNull();
  });

  it("read the API's fractions back as per cents", () => {
    expect(fractionToPercent("0.60")).toBe("60");
    expect(fractionToPercent("0.6")).toBe("60");
    expect(fractionToPercent("0.605")).toBe("60.5");
    expect(fractionToPercent("0.2901")).toBe("29.01");
    expect(fractionToPercent("1")).toBe("100");
    expect(fractionToPercent("1.0000")).toBe("100");
    expect(fractionToPercent("0")).toBe("0");
    expect(fractionToPercent("0.00001")).toBe("0.001");
    expect(fractionToPercent(null)).toBeNull();
    expect(fractionToPercent("x")).toBeNull();
    expect(fmtPercent("0.75")).toBe("75%");
    expect(fmtPercent(null)).toBe("—");
  });

  it("round-trip every per cent with two decimals", () => {
    for (let i = 0; i <= 10000; i += 7) {
      const pct = `${Math.floor(i / 100)}.${String(i % 100).padStart(2, "0")}`;
      const back = fractionToPercent(percentToFraction(pct));
      expect(back).toBe(pct.replace(/\.?0+$/, "") || "0");
    }
  });

  it("compare decimal strings exactly", () => {
    expect(cmpDecimal("0.6", "0.60")).toBe(0);
    expect(cmpDecimal("0.61", "0.6")).toBe(1);
    expect(cmpDecimal("1.00", "0.9999")).toBe(1);
    expect(cmpDecimal("010", "9.99")).toBe(1);
    expect(cmpDecimal("0.5", "0.50001")).toBe(-1);
  });

  it("read whole numbers, money and spans", () => {
    expect(wholeNumber("30")).toBe(30);
    expect(wholeNumber(" 0 ")).toBe(0);
    for (const bad of ["", "1.5", "-3", "+5", "3e2", "abc"]) expect(wholeNumber(bad)).toBeNull();
    expect(moneyText("50,000")).toBe("50000");
    expect(moneyText("¥ 50000.5")).toBe("50000.5");
    expect(moneyText("0")).toBe("0");
    expect(moneyText("-1")).toBeNull();
    expect(moneyText("1.234")).toBeNull();
    expect(spanParts(1440)).toEqual([{ unit: "d", n: 1 }]);
    expect(spanParts(1530)).toEqual([{ unit: "d", n: 1 }, { unit: "h", n: 1 }, { unit: "m", n: 30 }]);
    expect(spanParts(90)).toEqual([{ unit: "h", n: 1 }, { unit: "m", n: 30 }]);
    expect(spanParts(0)).toEqual([{ unit: "m", n: 0 }]);
  });
});

describe("the editor", () => {
  it("shows a body's figures, shares as per cents", () => {
    const f = form();
    expect(f.minutes.intake_minutes).toBe("30");
    expect(f.working_days.refund_payment).toBe("5");
    expect(f.working_days.choice).toBe("");
    expect(f.tiers.deposit_paid).toEqual({ min: "60", max: "80", note: "扣除营销服务费" });
    expect(f.retention_pool_share).toBe("5");
    expect(f.reminders).toBe("");
    expect(formFromBody({ ...BODY, reminders: { points: [50, 80] } }).reminders).toBe("50, 80");
  });

  it("builds the PUT body from the form: whole numbers, fractions as strings, other keys kept", () => {
    const original = { ...BODY, future_field: "kept" };
    const { body, errors } = collectPolicy(form((f) => {
      f.minutes.intake_minutes = " 45 ";
      f.tiers.deposit_paid.min = "65.5";
      f.tiers.online_signed.max = "100";
      f.working_days.choice = "3";
      f.working_days.refund_payment = "";
      f.escalation_loss_threshold = "60,000";
      f.reminders = "30、60，90";
    }), original);
    expect(errors).toEqual({});
    expect(body!.summary).toBe("定金阶梯上调");
    const b = body!.body;
    expect(b.intake_minutes).toBe(45);
    expect(b.choice_working_days).toBe(3);
    expect(b.refund_payment_working_days).toBeNull();
    expect(b.escalation_loss_threshold).toBe("60000");
    expect(b.retention_pool_share).toBe("0.05");
    expect(b.reminders).toEqual({ points: [30, 60, 90] });
    expect(b.future_field).toBe("kept");
    expect(b.tiers).toEqual([
      { stage: "deposit_paid", min_share: "0.655", max_share: "0.80", note: "扣除营销服务费" },
      { stage: "online_signed", min_share: "0.30", max_share: "1.00", note: "" },
    ]);
    expect(JSON.stringify(b)).not.toMatch(/"(min|max)_share":\d/); // never a JSON number
  });

  it("leaves blank reminder points and pool share to the defaults", () => {
    const { body } = collectPolicy(form((f) => {
      f.reminders = " ";
      f.retention_pool_share = "";
    }), { ...BODY, reminders: { points: [50] } });
    expect(body!.body).not.toHaveProperty("reminders");
    expect(body!.body.retention_pool_share).toBeNull();
  });

  it("checks what domain/policy.py checks, each at its field", () => {
    const { body, errors } = collectPolicy(form((f) => {
      f.minutes.intake_minutes = "0";
      f.minutes.assessment_minutes = "1.5";
      f.minutes.solution_minutes = "";
      f.minutes.archive_minutes = String(90 * 24 * 60 + 1);
      f.working_days.choice = "61";
      f.working_days.contract_cancellation = "0";
      f.escalation_loss_threshold = "-5";
      f.min_options = "1";
      f.max_offer_rounds = "6";
      f.record_retention_days = "730";
      f.retention_pool_share = "100.01";
      f.reminders = "50, 100";
      f.tiers.deposit_paid.min = "90";
      f.tiers.deposit_paid.max = "80";
      f.tiers.online_signed.min = "101";
      f.tiers.online_signed.max = "";
      f.tiers.online_signed.note = "x".repeat(201);
    }));
    expect(body).toBeNull();
    expect(errors).toEqual({
      intake_minutes: { key: "policies_err_int_range", params: { min: 1, max: 129600 } },
      assessment_minutes: { key: "policies_err_int_range", params: { min: 1, max: 129600 } },
      solution_minutes: { key: "required" },
      archive_minutes: { key: "policies_err_int_range", params: { min: 1, max: 129600 } },
      choice_working_days: { key: "policies_err_int_range", params: { min: 1, max: 60 } },
      contract_cancellation_working_days: { key: "policies_err_int_range", params: { min: 1, max: 60 } },
      escalation_loss_threshold: { key: "policies_err_money" },
      min_options: { key: "policies_err_int_range", params: { min: 2, max: 3 } },
      max_offer_rounds: { key: "policies_err_int_range", params: { min: 1, max: 5 } },
      record_retention_days: { key: "policies_err_int_range", params: { min: 731, max: 10950 } },
      retention_pool_share: { key: "policies_err_pct" },
      reminders: { key: "policies_err_points" },
      tier_deposit_paid_max_share: { key: "policies_err_order" },
      tier_online_signed_min_share: { key: "policies_err_pct" },
      tier_online_signed_max_share: { key: "required" },
      tier_online_signed_note: { key: "policies_err_too_long", params: { n: 200 } },
    });
  });

  it("accepts equal minimum and maximum shares, and 0 and 100", () => {
    const { errors } = collectPolicy(form((f) => {
      f.tiers.deposit_paid = { min: "70", max: "70.00", note: "" };
      f.tiers.online_signed = { min: "0", max: "100", note: "" };
    }));
    expect(errors).toEqual({});
  });

  it("reads reminder points: whole per cents 1–99, each once", () => {
    expect(parsePoints("50, 80")).toEqual({ points: [50, 80], error: null });
    expect(parsePoints("")).toEqual({ points: null, error: null });
    expect(parsePoints("50 50").error).toEqual({ key: "policies_err_points_dup" });
    for (const bad of ["0", "100", "5.5", "-1", "abc"]) expect(parsePoints(bad).error).toEqual({ key: "policies_err_points" });
  });

  it("names a field for every clock, working-day clock and tier part", () => {
    for (const k of CLOCKS) expect(EDITOR_FIELDS).toContain(k);
    expect(EDITOR_FIELDS).toContain("refund_payment_working_days");
    expect(EDITOR_FIELDS).toContain(tierField("online_signed", "note"));
  });
});

describe("the server's refusals", () => {
  it("place a PUT's field paths at the editor's fields", () => {
    expect(policyField("body.body.tiers.0.min_share")).toBe("tier_deposit_paid_min_share");
    expect(policyField("body.body.tiers.1.max_share")).toBe("tier_online_signed_max_share");
    expect(policyField("body.body.tiers.1.note")).toBe("tier_online_signed_note");
    expect(policyField("body.body.tiers.0.stage")).toBe("tiers");
    expect(policyField("body.body.tiers")).toBe("tiers");
    expect(policyField("body.body.intake_minutes")).toBe("intake_minutes");
    expect(policyField("body.body.choice_working_days")).toBe("choice_working_days");
    expect(policyField("body.body.reminders.points.1")).toBe("reminders");
    expect(policyField("body.body.reminders.points")).toBe("reminders");
    expect(policyField("body.summary")).toBe("edit_summary");
    expect(policyField("body.body")).toBeNull();
    expect(policyField("body.body.unknown_thing")).toBeNull();
  });

  it("place a stored body's problems by the stage of each of its tiers", () => {
    const stages = tierStages({ tiers: [{ stage: "online_signed", min_share: "", max_share: "", note: "" }] });
    expect(stages).toEqual(["online_signed"]);
    expect(policyField("tiers.0.max_share", stages)).toBe("tier_online_signed_max_share");
    expect(policyField("tiers.3.max_share", stages)).toBe("tiers");
    expect(tierStages({})).toEqual([]);
  });

  it("say each in the person's language, and list those about no field", () => {
    const items = [
      { field: "body.body.intake_minutes", code: "out_of_range", message: "intake_minutes must be between 1 and 129600 minutes, not -5" },
      { field: "body.body.tiers.0.max_share", code: "order", message: "tiers.0: the maximum share 80% is below the minimum 90%" },
      { field: "body.body", code: "type", message: "a policy is an object of named fields" },
      { field: "body.body.intake_minutes", code: "int_type", message: "second about the same field" },
      { field: "body.body.tiers.1.min_share", code: "novel_code", message: "new words" },
    ];
    const zh = placeErrors(items, "zh", ZH_T);
    expect(zh.fields).toEqual({
      intake_minutes: { server: "超出允许范围（intake_minutes must be between 1 and 129600 minutes, not -5）", invalid: true },
      tier_deposit_paid_max_share: { server: "最高比例低于最低比例（tiers.0: the maximum share 80% is below the minimum 90%）", invalid: true },
      tier_online_signed_min_share: { server: "new words", invalid: true },
    });
    expect(zh.rest).toEqual(["格式不正确（a policy is an object of named fields）"]);
    const en = placeErrors(items, "en", EN_T);
    expect(en.fields.intake_minutes).toEqual({ server: "intake_minutes must be between 1 and 129600 minutes, not -5", invalid: true });
  });

  it("place a refused new draft at the dialog's fields", () => {
    expect(draftRefusal({ status: 422, message: "x", errors: [{ field: "body.version", code: "string_pattern_mismatch", message: "bad" }] }, "en", EN_T).fields)
      .toEqual({ new_version: { server: "bad", invalid: true } });
    expect(draftRefusal({ status: 409, message: "version 2027.1 already exists; choose another name" }, "en", EN_T).fields)
      .toEqual({ new_version: { server: "version 2027.1 already exists; choose another name" } });
    expect(draftRefusal({ status: 404, message: "city company 9 does not exist" }, "en", EN_T).fields).toHaveProperty("new_city");
    expect(draftRefusal({ status: 404, message: "project 9 does not exist" }, "en", EN_T).fields).toHaveProperty("new_project");
    expect(draftRefusal({ status: 404, message: "refund policy version x does not exist" }, "en", EN_T).fields).toHaveProperty("new_from");
    expect(draftRefusal({ status: 403, message: "only a group-wide legal or risk role writes the group's policy" }, "en", EN_T).fields)
      .toHaveProperty("new_scope");
    const other = draftRefusal({ status: 403, message: "not allowed" }, "en", EN_T);
    expect(other).toEqual({ fields: {}, rest: [] });
  });

  it("have words in both languages for every domain code", () => {
    for (const code of PROBLEM_CODES) {
      expect(get(MESSAGES.zh, `policies_codes.${code}`), code).toBeTypeOf("string");
      expect(get(MESSAGES.en, `policies_codes.${code}`), code).toBeTypeOf("string");
    }
  });
});

describe("a new draft", () => {
  it("names its scope's city company or project, and only that", () => {
    const v = { ...emptyDraft(), version: " 2027.1 ", scope: "city" as const, city_company_id: 3, project_id: 7, summary: " 上调 " };
    expect(collectDraft(v)).toEqual({ body: { version: "2027.1", scope: "city", city_company_id: 3, summary: "上调" }, errors: {} });
    expect(collectDraft({ ...v, scope: "project" }).body).toEqual({ version: "2027.1", scope: "project", project_id: 7, summary: "上调" });
    expect(collectDraft({ ...v, scope: "group", from_version: "2026.1" }).body).toEqual({ version: "2027.1", scope: "group", summary: "上调", from_version: "2026.1" });
  });

  it("checks the name, that it is free, and the scope's target", () => {
    expect(collectDraft(emptyDraft()).errors).toEqual({ new_version: { key: "required" } });
    expect(collectDraft({ ...emptyDraft(), version: "-x" }).errors).toEqual({ new_version: { key: "policies_err_version" } });
    expect(collectDraft({ ...emptyDraft(), version: "a".repeat(33) }).errors).toEqual({ new_version: { key: "policies_err_version" } });
    expect(collectDraft({ ...emptyDraft(), version: "2026.1" }, ["2026.1"]).errors)
      .toEqual({ new_version: { key: "policies_err_taken", params: { version: "2026.1" } } });
    expect(collectDraft({ ...emptyDraft(), version: "v2", scope: "city" }).errors).toEqual({ new_city: { key: "required" } });
    expect(collectDraft({ ...emptyDraft(), version: "v2", scope: "project" }).errors).toEqual({ new_project: { key: "required" } });
  });

  it("offers the city companies of the person's projects, each once", () => {
    const me = { projects: [
      { city_company_id: 2, city_company_name: "苏州公司" },
      { city_company_id: 1, city_company_name: "杭州公司" },
      { city_company_id: 1, city_company_name: "杭州公司" },
    ] };
    expect(cityCompanies(me)).toEqual([{ id: 1, name: "杭州公司" }, { id: 2, name: "苏州公司" }]);
    expect(cityCompanies(null)).toEqual([]);
  });
});

describe("publishing", () => {
  const now = new Date("2027-01-01T00:00:00+08:00");
  it("sends the picked China time with its zone, or nothing for now", () => {
    expect(collectPublish("", now)).toEqual({ body: {}, errors: {} });
    expect(collectPublish(null, now)).toEqual({ body: {}, errors: {} });
    expect(collectPublish("2027-02-01T09:30:00", now)).toEqual({ body: { effective_from: "2027-02-01T09:30:00+08:00" }, errors: {} });
    expect(collectPublish("2027-02-01 09:30", now).body).toEqual({ effective_from: "2027-02-01T09:30:00+08:00" });
  });

  it("refuses a time already past (a minute's slack) and what is not a time", () => {
    expect(collectPublish("2026-12-31T23:59:30", now).errors).toEqual({});
    expect(collectPublish("2026-12-31T23:58:00", now).errors).toEqual({ effective_from: { key: "policies_err_past" } });
    expect(collectPublish("tomorrow", now).errors).toEqual({ effective_from: { key: "policies_err_when" } });
  });
});

describe("who sees which action", () => {
  const legal = { id: 1, roles: ["legal"], actions: ["policies", "author_policy"] };
  const legal2 = { id: 2, roles: ["legal"], actions: ["policies", "author_policy"] };
  const hqrisk = { id: 3, roles: ["hqrisk"], actions: ["policies", "author_policy"] };
  const manager = { id: 4, roles: ["manager"], actions: ["policies"] };
  const v = (state: (typeof POLICY_STATES)[number], author_id: number | null = 3) => ({ state, author_id });

  it("a draft: its author edits and discards it; another legal person approves; the author never approves", () => {
    expect(policyActions(v("draft", 3), hqrisk)).toEqual(["edit", "discard", "copy"]);
    expect(policyActions(v("draft", 3), legal)).toEqual(["approve", "copy"]);
    expect(policyActions(v("draft", 1), legal)).toEqual(["edit", "discard", "copy"]);
    expect(policyActions(v("draft", 1), legal2)).toEqual(["approve", "copy"]);
    expect(policyActions(v("draft", 1), hqrisk)).toEqual(["copy"]);
    expect(policyActions(v("draft", 1), manager)).toEqual([]);
  });

  it("an approved version: legal publishes it, an author role may discard it", () => {
    expect(policyActions(v("approved", 3), legal)).toEqual(["publish", "discard", "copy"]);
    expect(policyActions(v("approved", 3), hqrisk)).toEqual(["discard", "copy"]);
    expect(policyActions(v("approved", 3), manager)).toEqual([]);
  });

  it("a published or discarded version only starts a new draft", () => {
    for (const s of ["scheduled", "in_force", "superseded", "discarded"] as const) {
      expect(policyActions(v(s), legal)).toEqual(["copy"]);
      expect(policyActions(v(s), manager)).toEqual([]);
    }
    expect(policyActions(v("draft"), null)).toEqual([]);
    expect(policyActions(v("draft", null), legal)).toEqual(["approve", "copy"]);
  });

  it("each state has a tone and words in both languages", () => {
    for (const s of POLICY_STATES) {
      expect(STATE_TONE[s]).toBeTruthy();
      expect(get(MESSAGES.zh, `policies_states.${s}`)).toBeTypeOf("string");
      expect(get(MESSAGES.en, `policies_states.${s}`)).toBeTypeOf("string");
    }
  });
});

describe("labels and the comparison", () => {
  it("label a field in the person's language", () => {
    const labels = { intake_minutes: ["信息采集", "intake"] };
    expect(labelFor(labels, "intake_minutes", "zh")).toBe("信息采集");
    expect(labelFor(labels, "intake_minutes", "en")).toBe("intake");
    expect(labelFor(labels, "unknown", "en")).toBe("unknown");
    const row = { field: "tiers.deposit_paid.min_share", label_zh: "仅付定金未网签：最低退还比例", label_en: "deposit paid, not signed online: minimum share" };
    expect(rowLabel(row, "zh")).toBe("仅付定金未网签：最低退还比例");
    expect(rowLabel(row, "en")).toBe("deposit paid, not signed online: minimum share");
  });

  it("write a row's values: shares as per cents, money, lists, none", () => {
    expect(compareText("tiers.deposit_paid.min_share", "0.6", "zh")).toBe("60%");
    expect(compareText("retention_pool_share", "0.05", "en")).toBe("5%");
    expect(compareText("escalation_loss_threshold", "50000", "zh")).toBe("¥50,000.00");
    expect(compareText("reminders.points", [50, 80], "zh")).toBe("50、80");
    expect(compareText("reminders.points", [50, 80], "en")).toBe("50, 80");
    expect(compareText("choice_working_days", null, "en")).toBe("—");
    expect(compareText("intake_minutes", 30, "en")).toBe("30");
  });

  it("start from the version before the one picked", () => {
    const list = [{ version: "3" }, { version: "2" }, { version: "1" }];
    expect(compareDefaults(list, "2")).toEqual({ a: "1", b: "2" });
    expect(compareDefaults(list, "1")).toEqual({ a: "3", b: "1" });
    expect(comparePath("a b", "2027.1")).toBe("/api/refund-policies/compare?a=a%20b&b=2027.1");
    expect(versionPath("2027.1", "approve")).toBe("/api/refund-policies/2027.1/approve");
  });

  it("name the scope: the group in the person's language, else its name", () => {
    expect(scopeText("group", "集团", EN_T)).toBe("Group");
    expect(scopeText("city", "杭州公司", EN_T)).toBe("杭州公司");
    expect(scopeText("project", "", ZH_T)).toBe("项目");
  });
});

describe("the public page", () => {
  it("asks for the project and the version the address names, nothing else", () => {
    expect(publicPath({})).toBe("/api/refund-policy");
    expect(publicPath({ project_id: "3" })).toBe("/api/refund-policy?project_id=3");
    expect(publicPath({ project_id: ["3", "4"], version: "2027.1" })).toBe("/api/refund-policy?project_id=3&version=2027.1");
    expect(publicPath({ project_id: "3 or 1=1", version: "../x" })).toBe("/api/refund-policy");
  });

  const p = { rules: ["Rule one.", "Rule two."], rules_zh: ["规则一。", "规则二。"] };
  it("shows the rules in the person's language, or each in both (中英对照)", () => {
    expect(ruleLines(p, "zh", false)).toEqual([{ text: "规则一。", lang: "zh" }, { text: "规则二。", lang: "zh" }]);
    expect(ruleLines(p, "en", false)).toEqual([{ text: "Rule one.", lang: "en" }, { text: "Rule two.", lang: "en" }]);
    expect(ruleLines(p, "en", true)).toEqual([
      { text: "规则一。", lang: "zh", other: { text: "Rule one.", lang: "en" } },
      { text: "规则二。", lang: "zh", other: { text: "Rule two.", lang: "en" } },
    ]);
    expect(ruleLines({ rules: ["a", "b"], rules_zh: ["甲"] }, "zh", true)[1]).toEqual({ text: "b", lang: "en" });
  });

  it("lists the clocks it carries, in the SOP's order, with their working days", () => {
    const clocks = publicClocks({ ...BODY, refund_payment_working_days: 5, choice_working_days: null, rework_minutes: undefined });
    expect(clocks.map((c) => c.key)).toEqual(CLOCKS.filter((k) => k !== "rework_minutes"));
    expect(clocks.find((c) => c.key === "refund_payment_minutes")).toEqual({ key: "refund_payment_minutes", minutes: 10080, working_days: 5 });
    expect(clocks.find((c) => c.key === "choice_minutes")!.working_days).toBeNull();
    for (const k of CLOCKS) {
      expect(get(MESSAGES.zh, `policies_clocks.${k}`), k).toBeTypeOf("string");
      expect(get(MESSAGES.en, `policies_clocks.${k}`), k).toBeTypeOf("string");
    }
  });
});
