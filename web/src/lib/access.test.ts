import { describe, expect, it } from "vitest";
import { homeProject, mayDo, mayRespond, type Me } from "./access";

function me(over: Partial<Me> = {}): Me {
  return {
    id: 1, username: "wang", display_name: "王", employee_no: null, mobile_masked: null, primary_role: "manager",
    must_change_password: false, roles: ["manager", "sales"], actions: ["cases", "board", "stats", "intake"],
    memberships: [],
    projects: [
      { id: 3, name: "西溪", city_company_id: 1, city_company_name: "杭州公司", roles: ["manager"], actions: ["cases", "board", "stats", "intake"] },
      { id: 5, name: "滨江", city_company_id: 1, city_company_name: "杭州公司", roles: ["sales"], actions: ["cases", "board", "stats"] },
    ],
    ...over,
  };
}

describe("mayDo", () => {
  it("follows the actions the server lists for the person", () => {
    expect(mayDo(me(), "stats")).toBe(true);
    expect(mayDo(me(), "refunds")).toBe(false);
    expect(mayDo(me(), "temporal")).toBe(false);
  });
  it("narrows to one project's actions when a project is named", () => {
    expect(mayDo(me(), "intake", 3)).toBe(true);
    expect(mayDo(me(), "intake", 5)).toBe(false);
    expect(mayDo(me(), "cases", 99)).toBe(false); // not one of theirs
  });
  it("lets anyone signed in reach an unlisted screen, and nobody before /api/me answered", () => {
    expect(mayDo(me({ actions: [] }), "home")).toBe(true);
    expect(mayDo(null, "home")).toBe(false);
    expect(mayDo(undefined, "stats")).toBe(false);
  });
  it("knows a person's home project", () => {
    expect(homeProject(me())).toBe(3);
    expect(homeProject(me({ projects: [] }))).toBeNull();
  });
});

describe("mayRespond", () => {
  const w = { respond_role: "sales", escalate_to: "citygm" };
  it("lets the responder, the escalation role, the manager and HQ risk answer a warning", () => {
    for (const role of ["sales", "citygm", "manager", "hqrisk"]) expect(mayRespond(role, w)).toBe(true);
    for (const role of ["ops", "finance", "frontdesk"]) expect(mayRespond(role, w)).toBe(false);
  });
});
