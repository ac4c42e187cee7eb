// Refund-policy versions (issue 14), without Vue: the versions' shapes (api/routes/policies.py, GET
// /api/refund-policy), per cent ↔ fraction conversion done on decimal strings (never floats), the editor's form
// and the checks made before anything is sent (the same rules as domain/policy.py validate_body), the PUT body
// built from the form, where a server's refusal belongs, which actions a person sees for a version, and the
// public page's rules and clocks. Messages are i18n keys (or the server's own words), so they follow a language
// switch.
import { fmtMoney, type Lang } from "./format";
import type { FieldErrors, FieldMessage } from "./taskForms";

// ---------------------------------------------------------------- the API's shapes ----------

/** A version's name: letters, digits, . _ - (api/routes/policies.py VERSION). */
export const VERSION_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/;

export const POLICY_STATES = ["draft", "approved", "scheduled", "in_force", "superseded", "discarded"] as const;
export type PolicyState = (typeof POLICY_STATES)[number];
export const SCOPES = ["group", "city", "project"] as const;
export type Scope = (typeof SCOPES)[number];

/** The clocks of the SOP, in the order it runs them (domain/policy.py CLOCKS): minutes each. */
export const CLOCKS = [
  "intake_minutes", "assessment_minutes", "solution_minutes", "choice_minutes", "contract_cancellation_minutes",
  "refund_payment_minutes", "archive_minutes", "review_meeting_minutes", "rework_minutes",
  "escalation_response_minutes",
] as const;
export type ClockKey = (typeof CLOCKS)[number];
/** The clocks a policy may count in statutory working days instead (domain/policy.py WORKING_DAY_CLOCKS). */
export const WORKING_DAY_CLOCKS = ["choice", "contract_cancellation", "refund_payment"] as const;
export type WorkingDayClock = (typeof WORKING_DAY_CLOCKS)[number];
export const workingDaysField = (c: WorkingDayClock) => `${c}_working_days` as const;
/** The contract stages a tier is written for (a disbursed loan goes to legal: it has none). */
export const TIER_STAGES = ["deposit_paid", "online_signed"] as const;
export type TierStage = (typeof TIER_STAGES)[number];

export const MAX_MINUTES = 90 * 24 * 60;
export const MAX_WORKING_DAYS = 60;
export const MIN_RETENTION_DAYS = 2 * 365 + 1;
export const MAX_RETENTION_DAYS = 30 * 365;
export const OPTIONS_RANGE = [2, 3] as const;
export const ROUNDS_RANGE = [1, 5] as const;
export const NOTE_MAX = 200;
export const SUMMARY_MAX = 2000;

export interface PolicyTier {
  stage: string;
  /** a fraction 0–1 as a decimal string ("0.60") */
  min_share: string;
  max_share: string;
  note: string;
}

/** A version's body: minutes, working days, money and shares as decimal strings, tiers, reminder points. */
export type PolicyBody = Record<string, unknown> & {
  tiers?: PolicyTier[];
  reminders?: { points?: unknown } | null;
};

/** GET /api/refund-policies: one version as listed. */
export interface PolicyVersion {
  version: string;
  status: "draft" | "approved" | "published" | "discarded";
  state: PolicyState;
  scope: Scope;
  scope_name: string;
  city_company_id: number | null;
  project_id: number | null;
  summary: string;
  author: string | null;
  author_id: number | null;
  approved_by: string | null;
  approved_at: string | null;
  published_by: string | null;
  published_at: string | null;
  effective_from: string | null;
  created_at: string;
  updated_at: string;
}

export interface PolicyProblem {
  field: string;
  code: string;
  message: string;
}

/** GET /api/refund-policies/{version} (and the answer of every change). */
export interface PolicyDetail extends PolicyVersion {
  body: PolicyBody;
  /** what approval would refuse: field paths within the body (tiers.0.min_share) */
  problems: PolicyProblem[];
  /** each field's [Chinese, English] label */
  labels: Record<string, string[]>;
}

