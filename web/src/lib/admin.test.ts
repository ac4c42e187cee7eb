import { describe, expect, it } from "vitest";
import { MESSAGES } from "@/i18n";
import {
  ADMIN_MESSAGES,
  adminMessageKey,
  collectGrant,
  collectPerson,
  emptyFilters,
  emptyGrant,
  emptyPerson,
  fitGrant,
  GRANT_FIELDS,
  importProblem,
  membershipPlace,
  messageParts,
  normalizeMobile,
  pageCount,
  passwordProblem,
  PERSON_HINTS,
  placeFor,
  refusalFields,
  ROLES,
  SCOPES,
  scopesFor,
  usersQuery,
} from "./admin";

const has = (messages: Record<string, unknown>, key: string) =>
  key.split(".").reduce<unknown>((o, p) => (o && typeof o === "object" ? (o as Record<string, unknown>)[p] : undefined), messages) !== undefined;

describe("roles and scopes", () => {
  it("offers every role, each where the server lets it be held", () => {
    expect(ROLES).toHaveLength(10);
    expect(ROLES).toContain("admin");
    expect(scopesFor("sales")).toEqual(["project", "city", "group"]);
    expect(scopesFor("citygm")).toEqual(["city"]);
    expect(scopesFor("hqrisk")).toEqual(["group"]);
    expect(scopesFor("admin")).toEqual(["group"]);
    expect(scopesFor("")).toEqual(SCOPES); // nothing chosen yet
  });

  it("asks for the place the scope names", () => {
    expect(placeFor("project")).toBe("project");
    expect(placeFor("city")).toBe("city");
    expect(placeFor("group")).toBeNull();
    expect(placeFor("")).toBeNull();
  });

  it("has a Chinese and an English name for every role and scope", () => {
    for (const r of ROLES) {
      expect(has(MESSAGES.zh, `roles.${r}`), r).toBe(true);
      expect(has(MESSAGES.en, `roles.${r}`), r).toBe(true);
    }
    for (const s of SCOPES) expect(has(MESSAGES.zh, `admin_scopes.${s}`), s).toBe(true);
  });
});

describe("the grant form", () => {
  it("moves to the only scope a role can be held in, and drops the place it no longer asks for", () => {
    expect(fitGrant({ role: "citygm", scope: "project", project_id: 3, city_company_id: null }))
      .toEqual({ role: "citygm", scope: "city", project_id: null, city_company_id: null });
    expect(fitGrant({ role: "admin", scope: "city", project_id: null, city_company_id: 2 }))
      .toEqual({ role: "admin", scope: "group", project_id: null, city_company_id: null });
  });

  it("keeps a scope the role allows, and its place", () => {
    expect(fitGrant({ role: "manager", scope: "project", project_id: 3, city_company_id: 9 }))
      .toEqual({ role: "manager", scope: "project", project_id: 3, city_company_id: null });
    expect(fitGrant({ role: "sales", scope: "city", project_id: 3, city_company_id: 2 }))
      .toEqual({ role: "sales", scope: "city", project_id: null, city_company_id: 2 });
  });

  it("builds the request with exactly the place its scope names", () => {
    expect(collectGrant(7, { role: "sales", scope: "project", project_id: 3, city_company_id: 2 }).body)
      .toEqual({ user_id: 7, role: "sales", scope: "project", project_id: 3, city_company_id: null });
    expect(collectGrant(7, { role: "citygm", scope: "city", project_id: 3, city_company_id: 2 }).body)
      .toEqual({ user_id: 7, role: "citygm", scope: "city", project_id: null, city_company_id: 2 });
    expect(collectGrant(7, { role: "ops", scope: "group", project_id: 3, city_company_id: 2 }).body)
      .toEqual({ user_id: 7, role: "ops", scope: "group", project_id: null, city_company_id: null });
  });

  it("sends nothing without a person, a role, a scope or the place the scope needs", () => {
    const none = collectGrant(null, emptyGrant());
    expect(none.body).toBeNull();
    expect(Object.keys(none.errors).sort()).toEqual(["grant_role", "grant_scope", "member_user"]);
    const noProject = collectGrant(7, { role: "sales", scope: "project", project_id: null, city_company_id: 2 });
    expect(noProject.body).toBeNull();
    expect(noProject.errors).toEqual({ [GRANT_FIELDS.project_id]: { key: "required" } });
    const noCity = collectGrant(7, { role: "sales", scope: "city", project_id: 3, city_company_id: null });
    expect(noCity.errors).toEqual({ [GRANT_FIELDS.city_company_id]: { key: "required" } });
  });

  it("refuses a scope the role is not held in", () => {
    const r = collectGrant(7, { role: "hqrisk", scope: "project", project_id: 3, city_company_id: null });
    expect(r.body).toBeNull();
    expect(r.errors[GRANT_FIELDS.scope]).toEqual({ key: "admin_scope_not_for_role" });
  });
});

describe("a membership row", () => {
  const m = { scope: "project", project_id: 3, project_name: "西溪云庐", city_company_id: null, city_company_name: null };
  it("names its project, city company, or none when group-wide", () => {
    expect(membershipPlace(m)).toEqual({ scope: "project", name: "西溪云庐" });
    expect(membershipPlace({ ...m, scope: "city", project_id: null, project_name: null, city_company_id: 2, city_company_name: "杭州公司" }))
      .toEqual({ scope: "city", name: "杭州公司" });
    expect(membershipPlace({ ...m, scope: "group", project_id: null, project_name: null })).toEqual({ scope: "group", name: null });
    expect(membershipPlace({ ...m, project_name: null })).toEqual({ scope: "project", name: "#3" });
  });
});

