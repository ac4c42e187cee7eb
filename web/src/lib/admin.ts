// The administration screen (组织与人员) without Vue: the API's shapes, the roles and where each may be
// held, the checks made before anything is sent (the server makes them again and decides), the bodies and
// queries sent, where a server refusal belongs, and the admin API's messages in the person's language.
// Field messages are returned as i18n keys (or the server's own words), so they follow a language switch.
import type { Membership, Person } from "./access";
import type { Lang } from "./format";
import { fieldOf, type FieldErrors, type FieldMessage } from "./taskForms";

// ---------------------------------------------------------------- what the API answers ----------

/** GET /api/admin/city-companies */
export interface CityCompany {
  id: number;
  name: string;
  created_at: string;
}

/** GET /api/admin/projects */
export interface AdminProject {
  id: number;
  name: string;
  city: string;
  city_company_id: number;
  city_company_name: string;
}

/** A person as GET /api/admin/users lists them. */
export interface AdminUser extends Person {
  active: boolean;
}

/** GET /api/admin/users */
export interface UserPage {
  items: AdminUser[];
  total: number;
  limit: number;
  offset: number;
}

/** One membership (GET /api/admin/memberships, POST, DELETE). */
export interface AdminMembership extends Membership {
  user_id: number;
  username: string;
  granted_by: number | null;
  granted_at: string;
  revoked_by: number | null;
  revoked_at: string | null;
}

/** GET /api/admin/users/{id} (and every change to a person answers it). */
export interface UserDetail extends AdminUser {
  memberships: AdminMembership[];
}

/** POST /api/admin/users/import */
export interface ImportOut {
  imported: number;
  user_ids: number[];
}

// ---------------------------------------------------------------- roles and scopes ----------

/** The roles (domain/access.py ROLES), in the order the selects list them. */
export const ROLES = [
  "frontdesk", "sales", "manager", "finance", "legal", "marketing", "citygm", "hqrisk", "ops", "admin",
] as const;

export const SCOPES = ["project", "city", "group"] as const;
export type Scope = (typeof SCOPES)[number];

/** Where each role may be held (domain/access.py SCOPES_OF_ROLE). */
export const SCOPES_OF_ROLE: Record<string, readonly Scope[]> = {
  frontdesk: SCOPES, sales: SCOPES, manager: SCOPES, finance: SCOPES, legal: SCOPES, marketing: SCOPES,
  citygm: ["city"],
  hqrisk: ["group"],
  ops: ["group"],
  admin: ["group"],
};

/** The scopes the scope select offers for a role (every scope while no role is chosen, or for one the app
 * does not know: the server decides). */
export function scopesFor(role: string): readonly Scope[] {
  return SCOPES_OF_ROLE[role] ?? SCOPES;
}

/** Which place a scope asks for: a project, a city company, or none (group-wide). */
export function placeFor(scope: string): "project" | "city" | null {
  return scope === "project" ? "project" : scope === "city" ? "city" : null;
}

/** What the grant form holds. */
export interface GrantValues {
  role: string;
  scope: string;
  project_id: number | null;
  city_company_id: number | null;
}

export function emptyGrant(): GrantValues {
  return { role: "", scope: "", project_id: null, city_company_id: null };
}

/** The form after a role or scope was chosen: a scope the role cannot be held in is replaced (by the only
 * one it can, else by none), and the place the scope does not ask for is cleared. */
export function fitGrant(v: GrantValues): GrantValues {
  const allowed = scopesFor(v.role);
  let scope = v.scope;
  if (v.role && !(allowed as readonly string[]).includes(scope)) scope = allowed.length === 1 ? allowed[0] : "";
  const place = placeFor(scope);
  return {
    role: v.role,
    scope,
    project_id: place === "project" ? v.project_id : null,
    city_company_id: place === "city" ? v.city_company_id : null,
  };
}

/** POST /api/admin/memberships */
export interface MembershipRequest {
  user_id: number;
  role: string;
  scope: string;
  project_id: number | null;
  city_company_id: number | null;
}