export interface CompareRow {
  field: string;
  label_zh: string;
  label_en: string;
  a: unknown;
  b: unknown;
  changed: boolean;
}

/** GET /api/refund-policies/compare */
export interface CompareOut {
  a: PolicyVersion;
  b: PolicyVersion;
  rows: CompareRow[];
}

/** GET /api/refund-policy: the 公示 of a published version. */
export interface PublicPolicy {
  version: string;
  approved_by: string;
  published_at: string;
  effective_from: string;
  scope: Scope | string;
  scope_name: string;
  state: string;
  escalation_loss_threshold: string;
  tiers: PolicyTier[];
  rules: string[];
  rules_zh: string[];
  [field: string]: unknown;
}

// ---------------------------------------------------------------- decimal strings ----------

const DECIMAL_RE = /^(\d+)(?:\.(\d+))?$/;
const PERCENT_RE = /^(\d{1,3})(?:\.(\d{1,2}))?$/;

/** Compare two non-negative decimal strings exactly: -1, 0 or 1 ("0.6" and "0.60" are equal). */
export function cmpDecimal(a: string, b: string): number {
  const ma = DECIMAL_RE.exec(a.trim());
  const mb = DECIMAL_RE.exec(b.trim());
  if (!ma || !mb) throw new Error(`not a decimal: ${ma ? b : a}`);
  const ia = ma[1].replace(/^0+/, "");
  const ib = mb[1].replace(/^0+/, "");
  if (ia.length !== ib.length) return ia.length < ib.length ? -1 : 1;
  if (ia !== ib) return ia < ib ? -1 : 1;
  const n = Math.max((ma[2] ?? "").length, (mb[2] ?? "").length);
  const fa = (ma[2] ?? "").padEnd(n, "0");
  const fb = (mb[2] ?? "").padEnd(n, "0");
  return fa === fb ? 0 : fa < fb ? -1 : 1;
}

/** What a person types as a per cent ("60", "60.5", "60%") as the fraction the API keeps ("0.60", "0.605"):
 * at least two decimals, exact (the decimal point moved, never a float). Null: not a per cent with at most
 * two decimals (the range 0–100 is checked by the form). */
export function percentToFraction(raw: string): string | null {
  const s = String(raw ?? "").trim().replace(/\s*[%％]$/, "");
  const m = PERCENT_RE.exec(s);
  if (!m) return null;
  const frac = m[2] ?? "";
  const places = frac.length + 2;
  const digits = (m[1] + frac).padStart(places + 1, "0");
  const int = digits.slice(0, -places).replace(/^0+(?=\d)/, "");
  let dec = digits.slice(-places);
  while (dec.length > 2 && dec.endsWith("0")) dec = dec.slice(0, -1);
  return `${int}.${dec}`;
}

/** A fraction from the API ("0.60", "1", "0.605") as the per cent a person reads and edits ("60", "100",
 * "60.5"), exact; null when it is not a decimal. */
export function fractionToPercent(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  const m = DECIMAL_RE.exec(String(value).trim());
  if (!m) return null;
  const frac = (m[2] ?? "").padEnd(2, "0");
  const int = (m[1] + frac.slice(0, 2)).replace(/^0+(?=\d)/, "");
  const rest = frac.slice(2).replace(/0+$/, "");
  return rest ? `${int}.${rest}` : int;
}

/** A fraction as "60%" ("—" when there is none; the value itself when it is not a decimal). */
export function fmtPercent(value: unknown): string {
  if (value === null || value === undefined || value === "") return "—";
  const pct = fractionToPercent(value);
  return pct === null ? String(value) : `${pct}%`;
}

/** A whole number typed as digits only ("+5", "1.5", "-3", "" are not), or null. */
export function wholeNumber(raw: unknown): number | null {
  const s = String(raw ?? "").trim();
  return /^\d{1,9}$/.test(s) ? Number(s) : null;
}

