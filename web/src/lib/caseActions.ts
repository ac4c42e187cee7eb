// The ways out of a refund case and back (issue 14), without Vue: which of them a person is offered on the
// case page for its stage and their roles in its project, the body each sends, and how the timeline's new
// entries read. The server decides every call all the same (its refusals are shown as they come); this
// only keeps buttons that would surely be refused off the screen.
// domain/permissions.py has no action names for these steps, so they follow the person's roles in the case's
// project (GET /api/me), as the routes and the workflow's validators do.
import type { Me } from "./access";
import {
  collectTask,
  emptyTaskValues,
  type CaseDetail,
  type Collected,
  type FieldErrors,
  type Opinion,
  type TaskValues,
} from "./taskForms";

export const DEPARTMENTS = ["finance", "legal", "marketing"] as const;
export type Department = (typeof DEPARTMENTS)[number];

/** Stages before the outcome: a withdrawal or a void is still possible. */
export const BEFORE_OUTCOME = ["intake", "assessment", "gm_approval", "solution", "choice"] as const;
/** Stages before the solution is offered: an assessment may still be returned or corrected. */
export const BEFORE_OFFER = ["assessment", "gm_approval", "solution"] as const;

/** Who may take each step (api/routes/refund_cases.py and workflows/refund_case.py). */
export const WITHDRAW_ROLES = ["frontdesk", "manager"] as const;
// The void is asked by the site's manager: the route, its role check and the workflow's validator all say so
// today (docs/decisions.md also names the city GM; add "citygm" here when the server lets them ask).
export const VOID_ROLES = ["manager"] as const;
export const RETURN_ROLES = ["manager"] as const;

export const REASON_MAX = 2000;

export type CaseAction =
  | { kind: "withdraw" }
  | { kind: "void" }
  | { kind: "return"; dept: Department }
  | { kind: "correct"; dept: Department };

/** What the offer depends on: a case as GET /api/refund-cases/{id} answers it. */
export type CaseFacts = Pick<CaseDetail, "stage" | "project_id" | "assessments" | "open_tasks" | "options" | "outcome">;

/** The roles a person holds in one project (none before /api/me answered, none outside their projects). */
export function rolesIn(me: Me | null | undefined, projectId: number | null | undefined): string[] {
  if (!me || projectId === null || projectId === undefined) return [];
  return me.projects.find((p) => p.id === projectId)?.roles ?? [];
}

const holds = (roles: readonly string[], allowed: readonly string[]) => allowed.some((r) => roles.includes(r));
const hasOutcome = (c: CaseFacts) => Object.keys(c.outcome ?? {}).length > 0;

/** The steps this person is offered on this case, in the order the buttons show them. */
export function caseActions(c: CaseFacts | null | undefined, me: Me | null | undefined): CaseAction[] {
  if (!c || !me) return [];
  const roles = rolesIn(me, c.project_id);
  if (!roles.length || hasOutcome(c)) return [];
  const out: CaseAction[] = [];
  const open = (BEFORE_OUTCOME as readonly string[]).includes(c.stage);
  if (open && holds(roles, WITHDRAW_ROLES)) out.push({ kind: "withdraw" });
  const voidWaiting = (c.open_tasks ?? []).some((t) => t.kind === "void_approval");
  if (open && !voidWaiting && holds(roles, VOID_ROLES)) out.push({ kind: "void" });
  const beforeOffer = (BEFORE_OFFER as readonly string[]).includes(c.stage) && !(c.options ?? []).length;
  if (!beforeOffer) return out;
  const given = DEPARTMENTS.filter((d) => !!c.assessments?.[d]);
  if (holds(roles, RETURN_ROLES)) for (const dept of given) out.push({ kind: "return", dept });
  for (const dept of given) {
    // only the assessor who gave it corrects it (the server also lets a colleague standing in for them)
    if (roles.includes(dept) && c.assessments[dept].by === me.username) out.push({ kind: "correct", dept });
  }
  return out;
}

/** A stable name for an action: the button's id and the open form's key. */
export function actionKey(a: CaseAction): string {
  return "dept" in a ? `${a.kind}-${a.dept}` : a.kind;
}

