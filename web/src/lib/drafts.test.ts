import { beforeEach, describe, expect, it } from "vitest";
import { clearDrafts, draftKey, loadDraft, saveDraft } from "./drafts";

const initial = { mobile: "", reasons: [] as string[], contract_confirmed: false, note: "" };

describe("drafts", () => {
  beforeEach(() => sessionStorage.clear());

  it("brings back what was typed, per person and form", () => {
    const key = draftKey("frontdesk", "task-7");
    saveDraft(sessionStorage, key, { ...initial, mobile: "139", reasons: ["other"] }, initial);
    expect(loadDraft(sessionStorage, key, initial)).toEqual({ ...initial, mobile: "139", reasons: ["other"] });
    expect(loadDraft(sessionStorage, draftKey("sales", "task-7"), initial)).toEqual(initial);
  });

  it("keeps nothing for an untouched form, and ignores unknown fields and wrong types", () => {
    const key = draftKey("frontdesk", "task-8");
    saveDraft(sessionStorage, key, { ...initial }, initial);
    expect(sessionStorage.getItem(key)).toBeNull();
    sessionStorage.setItem(key, JSON.stringify({ mobile: 5, reasons: "x", note: "ok", evil: "<script>" }));
    expect(loadDraft(sessionStorage, key, initial)).toEqual({ ...initial, note: "ok" });
    sessionStorage.setItem(key, "{not json");
    expect(loadDraft(sessionStorage, key, initial)).toEqual(initial);
  });

  it("does not share the initial object with the draft", () => {
    const loaded = loadDraft(sessionStorage, draftKey("a", "f"), initial);
    loaded.reasons.push("x");
    expect(initial.reasons).toEqual([]);
  });

  it("forgets one person's drafts at sign-out and leaves the others'", () => {
    saveDraft(sessionStorage, draftKey("frontdesk", "a"), { ...initial, note: "1" }, initial);
    saveDraft(sessionStorage, draftKey("frontdesk", "b"), { ...initial, note: "2" }, initial);
    saveDraft(sessionStorage, draftKey("frontdesk2", "a"), { ...initial, note: "3" }, initial);
    sessionStorage.setItem("ef.lang", "en");
    expect(clearDrafts(sessionStorage, "frontdesk")).toBe(2);
    expect(sessionStorage.getItem(draftKey("frontdesk2", "a"))).not.toBeNull();
    expect(sessionStorage.getItem("ef.lang")).toBe("en");
  });
});