/** An amount in CNY as typed ("50,000", "¥50000.5") as the API's decimal string ("50000", "50000.5"), or null
 * when it is not one (at least 0, at most two decimals). */
export function moneyText(raw: string): string | null {
  const s = String(raw ?? "").trim().replace(/^[¥￥]\s*/, "").replace(/[,，\s]/g, "");
  return /^\d{1,13}(\.\d{1,2})?$/.test(s) ? s.replace(/^0+(?=\d)/, "") : null;
}

/** A span of minutes in the largest whole units (1500 → 1 d 1 h, 90 → 1 h 30 min), for a hint beside it. */
export function spanParts(minutes: number): { unit: "d" | "h" | "m"; n: number }[] {
  const d = Math.floor(minutes / 1440);
  const h = Math.floor((minutes % 1440) / 60);
  const m = minutes % 60;
  const out: { unit: "d" | "h" | "m"; n: number }[] = [];
  if (d) out.push({ unit: "d", n: d });
  if (h) out.push({ unit: "h", n: h });
  if (m || !out.length) out.push({ unit: "m", n: m });
  return out;
}

// ---------------------------------------------------------------- labels ----------

/** A field's label from the API's [zh, en] pair in the person's language; the field itself when unknown. */
export function labelFor(labels: Record<string, readonly string[]> | null | undefined, field: string, lang: Lang): string {
  const pair = labels?.[field];
  return (pair && (lang === "zh" ? pair[0] : pair[1] ?? pair[0])) || field;
}

/** A comparison row's label in the person's language. */
export function rowLabel(row: Pick<CompareRow, "label_zh" | "label_en" | "field">, lang: Lang): string {
  return (lang === "zh" ? row.label_zh : row.label_en) || row.field;
}

/** A value of a comparison row as text: shares as per cents, the threshold as money, lists joined, "—" for none.
 * Minutes stay numbers (the screen adds the span). */
export function compareText(field: string, value: unknown, lang: Lang): string {
  if (value === null || value === undefined || value === "") return "—";
  if (Array.isArray(value)) return value.map(String).join(lang === "zh" ? "、" : ", ");
  if (field.endsWith("_share")) return fmtPercent(value);
  if (field === "escalation_loss_threshold") return fmtMoney(String(value));
  return String(value);
}

/** The scope as people read it: the group in the person's language, else the city company's or project's name. */
export function scopeText(scope: string, scopeName: string, t: (key: string) => string): string {
  return scope === "group" ? t("policies_scopes.group") : scopeName || t(`policies_scopes.${scope}`);
}

/** The tag colour of each state (classes of the list's state pills). */
export const STATE_TONE: Record<PolicyState, "draft" | "pending" | "soon" | "live" | "old" | "gone"> = {
  draft: "draft", approved: "pending", scheduled: "soon", in_force: "live", superseded: "old", discarded: "gone",
};

// ---------------------------------------------------------------- who may do what ----------

export type PolicyAction = "edit" | "approve" | "publish" | "discard" | "copy";

/** The person as /api/me describes them (the parts that decide). */
export interface Person {
  id: number;
  roles: readonly string[];
  actions: readonly string[];
}

/** The actions a person sees for a version. Its author edits and discards a draft; a person with the legal
 * role who is not its author approves it (four eyes: the button is not shown to the author); legal publishes an
 * approved version, and an author role (legal, HQ risk) may discard it; an author role starts a new draft from
 * any version. The server decides all the same (its 403, e.g. the scope, is shown). */
export function policyActions(v: Pick<PolicyVersion, "state" | "author_id">, me: Person | null | undefined): PolicyAction[] {
  if (!me) return [];
  const author = v.author_id !== null && v.author_id === me.id;
  const writer = me.actions.includes("author_policy");
  const legal = me.roles.includes("legal");
  const out: PolicyAction[] = [];
  if (v.state === "draft") {
    if (author && writer) out.push("edit");
    if (legal && !author) out.push("approve");
    if (author && writer) out.push("discard");
  } else if (v.state === "approved") {
    if (legal) out.push("publish");
    if (writer) out.push("discard");
  }
  if (writer) out.push("copy");
  return out;
}