export interface Collected<B> {
  /** null when a check failed: nothing is sent */
  body: B | null;
  errors: FieldErrors;
}

/** The grant form's field names (FormField names, ids f-<name>). */
export const GRANT_FIELDS = {
  role: "grant_role", scope: "grant_scope", project_id: "grant_project", city_company_id: "grant_city",
} as const;

/** Check the grant form and build its request: a role, a scope the role may be held in, and exactly the
 * place the scope names. */
export function collectGrant(userId: number | null, v: GrantValues): Collected<MembershipRequest> {
  const errors: FieldErrors = {};
  if (userId === null) errors.member_user = { key: "required" };
  if (!v.role) errors[GRANT_FIELDS.role] = { key: "required" };
  if (!v.scope) errors[GRANT_FIELDS.scope] = { key: "required" };
  else if (v.role && !(scopesFor(v.role) as readonly string[]).includes(v.scope))
    errors[GRANT_FIELDS.scope] = { key: "admin_scope_not_for_role" };
  const place = placeFor(v.scope);
  if (place === "project" && v.project_id === null) errors[GRANT_FIELDS.project_id] = { key: "required" };
  if (place === "city" && v.city_company_id === null) errors[GRANT_FIELDS.city_company_id] = { key: "required" };
  if (Object.keys(errors).length || userId === null) return { body: null, errors };
  return {
    body: {
      user_id: userId,
      role: v.role,
      scope: v.scope,
      project_id: place === "project" ? v.project_id : null,
      city_company_id: place === "city" ? v.city_company_id : null,
    },
    errors,
  };
}

/** Where a membership is held: its scope and the place's name (none for group-wide). */
export function membershipPlace(m: Pick<AdminMembership, "scope" | "project_name" | "city_company_name" | "project_id" | "city_company_id">): {
  scope: string;
  name: string | null;
} {
  if (m.scope === "project") return { scope: m.scope, name: m.project_name ?? (m.project_id === null ? null : `#${m.project_id}`) };
  if (m.scope === "city")
    return { scope: m.scope, name: m.city_company_name ?? (m.city_company_id === null ? null : `#${m.city_company_id}`) };
  return { scope: m.scope, name: null };
}

// ---------------------------------------------------------------- people ----------

/** The people list's filters ("" for any). */
export interface UserFilters {
  q: string;
  project_id: number | "";
  role: string;
  /** "true" | "false" | "" */
  active: string;
}

export function emptyFilters(): UserFilters {
  return { q: "", project_id: "", role: "", active: "" };
}

export const PAGE_SIZE = 20;

/** The query of GET /api/admin/users for these filters and page (1-based). */
export function usersQuery(f: UserFilters, page: number, size = PAGE_SIZE): string {
  const p = new URLSearchParams();
  const q = f.q.trim();
  if (q) p.set("q", q.slice(0, 64));
  if (f.project_id !== "") p.set("project_id", String(f.project_id));
  if (f.role) p.set("role", f.role);
  if (f.active === "true" || f.active === "false") p.set("active", f.active);
  p.set("limit", String(size));
  p.set("offset", String(Math.max(0, page - 1) * size));
  return p.toString();
}

/** How many pages `total` people fill (at least one). */
export function pageCount(total: number, size = PAGE_SIZE): number {
  return Math.max(1, Math.ceil(Math.max(0, total) / size));
}

export const MIN_PASSWORD = 8;
export const MAX_PASSWORD = 128;

/** What is wrong with a temporary password, or null. */
export function passwordProblem(password: string): FieldMessage | null {
  if (!password) return { key: "required" };
  if (password.length < MIN_PASSWORD) return { key: "admin_password_short", params: { n: MIN_PASSWORD } };
  if (password.length > MAX_PASSWORD) return { key: "admin_password_long", params: { n: MAX_PASSWORD } };
  return null;
}

