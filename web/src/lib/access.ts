// What the signed-in person may do, as the server says (GET /api/me): the app keeps no copy of the role
// lists; it only hides what the person may not do. The server decides every call all the same.

export interface MyProject {
  id: number;
  name: string;
  city_company_id: number;
  city_company_name: string;
  roles: string[];
  actions: string[];
}

export interface Membership {
  id: number;
  role: string;
  scope: "project" | "city" | "group";
  project_id: number | null;
  project_name: string | null;
  city_company_id: number | null;
  city_company_name: string | null;
}

/** A person as screens show them (the mobile masked). */
export interface Person {
  id: number;
  username: string;
  display_name: string;
  employee_no: string | null;
  mobile_masked: string | null;
  primary_role: string;
  must_change_password: boolean;
}

/** GET /api/me */
export interface Me extends Person {
  roles: string[];
  actions: string[];
  memberships: Membership[];
  projects: MyProject[];
}

/** May this person do `what` (anywhere, or in `projectId`)? Unknown `what`: anyone signed in. No answer
 * from /api/me yet: nothing. */
export function mayDo(me: Me | null | undefined, what: string, projectId?: number | null): boolean {
  if (!me) return false;
  const known = KNOWN_ACTIONS.has(what);
  if (projectId !== undefined && projectId !== null) {
    const p = me.projects.find((x) => x.id === projectId);
    if (!p) return false;
    return !known || p.actions.includes(what);
  }
  return !known || me.actions.includes(what);
}

/** The action names the server knows (domain/permissions.py ACTIONS); anything else is open to staff. */
const KNOWN_ACTIONS = new Set([
  "intake", "cases", "board", "warnings", "stats", "refunds", "qr", "evidence", "temporal", "revise_loss",
  "reassign_tasks", "admin", "robots", "legal_holds", "policies", "author_policy", "reception", "rotation",
  "partners", "my_customers", "subscribe", "discount_approvals", "finance_desk", "calendar", "reports", "dashboard",
  "scripts", "knowledge", "retention_pool", "fund_retention_pool",
]);

/** May this role answer this warning (the manager and HQ risk always; else its responder or escalation). */
export function mayRespond(role: string, warning: { respond_role: string; escalate_to: string }): boolean {
  return role === "manager" || role === "hqrisk" || role === warning.respond_role || role === warning.escalate_to;
}

/** The project a person works in when a screen names none: the first of theirs. */
export function homeProject(me: Me | null | undefined): number | null {
  return me?.projects[0]?.id ?? null;
}