/** The two versions a comparison starts with: this one (b) against the one listed after it (the one before,
 * a), or the newest other version. */
export function compareDefaults(list: readonly Pick<PolicyVersion, "version">[], version: string): { a: string; b: string } {
  const i = list.findIndex((v) => v.version === version);
  const other = (i >= 0 ? list[i + 1] : undefined) ?? list.find((v) => v.version !== version);
  return { a: other?.version ?? version, b: version };
}

export function comparePath(a: string, b: string): string {
  return `/api/refund-policies/compare?a=${encodeURIComponent(a)}&b=${encodeURIComponent(b)}`;
}

export function versionPath(version: string, action = ""): string {
  return `/api/refund-policies/${encodeURIComponent(version)}${action ? `/${action}` : ""}`;
}

// ---------------------------------------------------------------- the editor's form ----------

export interface TierValues {
  /** per cent, as typed */
  min: string;
  max: string;
  note: string;
}

/** The editor: every number as typed (checked, then sent as whole numbers), shares as per cents. */
export interface PolicyForm {
  summary: string;
  minutes: Record<ClockKey, string>;
  working_days: Record<WorkingDayClock, string>;
  escalation_loss_threshold: string;
  min_options: string;
  max_offer_rounds: string;
  record_retention_days: string;
  /** per cent; blank: the default */
  retention_pool_share: string;
  /** per cents of each clock, "50, 80"; blank: the default */
  reminders: string;
  tiers: Record<TierStage, TierValues>;
}

/** The editor's field names (FormField names, ids f-<name>). */
export const tierField = (stage: string, part: "min_share" | "max_share" | "note") => `tier_${stage}_${part}`;
export const SUMMARY_FIELD = "edit_summary";
export const EDITOR_FIELDS: readonly string[] = [
  SUMMARY_FIELD,
  ...CLOCKS,
  ...WORKING_DAY_CLOCKS.map(workingDaysField),
  "escalation_loss_threshold", "min_options", "max_offer_rounds", "record_retention_days", "retention_pool_share",
  "reminders",
  ...TIER_STAGES.flatMap((s) => (["min_share", "max_share", "note"] as const).map((p) => tierField(s, p))),
  "tiers",
];

const numText = (v: unknown) => (v === null || v === undefined ? "" : String(v));

/** The form of a version's body. */
export function formFromBody(body: PolicyBody, summary = ""): PolicyForm {
  const tiers = Array.isArray(body.tiers) ? body.tiers : [];
  const tier = (stage: TierStage): TierValues => {
    const t = tiers.find((x) => x && x.stage === stage);
    return { min: fractionToPercent(t?.min_share) ?? "", max: fractionToPercent(t?.max_share) ?? "", note: t?.note ?? "" };
  };
  const points = body.reminders && Array.isArray(body.reminders.points) ? body.reminders.points : null;
  return {
    summary,
    minutes: Object.fromEntries(CLOCKS.map((k) => [k, numText(body[k])])) as Record<ClockKey, string>,
    working_days: Object.fromEntries(WORKING_DAY_CLOCKS.map((c) => [c, numText(body[workingDaysField(c)])])) as Record<
      WorkingDayClock,
      string
    >,
    escalation_loss_threshold: numText(body.escalation_loss_threshold),
    min_options: numText(body.min_options),
    max_offer_rounds: numText(body.max_offer_rounds),
    record_retention_days: numText(body.record_retention_days),
    retention_pool_share: fractionToPercent(body.retention_pool_share) ?? "",
    reminders: points ? points.map(String).join(", ") : "",
    tiers: Object.fromEntries(TIER_STAGES.map((s) => [s, tier(s)])) as Record<TierStage, TierValues>,
  };
}