/** Where an action is sent. */
export function actionPath(caseId: string, a: CaseAction): string {
  const base = `/api/refund-cases/${encodeURIComponent(caseId)}`;
  switch (a.kind) {
    case "withdraw": return `${base}/withdraw`;
    case "void": return `${base}/void`;
    case "return": return `${base}/assessments/${a.dept}/return`;
    case "correct": return `${base}/assessments/${a.dept}/correct`;
  }
}

/** A step with a reason (withdraw, void, return): the reason is required; a withdrawal may name evidence files. */
export function collectReason(
  kind: "withdraw" | "void" | "return",
  reason: string,
  evidenceIds: readonly number[] = [],
): Collected<{ reason: string; evidence_ids?: number[] }> {
  const errors: FieldErrors = {};
  const text = String(reason ?? "").trim();
  if (!text) errors.reason = { key: "required" };
  else if (text.length > REASON_MAX) errors.reason = { key: "too_long", params: { n: REASON_MAX } };
  if (Object.keys(errors).length) return { body: null, errors };
  const body: { reason: string; evidence_ids?: number[] } = { reason: text };
  if (kind === "withdraw" && evidenceIds.length) body.evidence_ids = [...new Set(evidenceIds)].sort((a, b) => a - b);
  return { body, errors };
}

/** The assessment form's values for a correction: what the assessor gave, ready to change. */
export function correctionValues(dept: Department, given: Opinion | null | undefined): TaskValues {
  const v = emptyTaskValues();
  if (!given) return v;
  v.note = given.note ?? "";
  if (dept === "finance") {
    v.commission_accrued = given.loss?.commission_accrued ?? "";
    v.advertising_allocation = given.loss?.advertising_allocation ?? "";
    v.opportunity_cost = given.loss?.opportunity_cost ?? "";
    v.proposed_share = given.proposed_share ?? "";
    v.contract_confirmed = given.contract_confirmed === true;
  } else if (dept === "legal") {
    v.fault = given.fault ?? "";
  } else {
    v.opinion_risk = given.opinion_risk ?? "";
    v.media_involved = given.media_involved === true;
    v.group_complaint = given.group_complaint === true;
  }
  return v;
}

/** A correction is checked and sent as that department's assessment is. */
export function collectCorrection(dept: Department, v: TaskValues): Collected<Record<string, unknown>> {
  return collectTask("assessment", dept, v);
}

// ---------------------------------------------------------------- the timeline ----------

export interface TimelineEntry {
  at: string;
  source: "case" | "workflow";
  kind: string;
  actor: string;
  actor_name?: string | null;
  on_behalf_of_name?: string | null;
  detail: Record<string, unknown> | null;
}

export interface Timeline {
  entries: TimelineEntry[];
  engine_history?: "available" | "expired";
  note?: string | null;
}

/** What an entry adds beside its kind: the department it is about, and the words a person gave. */
export interface EntryNote {
  dept?: Department;
  text?: string;
}

const TEXT_OF: Record<string, readonly string[]> = {
  withdrawal: ["reason"],
  void_request: ["reason"],
  void: ["reason", "note"],
  void_rejected: ["note"],
  refusal: ["note"],
  assessment_returned: ["reason"],
  legal_hold_set: ["reason"],
  legal_hold_lifted: ["reason"],
  loss_override: ["reason"],
};

export function entryNote(e: Pick<TimelineEntry, "kind" | "detail">): EntryNote {
  const d = e.detail ?? {};
  const out: EntryNote = {};
  if ((e.kind === "assessment_returned" || e.kind === "assessment_corrected")
    && (DEPARTMENTS as readonly string[]).includes(String(d.department))) out.dept = d.department as Department;
  const text = (TEXT_OF[e.kind] ?? []).map((k) => String(d[k] ?? "").trim()).filter(Boolean).join("；");
  if (text) out.text = text;
  return out;
}

/** The entries the case page lists: the case's own record (the engine's events are in the Temporal UI). */
export function caseEntries(tl: Timeline | null | undefined): TimelineEntry[] {
  return (tl?.entries ?? []).filter((e) => e.source === "case");
}

/** True when the engine's retention deleted the run: the page says the list is the case's record. */
export function historyExpired(tl: Pick<Timeline, "engine_history"> | null | undefined): boolean {
  return tl?.engine_history === "expired";
}