describe("the people list", () => {
  it("asks for the filters set and the page", () => {
    expect(usersQuery(emptyFilters(), 1)).toBe("limit=20&offset=0");
    const q = new URLSearchParams(usersQuery({ q: "  王 ", project_id: 3, role: "sales", active: "false" }, 3, 20));
    expect(Object.fromEntries(q)).toEqual({ q: "王", project_id: "3", role: "sales", active: "false", limit: "20", offset: "40" });
  });

  it("counts pages, at least one", () => {
    expect(pageCount(0)).toBe(1);
    expect(pageCount(20, 20)).toBe(1);
    expect(pageCount(21, 20)).toBe(2);
  });
});

describe("the create-person form", () => {
  const good = { username: "xixi.sales3", display_name: " 置业顾问 吴 ", employee_no: " ", mobile: "", role: "sales", password: "temporary1" };

  it("sends trimmed values, blank employee number and mobile as null", () => {
    expect(collectPerson(good).body).toEqual({
      username: "xixi.sales3", display_name: "置业顾问 吴", employee_no: null, mobile: null, role: "sales", password: "temporary1",
    });
  });

  it("checks each field before anything is sent", () => {
    const r = collectPerson(emptyPerson());
    expect(r.body).toBeNull();
    expect(Object.keys(r.errors).sort()).toEqual(["display_name", "password", "role", "username"]);
    expect(collectPerson({ ...good, username: "wang lei" }).errors).toEqual({ username: { key: "admin_login_spaces" } });
    expect(collectPerson({ ...good, mobile: "12345" }).errors).toEqual({ mobile: { key: "invalid_mobile" } });
    expect(collectPerson({ ...good, password: "short" }).errors).toEqual({ password: { key: "admin_password_short", params: { n: 8 } } });
  });

  it("reads a mobile as the server does", () => {
    expect(normalizeMobile("+86 138-0013-8000")).toBe("13800138000");
    expect(normalizeMobile("8613800138000")).toBe("13800138000");
    expect(normalizeMobile("12800138000")).toBeNull();
  });

  it("checks a temporary password's length", () => {
    expect(passwordProblem("")).toEqual({ key: "required" });
    expect(passwordProblem("12345678")).toBeNull();
    expect(passwordProblem("x".repeat(129))).toEqual({ key: "admin_password_long", params: { n: 128 } });
  });

  it("checks only that an import file is there and not too large", () => {
    expect(importProblem(null)).toEqual({ key: "required" });
    expect(importProblem({ name: "people.xlsx", size: 6 * 1024 * 1024 })).toEqual({ key: "file_too_big", params: { mb: 5 } });
    expect(importProblem({ name: "people.xlsx", size: 1000 })).toBeNull();
  });
});

describe("the server's refusals", () => {
  it("place a validation error at the field the API names", () => {
    const err = { status: 422, message: "password: too short", errors: [{ field: "body.password", message: "String should have at least 8 characters" }] };
    expect(refusalFields(err, { password: "reset_password" })).toEqual({
      reset_password: { server: "String should have at least 8 characters", invalid: true },
    });
  });

  it("place a message that names no field by its words, translated when known", () => {
    expect(refusalFields({ status: 409, message: "the login wang is taken" }, { username: "username" }, PERSON_HINTS))
      .toEqual({ username: { key: "admin_srv.login_taken" } });
    expect(refusalFields({ status: 409, message: "employee number E01 belongs to someone else" }, {}, PERSON_HINTS))
      .toEqual({ employee_no: { key: "admin_srv.employee_no_taken" } });
  });

  it("leave the rest to the banner", () => {
    expect(refusalFields({ status: 409, message: "王 (wang) is the last manager of project 西溪; grant another manager first" }, {}, PERSON_HINTS))
      .toEqual({});
    expect(refusalFields({ status: 500, message: "the login x" }, {}, PERSON_HINTS)).toEqual({});
  });

  it("know the admin API's messages", () => {
    expect(adminMessageKey("王 (wang) is the last manager of project 西溪; grant another manager first")).toBe("admin_srv.last_manager");
    expect(adminMessageKey("王 (wang) is the last active manager of projects A, B; grant another manager first"))
      .toBe("admin_srv.last_active_manager");
    expect(adminMessageKey("nothing was imported: line 3, 登录名: the login wang is taken")).toBe("admin_srv.import_rejected");
    expect(adminMessageKey("city company 9 does not exist")).toBe("admin_srv.city_company_missing");
    expect(adminMessageKey("project 9 does not exist")).toBe("admin_srv.project_missing");
    expect(adminMessageKey("a city company named 杭州公司 already exists")).toBe("admin_srv.city_company_taken");
    expect(adminMessageKey("the role citygm is held in scope city, not project")).toBe("admin_srv.wrong_scope");
    expect(adminMessageKey("something else entirely")).toBeNull();
  });

  it("have every translation they point at, in both languages", () => {
    for (const [, key] of ADMIN_MESSAGES) {
      expect(has(MESSAGES.zh, key), key).toBe(true);
      expect(has(MESSAGES.en, key), key).toBe(true);
    }
  });

  it("are shown in Chinese with the server's words beside, or as the server wrote them", () => {
    const last = "王 (wang) is the last manager of project 西溪; grant another manager first";
    expect(messageParts(last, "zh", last)).toEqual({ key: "admin_srv.last_manager", text: "", raw: last });
    expect(messageParts("may not do this", "zh", "当前角色无权执行此操作（may not do this）"))
      .toEqual({ key: null, text: "当前角色无权执行此操作", raw: "may not do this" });
    expect(messageParts("line 2 is odd", "zh", "line 2 is odd")).toEqual({ key: null, text: "", raw: "line 2 is odd" });
    expect(messageParts(last, "en", last)).toEqual({ key: null, text: "", raw: last });
  });
});