/** Reminder points as typed ("50, 80", "50、80", "50 80") → the list, or what is wrong with them. */
export function parsePoints(raw: string): { points: number[] | null; error: FieldMessage | null } {
  const parts = String(raw ?? "").split(/[\s,，、;；]+/).filter(Boolean);
  if (!parts.length) return { points: null, error: null };
  const points: number[] = [];
  for (const p of parts) {
    const n = /^\d{1,2}$/.test(p) ? Number(p) : NaN;
    if (!(n >= 1 && n <= 99)) return { points: null, error: { key: "policies_err_points" } };
    points.push(n);
  }
  if (new Set(points).size !== points.length) return { points: null, error: { key: "policies_err_points_dup" } };
  return { points, error: null };
}

export interface Collected<B> {
  /** null when a check failed: nothing is sent */
  body: B | null;
  errors: FieldErrors;
}

/** PUT /api/refund-policies/{version} */
export interface PolicyEdit {
  body: PolicyBody;
  summary: string;
}

const rangeError = (min: number, max: number): FieldMessage => ({ key: "policies_err_int_range", params: { min, max } });

function intIn(raw: string, min: number, max: number, name: string, errors: FieldErrors, optional = false): number | null {
  if (!String(raw ?? "").trim()) {
    if (!optional) errors[name] = { key: "required" };
    return null;
  }
  const n = wholeNumber(raw);
  if (n === null || n < min || n > max) {
    errors[name] = rangeError(min, max);
    return null;
  }
  return n;
}

/** A share typed as a per cent: its fraction, or an error at `name` (required unless `optional`). */
function shareIn(raw: string, name: string, errors: FieldErrors, optional = false): string | null {
  if (!String(raw ?? "").trim()) {
    if (!optional) errors[name] = { key: "required" };
    return null;
  }
  const f = percentToFraction(raw);
  if (f === null || cmpDecimal(f, "1") > 0) {
    errors[name] = { key: "policies_err_pct" };
    return null;
  }
  return f;
}

/** Check the editor (the rules of domain/policy.py validate_body, each at its field) and build the PUT: the
 * version's body with the form's values (keys the form does not show are kept), the tiers in TIER_STAGES order,
 * blank working days as null (minutes count), blank reminder points and pool share left to the defaults. */
export function collectPolicy(form: PolicyForm, original: PolicyBody = {}): Collected<PolicyEdit> {
  const errors: FieldErrors = {};
  const body: PolicyBody = { ...original };
  if (form.summary.length > SUMMARY_MAX) errors[SUMMARY_FIELD] = { key: "policies_err_too_long", params: { n: SUMMARY_MAX } };
  for (const k of CLOCKS) body[k] = intIn(form.minutes[k], 1, MAX_MINUTES, k, errors);
  for (const c of WORKING_DAY_CLOCKS) {
    body[workingDaysField(c)] = intIn(form.working_days[c], 1, MAX_WORKING_DAYS, workingDaysField(c), errors, true);
  }
  if (!form.escalation_loss_threshold.trim()) errors.escalation_loss_threshold = { key: "required" };
  else {
    const m = moneyText(form.escalation_loss_threshold);
    if (m === null) errors.escalation_loss_threshold = { key: "policies_err_money" };
    else body.escalation_loss_threshold = m;
  }
  body.min_options = intIn(form.min_options, OPTIONS_RANGE[0], OPTIONS_RANGE[1], "min_options", errors);
  body.max_offer_rounds = intIn(form.max_offer_rounds, ROUNDS_RANGE[0], ROUNDS_RANGE[1], "max_offer_rounds", errors);
  body.record_retention_days = intIn(form.record_retention_days, MIN_RETENTION_DAYS, MAX_RETENTION_DAYS, "record_retention_days", errors);
  body.retention_pool_share = shareIn(form.retention_pool_share, "retention_pool_share", errors, true);
  const { points, error } = parsePoints(form.reminders);
  if (error) errors.reminders = error;
  if (points) body.reminders = { points };
  else delete body.reminders;
  const tiers: PolicyTier[] = [];
  for (const stage of TIER_STAGES) {
    const v = form.tiers[stage];
    const lo = shareIn(v.min, tierField(stage, "min_share"), errors);
    const hi = shareIn(v.max, tierField(stage, "max_share"), errors);
    if (lo !== null && hi !== null && cmpDecimal(lo, hi) > 0) errors[tierField(stage, "max_share")] = { key: "policies_err_order" };
    const note = v.note.trim();
    if (note.length > NOTE_MAX) errors[tierField(stage, "note")] = { key: "policies_err_too_long", params: { n: NOTE_MAX } };
    tiers.push({ stage, min_share: lo ?? "", max_share: hi ?? "", note });
  }
  body.tiers = tiers;
  if (Object.keys(errors).length) return { body: null, errors };
  return { body: { body, summary: form.summary.trim() }, errors };
}

