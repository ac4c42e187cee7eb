import { describe, expect, it } from "vitest";
import {
  collectScript,
  emptyScript,
  formOf,
  helpfulRate,
  highlight,
  scriptActions,
  searchPath,
  splitKeywords,
  suggestionsPath,
  trendSeries,
  weekChange,
  type KeywordReport,
  type Script,
} from "./knowledge";

const script = (over: Partial<Script> = {}): Script => ({
  id: 7, project_id: 1, title: "资金未到位", body: "我们理解您的资金安排", reason_codes: ["funds_shortfall"],
  keywords: ["年终奖"], status: "draft", author_id: 10, author: "市场", author_role: "marketing", approved_by: null,
  approver: null, approved_at: null, updated_at: "2026-12-01T00:00:00Z", used: 0, helpful: 0, not_helpful: 0, cases: 0,
  ...over,
});

describe("search", () => {
  it("builds the URL only for something to search for", () => {
    expect(searchPath("   ")).toBeNull();
    expect(searchPath(" 延期交付 ")).toBe(`/api/knowledge/search?q=${encodeURIComponent("延期交付")}&limit=20`);
    expect(searchPath("学区", 20)).toContain("offset=20");
  });

  it("marks the searched words in a snippet, longest first, case-insensitively", () => {
    expect(highlight("开发商延期交付，客户退房", ["延期交付", "退房"])).toEqual([
      { text: "开发商", hit: false }, { text: "延期交付", hit: true }, { text: "，客户", hit: false },
      { text: "退房", hit: true },
    ]);
    expect(highlight("延期交付", ["延期", "延期交付"])).toEqual([{ text: "延期交付", hit: true }]);
    expect(highlight("案件 RF20261201", ["rf20261201"])).toEqual([
      { text: "案件 ", hit: false }, { text: "RF20261201", hit: true }]);
    expect(highlight("<b>x</b>", [])).toEqual([{ text: "<b>x</b>", hit: false }]); // text, never HTML
    expect(highlight("", ["x"])).toEqual([]);
  });
});

describe("话术", () => {
  it("asks for suggestions with the form's reasons, known codes only, each once", () => {
    expect(suggestionsPath("c-1")).toBe("/api/refund-cases/c-1/script-suggestions");
    expect(suggestionsPath("c-1", ["funds_shortfall", "bogus", "funds_shortfall", "other"]))
      .toBe("/api/refund-cases/c-1/script-suggestions?reasons=funds_shortfall&reasons=other");
  });

  it("splits keywords on commas, 、 and spaces", () => {
    expect(splitKeywords("延期交付，学区、 贷款;贷款")).toEqual(["延期交付", "学区", "贷款"]);
  });

  it("checks the form and builds the body", () => {
    expect(collectScript(emptyScript(1))).toEqual({
      errors: { title: "kb_required", body: "kb_required", reason_codes: "kb_needs_tag" } });
    expect(collectScript({ ...emptyScript(null), title: "t", body: "b", keywords: "好" })).toEqual({
      errors: { keywords: "kb_keyword_length" } });
    const ok = collectScript({ title: " 标题 ", body: " 正文 ", reason_codes: ["other", "funds_shortfall"], keywords: "年终奖", project_id: 3 });
    expect(ok).toEqual({ body: { title: "标题", body: "正文", reason_codes: ["funds_shortfall", "other"], keywords: ["年终奖"], project_id: 3 } });
    expect(collectScript(formOf(script()))).toEqual({ body: {
      title: "资金未到位", body: "我们理解您的资金安排", reason_codes: ["funds_shortfall"], keywords: ["年终奖"], project_id: 1 } });
  });

  it("lets marketing and legal write, and another of them approve a draft", () => {
    const legal = { id: 11, roles: ["legal"] };
    expect(scriptActions(script(), { id: 10, roles: ["marketing"] })).toEqual(["edit", "retire"]); // the author
    expect(scriptActions(script(), legal)).toEqual(["edit", "approve", "retire"]);
    expect(scriptActions(script({ status: "approved" }), legal)).toEqual(["edit", "retire"]);
    expect(scriptActions(script({ status: "retired" }), legal)).toEqual([]);
    expect(scriptActions(script(), { id: 12, roles: ["sales"] })).toEqual([]);
    expect(scriptActions(script(), null)).toEqual([]);
  });

  it("counts helpful among the marks that said either way", () => {
    expect(helpfulRate({ helpful: 0, not_helpful: 0 })).toBeNull();
    expect(helpfulRate({ helpful: 2, not_helpful: 1 })).toBe(67);
  });
});

describe("keywords", () => {
  const report: KeywordReport = {
    weeks: ["2026-W48", "2026-W49"], week_starts: ["2026-11-23", "2026-11-30"], documents: 10,
    by_source: { intake: 10 }, rule: "",
    top: [
      { keyword: "退房", total: 10, weeks: [4, 6], rising: false },
      { keyword: "延期交付", total: 6, weeks: [1, 5], rising: true },
    ],
  };

  it("gives one series per keyword and this week against last", () => {
    expect(trendSeries(report, 1)).toEqual([{ name: "退房", data: [4, 6] }]);
    expect(weekChange(report.top[1])).toEqual({ now: 5, before: 1 });
    expect(weekChange({ keyword: "x", total: 0, weeks: [], rising: false })).toEqual({ now: 0, before: 0 });
  });
});