/** A mainland mobile as the server reads it (domain/identity.py normalize_mobile): separators and the
 * +86 / 0086 / 86 prefix dropped, then 11 digits from 13… to 19…; null when it is not one. */
export function normalizeMobile(raw: string): string | null {
  let v = raw.replace(/[\s-]+/g, "");
  if (v.startsWith("+86")) v = v.slice(3);
  else if (v.startsWith("0086")) v = v.slice(4);
  else if (v.startsWith("86") && v.length === 13) v = v.slice(2);
  return /^1[3-9]\d{9}$/.test(v) ? v : null;
}

/** The create-person form. */
export interface PersonValues {
  username: string;
  display_name: string;
  employee_no: string;
  mobile: string;
  role: string;
  password: string;
}

export function emptyPerson(): PersonValues {
  return { username: "", display_name: "", employee_no: "", mobile: "", role: "", password: "" };
}

/** POST /api/admin/users */
export interface PersonRequest {
  username: string;
  display_name: string;
  employee_no: string | null;
  mobile: string | null;
  role: string;
  password: string;
}

export const PERSON_FIELDS = ["username", "display_name", "employee_no", "mobile", "role", "password"] as const;

/** Check the create-person form and build its request (blank employee number and mobile are sent as null). */
export function collectPerson(v: PersonValues): Collected<PersonRequest> {
  const errors: FieldErrors = {};
  const username = v.username.trim();
  const name = v.display_name.trim();
  const employeeNo = v.employee_no.trim();
  const mobile = v.mobile.trim();
  if (!username) errors.username = { key: "required" };
  else if (/\s/.test(username)) errors.username = { key: "admin_login_spaces" };
  else if (username.length > 64) errors.username = { key: "admin_too_long", params: { n: 64 } };
  if (!name) errors.display_name = { key: "required" };
  else if (name.length > 64) errors.display_name = { key: "admin_too_long", params: { n: 64 } };
  if (employeeNo.length > 32) errors.employee_no = { key: "admin_too_long", params: { n: 32 } };
  if (mobile && normalizeMobile(mobile) === null) errors.mobile = { key: "invalid_mobile" };
  if (!v.role) errors.role = { key: "required" };
  const pw = passwordProblem(v.password);
  if (pw) errors.password = pw;
  if (Object.keys(errors).length) return { body: null, errors };
  return {
    body: { username, display_name: name, employee_no: employeeNo || null, mobile: mobile || null, role: v.role, password: v.password },
    errors,
  };
}

export const MAX_IMPORT_MB = 5;

/** What is wrong with a people file chosen for import, or null (its content is the server's to check). */
export function importProblem(file: { name: string; size: number } | null | undefined): FieldMessage | null {
  if (!file) return { key: "required" };
  if (file.size > MAX_IMPORT_MB * 1024 * 1024) return { key: "file_too_big", params: { mb: MAX_IMPORT_MB } };
  return null;
}

// ---------------------------------------------------------------- the server's refusals ----------

/** The admin API's messages (db/admin.py, db/inventory.py) a person meets, to their translation keys: a
 * string is looked for anywhere in the message, a pattern must match. First match wins (the import's
 * summary before the reasons it quotes). */