// ---------------------------------------------------------------- the server's refusals ----------

/** The editor's field a body path is about (`body.body.tiers.0.min_share` from a PUT, `tiers.0.min_share` from
 * a version's problems), or null when it is about none. `stages`: the stage of each tier, in the order of the
 * body the path points into. */
export function policyField(path: string, stages: readonly string[] = TIER_STAGES): string | null {
  let parts = String(path || "").split(".").filter(Boolean);
  if (parts[0] === "body") parts = parts.slice(1); // the request's body
  if (parts[0] === "body") parts = parts.slice(1); // the policy's body within it
  if (parts[0] === "summary") return SUMMARY_FIELD;
  const [head, second, third] = parts;
  if (!head) return null;
  if (head === "reminders") return "reminders";
  if (head === "tiers") {
    if (second === undefined) return "tiers";
    const stage = /^\d+$/.test(second) ? stages[Number(second)] : undefined;
    if (stage && (third === "min_share" || third === "max_share" || third === "note")) {
      const name = tierField(stage, third);
      return EDITOR_FIELDS.includes(name) ? name : "tiers";
    }
    return "tiers";
  }
  return EDITOR_FIELDS.includes(head) ? head : null;
}

/** The domain's codes (domain/policy.py FieldError.code) a person meets, with words in both languages. */
export const PROBLEM_CODES = [
  "missing", "int_type", "out_of_range", "float", "decimal_type", "decimal_parsing", "share_range", "share_precision",
  "type", "duplicate", "legal_route", "enum", "order", "string", "coverage", "money", "past",
] as const;

export interface Refusal {
  status: number;
  message: string;
  errors?: readonly { field: string; code?: string; message: string }[];
}

export interface Placed {
  /** the messages at their fields */
  fields: FieldErrors;
  /** the messages about no field the form shows (said above the form) */
  rest: string[];
}

/** A server message in the person's language: the code's words in Chinese with the server's own beside them
 * (中文（server words）), the server's words in English. */
function said(item: { code?: string; message: string }, lang: Lang, t: (key: string) => string): string {
  if (lang !== "zh" || !item.code || !(PROBLEM_CODES as readonly string[]).includes(item.code)) return item.message;
  return `${t(`policies_codes.${item.code}`)}（${item.message}）`;
}

/** A refusal's (or a version's problems') field errors placed at the editor's fields; the rest listed. */
export function placeErrors(
  items: readonly { field: string; code?: string; message: string }[],
  lang: Lang,
  t: (key: string) => string,
  stages: readonly string[] = TIER_STAGES,
  field: (path: string, stages: readonly string[]) => string | null = policyField,
): Placed {
  const fields: FieldErrors = {};
  const rest: string[] = [];
  for (const item of items) {
    const name = field(item.field, stages);
    if (name && !fields[name]) fields[name] = { server: said(item, lang, t), invalid: true };
    else if (!name) rest.push(said(item, lang, t));
  }
  return { fields, rest };
}

/** The stage of each tier of a body, in its order (what a problem's `tiers.<i>` points at). */
export function tierStages(body: PolicyBody | null | undefined): string[] {
  return Array.isArray(body?.tiers) ? body!.tiers!.map((t) => String(t?.stage ?? "")) : [];
}

// ---------------------------------------------------------------- a new draft ----------

export interface DraftValues {
  version: string;
  scope: Scope;
  city_company_id: number | null;
  project_id: number | null;
  summary: string;
  /** "" : the group's version in force */
  from_version: string;
}

export function emptyDraft(from = ""): DraftValues {
  return { version: "", scope: "group", city_company_id: null, project_id: null, summary: "", from_version: from };
}

/** POST /api/refund-policies */
export interface DraftRequest {
  version: string;
  scope: Scope;
  city_company_id?: number;
  project_id?: number;
  summary: string;
  from_version?: string;
}

/** The new-draft dialog's field names, by the API's. */
export const DRAFT_FIELDS: Record<string, string> = {
  version: "new_version", scope: "new_scope", city_company_id: "new_city", project_id: "new_project",
  summary: "new_summary", from_version: "new_from",
};

/** Check the new-draft dialog and build its request: a free version name, the city company or the project its
 * scope names (and only that), the version to start from (blank: the group's in force). */
export function collectDraft(v: DraftValues, taken: readonly string[] = []): Collected<DraftRequest> {
  const errors: FieldErrors = {};
  const version = v.version.trim();
  if (!version) errors.new_version = { key: "required" };
  else if (!VERSION_RE.test(version)) errors.new_version = { key: "policies_err_version" };
  else if (taken.includes(version)) errors.new_version = { key: "policies_err_taken", params: { version } };
  if (!(SCOPES as readonly string[]).includes(v.scope)) errors.new_scope = { key: "required" };
  if (v.scope === "city" && v.city_company_id === null) errors.new_city = { key: "required" };
  if (v.scope === "project" && v.project_id === null) errors.new_project = { key: "required" };
  const summary = v.summary.trim();
  if (summary.length > SUMMARY_MAX) errors.new_summary = { key: "policies_err_too_long", params: { n: SUMMARY_MAX } };
  if (Object.keys(errors).length) return { body: null, errors };
  const body: DraftRequest = { version, scope: v.scope, summary };
  if (v.scope === "city") body.city_company_id = v.city_company_id!;
  if (v.scope === "project") body.project_id = v.project_id!;
  if (v.from_version) body.from_version = v.from_version;
  return { body, errors };
}

/** The API's messages about the new draft that name no field (db/policies.py, api/routes/policies.py): what
 * to look for and the dialog's field they are about. */