export const ADMIN_MESSAGES: readonly [string | RegExp, string][] = [
  ["nothing was imported", "admin_srv.import_rejected"],
  ["not a readable XLSX file", "admin_srv.unreadable_file"],
  ["upload a .csv or .xlsx file", "admin_srv.wrong_file_type"],
  ["the file is empty", "admin_srv.empty_file"],
  ["the file has no people in it", "admin_srv.no_people"],
  ["import at most", "admin_srv.too_many_people"],
  ["MB limit", "admin_srv.file_too_large"],
  ["the CSV file must be UTF-8", "admin_srv.csv_encoding"],
  ["someone else created one of these logins", "admin_srv.import_race"],
  ["is the last active manager of", "admin_srv.last_active_manager"],
  ["is the last manager of", "admin_srv.last_manager"],
  ["you cannot deactivate your own account", "admin_srv.not_yourself"],
  ["already holds the role", "admin_srv.already_holds"],
  ["was already revoked", "admin_srv.already_revoked"],
  ["is held in scope", "admin_srv.wrong_scope"],
  ["a project membership names a project", "admin_srv.needs_project"],
  ["a city membership names a city company", "admin_srv.needs_city"],
  ["a group membership names neither", "admin_srv.needs_nothing"],
  ["unknown role", "admin_srv.unknown_role"],
  [/^a city company named .* already exists$/s, "admin_srv.city_company_taken"],
  [/^a project named .* already exists$/s, "admin_srv.project_taken"],
  ["the login must be one word", "admin_login_spaces"],
  [/^the login .* is taken$/s, "admin_srv.login_taken"],
  [/^employee number .* belongs to someone else$/s, "admin_srv.employee_no_taken"],
  ["was taken meanwhile", "admin_srv.taken_meanwhile"],
  ["is not a mainland mobile number", "invalid_mobile"],
  ["the password must be at least", "admin_srv.password_short"],
  ["the password must be at most", "admin_srv.password_long"],
  ["name is empty", "admin_srv.name_empty"],
  [/^city company \d+ does not exist$/, "admin_srv.city_company_missing"],
  [/^project \d+ does not exist$/, "admin_srv.project_missing"],
  [/^user \d+ does not exist$/, "admin_srv.user_missing"],
  [/^membership \d+ does not exist$/, "admin_srv.membership_missing"],
];

/** The translation key of an admin API message, or null when it is none of ADMIN_MESSAGES. */
export function adminMessageKey(message: string | null | undefined): string | null {
  if (!message) return null;
  const hit = ADMIN_MESSAGES.find(([needle]) => (typeof needle === "string" ? message.includes(needle) : needle.test(message)));
  return hit ? hit[1] : null;
}

/** A server message as a banner shows it: the words in the person's language (a key of ours, or the
 * shared dictionary's translation) and the server's own words, which quote names and logins as typed
 * and so are shown as they are (marked data-raw). `translated`: serverMessage(message). */
export function messageParts(message: string, lang: Lang, translated: string): { key: string | null; text: string; raw: string } {
  if (lang !== "zh") return { key: null, text: "", raw: message };
  const key = adminMessageKey(message);
  if (key) return { key, text: "", raw: message };
  const tail = `（${message}）`;
  if (translated !== message && translated.endsWith(tail)) return { key: null, text: translated.slice(0, -tail.length), raw: message };
  return { key: null, text: "", raw: message };
}

export interface Refusal {
  status: number;
  message: string;
  errors?: readonly { field: string; message: string }[];
}

/** A server refusal placed at the form's fields: the fields its `errors` name (`fields`: the API's field
 * name → the form's), else, for a message that names none, the first hint (words → field) it contains.
 * Known messages become translation keys; empty when it is about none of the form's fields. */
export function refusalFields(
  err: Refusal,
  fields: Readonly<Record<string, string>>,
  hints: readonly [string, string][] = [],
): FieldErrors {
  const out: FieldErrors = {};
  for (const item of err.errors ?? []) {
    const name = fields[fieldOf(item.field)];
    if (name && !out[name]) out[name] = { server: item.message, invalid: true };
  }
  if (Object.keys(out).length || ![404, 409, 422].includes(err.status)) return out;
  const hit = hints.find(([needle]) => err.message.includes(needle));
  if (hit) {
    const key = adminMessageKey(err.message);
    out[hit[1]] = key ? { key } : { server: err.message };
  }
  return out;
}

/** Where the create-person form's refusals go: the API's field names are the form's. */
export const PERSON_HINTS: readonly [string, string][] = [
  ["the login", "username"], ["employee number", "employee_no"], ["mobile", "mobile"], ["password", "password"],
  ["the name is empty", "display_name"], ["unknown role", "role"],
];