export const DRAFT_MESSAGES: readonly [RegExp, string][] = [
  [/^version .* already exists/, "new_version"],
  [/^refund policy version .* does not exist/, "new_from"],
  [/^city company \d+ does not exist|every project of this city company/, "new_city"],
  [/^project \d+ does not exist|^in this project you are/, "new_project"],
  [/policy names|^scope must be|writes the group's policy/, "new_scope"],
];

/** A refusal of the new draft placed at the dialog's fields (by its `errors`, else by its message). */
export function draftRefusal(err: Refusal, lang: Lang, t: (key: string) => string): Placed {
  const placed = placeErrors(err.errors ?? [], lang, t, [], (path) => {
    const parts = path.split(".").filter((p) => p !== "body");
    return DRAFT_FIELDS[parts[0] ?? ""] ?? null;
  });
  if (!Object.keys(placed.fields).length && !placed.rest.length && [403, 404, 409, 422].includes(err.status)) {
    const hit = DRAFT_MESSAGES.find(([needle]) => needle.test(err.message));
    if (hit) placed.fields[hit[1]] = { server: err.message };
  }
  return placed;
}

/** The city companies a person may pick (from /api/me's projects: each company of their projects, once). */
export function cityCompanies(me: { projects: readonly { city_company_id: number; city_company_name: string }[] } | null | undefined) {
  const seen = new Map<number, string>();
  for (const p of me?.projects ?? []) if (!seen.has(p.city_company_id)) seen.set(p.city_company_id, p.city_company_name);
  return [...seen].map(([id, name]) => ({ id, name })).sort((a, b) => a.id - b.id);
}

// ---------------------------------------------------------------- publishing ----------

/** A publication a minute in the past is still taken (db/policies.py PAST_SLACK). */
export const PAST_SLACK_MS = 60_000;

/** POST …/{version}/publish from the picker's China-time wall clock ("2027-01-01T09:00:00", blank: now):
 * the instant with its zone (+08:00), refused when already past. */
export function collectPublish(local: string | null | undefined, now: Date = new Date()): Collected<{ effective_from?: string }> {
  const s = String(local ?? "").trim();
  if (!s) return { body: {}, errors: {} };
  const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})(:\d{2})?$/.exec(s);
  if (!m) return { body: null, errors: { effective_from: { key: "policies_err_when" } } };
  const iso = `${m[1]}T${m[2]}${m[3] ?? ":00"}+08:00`;
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return { body: null, errors: { effective_from: { key: "policies_err_when" } } };
  if (at < now.getTime() - PAST_SLACK_MS) return { body: null, errors: { effective_from: { key: "policies_err_past" } } };
  return { body: { effective_from: iso }, errors: {} };
}

// ---------------------------------------------------------------- the public page ----------

/** GET /api/refund-policy for the page's address: ?project_id= (digits) and ?version= (a version's name);
 * anything else is left out. */
export function publicPath(query: Record<string, unknown>): string {
  const one = (v: unknown) => (Array.isArray(v) ? v[0] : v);
  const params: string[] = [];
  const project = one(query.project_id);
  if (typeof project === "string" && /^[1-9]\d{0,9}$/.test(project)) params.push(`project_id=${project}`);
  const version = one(query.version);
  if (typeof version === "string" && VERSION_RE.test(version)) params.push(`version=${encodeURIComponent(version)}`);
  return `/api/refund-policy${params.length ? `?${params.join("&")}` : ""}`;
}

export interface RuleLine {
  text: string;
  lang: Lang;
  /** the same rule in the other language (中英对照) */
  other?: { text: string; lang: Lang };
}

/** The rules in the person's language, or each in Chinese with its English beneath (中英对照, for print). */
export function ruleLines(p: Pick<PublicPolicy, "rules" | "rules_zh">, lang: Lang, bilingual: boolean): RuleLine[] {
  const zh = p.rules_zh ?? [];
  const en = p.rules ?? [];
  if (bilingual) {
    const n = Math.max(zh.length, en.length);
    return Array.from({ length: n }, (_, i) => {
      const first = zh[i] ?? en[i];
      const line: RuleLine = { text: first, lang: zh[i] !== undefined ? "zh" : "en" };
      if (zh[i] !== undefined && en[i] !== undefined) line.other = { text: en[i], lang: "en" };
      return line;
    });
  }
  return (lang === "zh" ? zh : en).map((text) => ({ text, lang }));
}

export interface ClockLine {
  /** the clock (CLOCKS), labelled by policies_clocks.<key> */
  key: ClockKey;
  minutes: number;
  /** counted in statutory working days instead, when the version says so */
  working_days: number | null;
}

/** The clocks the page lists, in the SOP's order: those the answer carries, with their working days. */
export function publicClocks(p: Record<string, unknown>): ClockLine[] {
  const out: ClockLine[] = [];
  for (const key of CLOCKS) {
    const minutes = p[key];
    if (typeof minutes !== "number") continue;
    const c = WORKING_DAY_CLOCKS.find((w) => `${w}_minutes` === key);
    const wd = c ? p[workingDaysField(c)] : null;
    out.push({ key, minutes, working_days: typeof wd === "number" && wd > 0 ? wd : null });
  }
  return out;
}
