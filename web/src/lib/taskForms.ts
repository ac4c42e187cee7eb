import type { Task } from "@/types/api";
import { chinaToday, isIsoDate, reasonRequired } from "@/lib/refunds";
import { overrideError, type LossFigures } from "@/lib/customers";
// The forms of a refund case's tasks, without Vue: which fields each kind of task asks for, the checks
// made before anything is sent (the same as the server's, in the person's language), the body sent to
// POST /api/tasks/{id}/complete, and where a server's refusal belongs. Messages are returned as i18n keys
// (or the server's own words), so they follow a language switch.
// Money and shares stay decimal strings end to end: they are checked by pattern, never parsed.

/** A message next to a field: a translation key, or what the server said. */
export type FieldMessage =
  | { key: string; params?: Record<string, string | number> }
  | { server: string; invalid?: boolean };

/** Field name → its message, in the order the checks found them. */
export type FieldErrors = Record<string, FieldMessage>;

export const MONEY_RE = /^\d{1,10}(\.\d{1,2})?$/;
export const SHARE_RE = /^(0(\.\d{1,4})?|1(\.0{1,4})?)$/;
export const ID_NUMBER_RE = /^\d{17}[\dX]$/;
export const MOBILE_RE = /^1\d{10}$/;

export const REASONS = ["family_disagreement", "funds_shortfall", "competitor_comparison", "other"] as const;
export const WILLING = ["yes", "no", "negotiate"] as const;
export const FAULTS = ["buyer", "neither", "developer"] as const;
export const RISKS = ["low", "medium", "high"] as const;
export const OPTION_KINDS = ["A", "B", "C"] as const;
/** The choice form's answer when the buyer refused every option offered (a new offer, or the legal route). */
export const REFUSED = "refused";

/** Every value any task form holds (one draft shape for all kinds; each form shows its own fields). */
export interface TaskValues {
  id_number: string;
  mobile: string;
  reasons: string[];
  reason_text: string;
  willing_to_consider: string;
  recording_ref: string;
  commission_accrued: string;
  advertising_allocation: string;
  opportunity_cost: string;
  proposed_share: string;
  contract_confirmed: boolean;
  /** finance: why the figures differ from the estimate from the records (loss_estimate), when they do */
  override_reason: string;
  /** finance: the estimate the form was prefilled from (GET /api/refund-cases/{id}/loss-estimate), or null */
  loss_estimate: LossFigures | null;
  note: string;
  fault: string;
  opinion_risk: string;
  media_involved: boolean;
  group_complaint: boolean;
  /** "true" | "false" | "" (a radio pair) */
  approve: string;
  offer: string[];
  desc_A: string;
  desc_B: string;
  desc_C: string;
  compensation: string;
  fee_waiver: boolean;
  option: string;
  new_customer_id: string;
  summary: string;
  lessons: string;
  // 退款支付 (refund_payment): against the case's refund instruction
  amount: string;
  /** YYYY-MM-DD */
  paid_on: string;
  bank_reference: string;
  /** an evidence file of the case (the voucher), or none */
  voucher_evidence_id: number | null;
  difference_reason: string;
  // 复盘会 (review_meeting)
  attendees: number[];
  minutes: string;
}

export function emptyTaskValues(): TaskValues {
  return {
    id_number: "", mobile: "", reasons: [], reason_text: "", willing_to_consider: "", recording_ref: "",
    commission_accrued: "", advertising_allocation: "", opportunity_cost: "", proposed_share: "", contract_confirmed: false,
    override_reason: "", loss_estimate: null,
    note: "", fault: "", opinion_risk: "", media_involved: false, group_complaint: false, approve: "",
    offer: [], desc_A: "", desc_B: "", desc_C: "", compensation: "", fee_waiver: false,
    option: "", new_customer_id: "", summary: "", lessons: "",
    amount: "", paid_on: "", bank_reference: "", voucher_evidence_id: null, difference_reason: "",
    attendees: [], minutes: "",
  };
}

/** Finance's revision of the economic loss (case page). */
export interface RevisionValues {
  commission_accrued: string;
  advertising_allocation: string;
  opportunity_cost: string;
  proposed_share: string;
  note: string;
}

export function emptyRevisionValues(): RevisionValues {
  return { commission_accrued: "", advertising_allocation: "", opportunity_cost: "", proposed_share: "", note: "" };
}

/** Which form a task of this kind shows to this role. */
export type FormKind =
  | "intake" | "finance" | "legal" | "marketing" | "gm_approval" | "void_approval" | "solution" | "choice" | "archive"
  | "refund_payment" | "review_meeting" | "handled" | "note";

export function formKind(kind: string, role: string): FormKind {
  switch (kind) {
    case "intake": return "intake";
    case "assessment": return role === "finance" ? "finance" : role === "legal" ? "legal" : "marketing";
    case "gm_approval": return "gm_approval";
    case "void_approval": return "void_approval";
    case "solution": return "solution";
    case "choice": return "choice";
    case "archive": return "archive";
    case "refund_payment": return "refund_payment";
    case "review_meeting": return "review_meeting";
    case "escalation": case "dispute": return "handled"; // what was done: a required note
    default: return "note"; // contract_cancellation, …
  }
}

const FIELDS: Record<FormKind, readonly string[]> = {
  intake: ["id_number", "mobile", "reasons", "reason_text", "willing_to_consider", "recording_ref"],
  finance: ["commission_accrued", "advertising_allocation", "opportunity_cost", "override_reason", "proposed_share", "contract_confirmed", "note"],
  legal: ["fault", "note"],
  marketing: ["opinion_risk", "media_involved", "group_complaint", "note"],
  gm_approval: ["approve", "note"],
  void_approval: ["approve", "note"],
  solution: ["offer", "desc_A", "compensation", "desc_B", "desc_C", "fee_waiver"],
  choice: ["option", "new_customer_id", "note"],
  archive: ["summary", "lessons"],
  refund_payment: ["amount", "paid_on", "bank_reference", "voucher_evidence_id", "difference_reason"],
  review_meeting: ["attendees", "minutes"],
  handled: ["note"],
  note: ["note"],
};

export const REVISION_FIELDS = ["commission_accrued", "advertising_allocation", "opportunity_cost", "proposed_share", "note"] as const;

/** The fields a task's form shows, in the order it shows them. */
export function fieldsFor(kind: string, role: string): readonly string[] {
  return FIELDS[formKind(kind, role)];
}

/** The note's label key: for an escalation what was done (处理情况), for a dispute its outcome (处理结果). */
export function noteLabelKey(kind: string): string {
  if (kind === "escalation") return "handled_escalation";
  if (kind === "dispute") return "handled_dispute";
  return "note";
}

/** What a task's form needs besides what is typed: the refund instruction's amount, and today (China). */
export interface TaskContext {
  /** the case's refund instruction's amount (refund_payment); unknown: the server checks */
  instructed?: string | null;
  /** YYYY-MM-DD in China; default: now */
  today?: string;
}

/** The submit button's label key. */
export function submitLabelKey(kind: string): string {
  if (kind === "intake") return "intake_submit";
  if (kind === "refund_payment") return "record_payment";
  if (["escalation", "review_meeting", "dispute"].includes(kind)) return "mark_done";
  if (kind === "contract_cancellation") return "cancel_confirm";
  return "submit";
}

export interface Collected<B> {
  /** null when a check failed: nothing is sent */
  body: B | null;
  errors: FieldErrors;
}

const trim = (s: string | null | undefined) => String(s ?? "").trim();

function moneyInto(body: Record<string, unknown>, errors: FieldErrors, name: string, raw: string, required = false) {
  const s = trim(raw);
  if (!s) {
    if (required) errors[name] = { key: "required" };
    return;
  }
  if (!MONEY_RE.test(s)) errors[name] = { key: "invalid_money" };
  else body[name] = s;
}

function shareInto(body: Record<string, unknown>, errors: FieldErrors, raw: string) {
  const s = trim(raw);
  if (!s) return;
  if (!SHARE_RE.test(s)) errors.proposed_share = { key: "invalid_share" };
  else body.proposed_share = s;
}

/** The checks and the body of finance's loss figures (assessment and revision share them). */
function lossBody(v: Pick<TaskValues, "commission_accrued" | "advertising_allocation" | "opportunity_cost" | "proposed_share">,
  body: Record<string, unknown>, errors: FieldErrors) {
  moneyInto(body, errors, "commission_accrued", v.commission_accrued, true);
  moneyInto(body, errors, "advertising_allocation", v.advertising_allocation);
  moneyInto(body, errors, "opportunity_cost", v.opportunity_cost);
  shareInto(body, errors, v.proposed_share);
}

/** Check a task's form and build what is sent; errors per field when a check fails. */
export function collectTask(kind: string, role: string, v: TaskValues, ctx: TaskContext = {}): Collected<Record<string, unknown>> {
  const errors: FieldErrors = {};
  const body: Record<string, unknown> = {};
  const form = formKind(kind, role);
  const note = trim(v.note);
  if (note && fieldsFor(kind, role).includes("note")) body.note = note;

  if (form === "intake") {
    const id = trim(v.id_number).toUpperCase();
    const mobile = trim(v.mobile);
    if (!id) errors.id_number = { key: "required" };
    else if (!ID_NUMBER_RE.test(id)) errors.id_number = { key: "invalid_id" };
    if (!mobile) errors.mobile = { key: "required" };
    else if (!MOBILE_RE.test(mobile)) errors.mobile = { key: "invalid_mobile" };
    const reasons = REASONS.filter((r) => v.reasons.includes(r));
    if (!reasons.length) errors.reasons = { key: "choose_one" };
    const willing = trim(v.willing_to_consider);
    if (!willing) errors.willing_to_consider = { key: "required" };
    Object.assign(body, {
      id_number: id, mobile, reasons, reason_text: trim(v.reason_text), willing_to_consider: willing || null,
      recording_ref: trim(v.recording_ref),
    });
  } else if (form === "finance") {
    lossBody(v, body, errors);
    body.contract_confirmed = v.contract_confirmed === true;
    // Figures other than the estimate from the records need a reason (sent as override_reason).
    const reason = trim(v.override_reason);
    const missing = overrideError(v, v.loss_estimate, reason);
    if (missing) errors.override_reason = missing;
    else if (reason && v.loss_estimate) body.override_reason = reason;
  } else if (form === "legal") {
    if (!trim(v.fault)) errors.fault = { key: "required" };
    else body.fault = trim(v.fault);
  } else if (form === "marketing") {
    if (!trim(v.opinion_risk)) errors.opinion_risk = { key: "required" };
    else body.opinion_risk = trim(v.opinion_risk);
    body.media_involved = v.media_involved === true;
    body.group_complaint = v.group_complaint === true;
  } else if (form === "gm_approval" || form === "void_approval") {
    if (v.approve !== "true" && v.approve !== "false") errors.approve = { key: "required" };
    else body.approve = v.approve === "true";
  } else if (form === "solution") {
    const kinds = OPTION_KINDS.filter((k) => v.offer.includes(k)); // in A, B, C order, each once
    if (kinds.length < 2) errors.offer = { key: "choose_two" };
    body.options = kinds.map((k) => {
      const option: Record<string, unknown> = { kind: k, description: trim(v[`desc_${k}`]) };
      if (k === "A") {
        const s = trim(v.compensation);
        // 0: the buyer simply continues, nothing is drawn from the retention pool
        if (!s) errors.compensation = { key: "required" };
        else if (!MONEY_RE.test(s)) errors.compensation = { key: "invalid_money" };
        else option.compensation = s;
      }
      if (k === "C") option.fee_waiver = v.fee_waiver === true;
      return option;
    });
  } else if (form === "choice") {
    const option = trim(v.option);
    if (option === REFUSED) return { body: { refused: true, ...(note ? { note } : {}) }, errors };
    if (!option) errors.option = { key: "required" };
    else body.option = option;
    if (option === "C") {
      const id = trim(v.new_customer_id);
      if (!/^\d+$/.test(id)) errors.new_customer_id = { key: "required" };
      else body.new_customer_id = Number(id); // a customer's id, not money
    }
  } else if (form === "archive") {
    const summary = trim(v.summary);
    if (!summary) errors.summary = { key: "required" };
    else body.summary = summary;
    body.lessons = trim(v.lessons);
  } else if (form === "refund_payment") {
    paymentBody(v, ctx, body, errors);
  } else if (form === "review_meeting") {
    const attendees = [...new Set((v.attendees ?? []).filter((id) => Number.isInteger(id) && id > 0))];
    if (!attendees.length) errors.attendees = { key: "choose_one" };
    else body.attendees = attendees;
    const minutes = trim(v.minutes);
    if (!minutes) errors.minutes = { key: "required" };
    else body.minutes = minutes;
  } else if (form === "handled") {
    if (!note) errors.note = { key: "required" };
  }
  return { body: Object.keys(errors).length ? null : body, errors };
}

/** 退款支付: the amount, the day the bank paid (not after today), its reference, the voucher if any, and a
 * reason when the amount is not the instruction's. */
function paymentBody(v: TaskValues, ctx: TaskContext, body: Record<string, unknown>, errors: FieldErrors) {
  const amount = trim(v.amount);
  if (!amount) errors.amount = { key: "required" };
  else if (!MONEY_RE.test(amount)) errors.amount = { key: "invalid_money" };
  else if (/^0+(\.0*)?$/.test(amount)) errors.amount = { key: "amount_above_zero" };
  else body.amount = amount;
  const paidOn = trim(v.paid_on);
  if (!paidOn) errors.paid_on = { key: "required" };
  else if (!isIsoDate(paidOn)) errors.paid_on = { key: "invalid_date" };
  else if (paidOn > (ctx.today ?? chinaToday())) errors.paid_on = { key: "date_in_future" };
  else body.paid_on = paidOn;
  const reference = trim(v.bank_reference);
  if (!reference) errors.bank_reference = { key: "required" };
  else body.bank_reference = reference;
  if (typeof v.voucher_evidence_id === "number" && v.voucher_evidence_id > 0) body.voucher_evidence_id = v.voucher_evidence_id;
  // A reason is sent when the amount is not the instruction's, or when the instruction is unknown here
  // (the server then says whether it is needed); a leftover one for the instructed amount is not.
  const needed = reasonRequired(amount, ctx.instructed);
  const reason = trim(v.difference_reason);
  if (needed && !reason) errors.difference_reason = { key: "difference_reason_required" };
  else if (reason && (needed || ctx.instructed == null)) body.difference_reason = reason;
}

/** Check finance's loss revision and build what is sent to POST /api/refund-cases/{id}/loss-revision. */
export function collectRevision(v: RevisionValues): Collected<Record<string, unknown>> {
  const errors: FieldErrors = {};
  const body: Record<string, unknown> = {};
  lossBody(v, body, errors);
  const note = trim(v.note);
  if (note) body.note = note;
  return { body: Object.keys(errors).length ? null : body, errors };
}

/** Which field a server message is about (first match wins), for messages that name no field. */
export const FIELD_HINTS: readonly [string, string][] = [
  ["ID number", "id_number"], ["mobile", "mobile"], ["main reason", "reasons"], ["alternatives", "willing_to_consider"],
  ["commission", "commission_accrued"], ["share", "proposed_share"], ["options", "offer"], ["option", "option"],
  ["replacement buyer", "new_customer_id"], ["summary", "summary"], ["file", "file"],
  // 退款支付 (db/refund_payments.py, api/routes/tasks.py)
  ["needs a reason", "difference_reason"], ["amount paid", "amount"], ["payment date", "paid_on"],
  ["date the bank paid", "paid_on"], ["bank's reference", "bank_reference"], ["is not a file of this case", "voucher_evidence_id"],
  // 复盘会, 超时升级处理, 争议处理
  ["who attended", "attendees"], ["user ", "attendees"], ["minutes", "minutes"],
  ["say what was done", "note"], ["say how the dispute", "note"],
];

export interface ServerRefusal {
  status: number;
  message: string;
  errors?: readonly { field: string; message: string }[];
}

/** The field a server error item names (`body.options.0.compensation` → compensation, other options → offer). */
export function fieldOf(path: string): string {
  const parts = String(path || "").split(".").filter((p) => p && !["body", "query", "path"].includes(p));
  if (parts[0] === "options") return parts[2] === "compensation" ? "compensation" : "offer";
  return parts[0] ?? "";
}

/** A server's refusal placed at the fields of this form that it is about; empty when it names none of them. */
export function serverFieldErrors(err: ServerRefusal, fields: readonly string[]): FieldErrors {
  const out: FieldErrors = {};
  for (const item of err.errors ?? []) {
    const name = fieldOf(item.field);
    if (name && fields.includes(name) && !out[name]) out[name] = { server: item.message, invalid: true };
  }
  if (!Object.keys(out).length && err.status === 422) {
    const hit = FIELD_HINTS.find(([needle, name]) => err.message.includes(needle) && fields.includes(name));
    if (hit) out[hit[1]] = { server: err.message };
  }
  return out;
}

export const MAX_UPLOAD_MB = 10;
export const UPLOAD_TYPES = ["application/pdf", "image/jpeg", "image/png", "image/webp"] as const;

/** What is wrong with a file chosen for upload, or null when it may be sent. */
export function checkUpload(file: { type: string; size: number } | null | undefined): FieldMessage | null {
  if (!file) return { key: "required" };
  if (!(UPLOAD_TYPES as readonly string[]).includes(file.type)) return { key: "file_type_bad" };
  if (file.size > MAX_UPLOAD_MB * 1024 * 1024) return { key: "file_too_big", params: { mb: MAX_UPLOAD_MB } };
  return null;
}

// ---------------------------------------------------------------- what the screens read ----------

/** A task as the API lists it: the one type in types/api.ts. */
export type TaskOut = Task;

/** GET /api/tasks/{id}: one task, open or done. */
export interface TaskDetail extends TaskOut {
  status: string;
  completed_at: string | null;
  completed_by_name: string | null;
}

export interface StepOut {
  case_id: string;
  stage: string;
  message: string;
  open_tasks: TaskOut[];
}

export interface OfferedOption {
  kind: string;
  description?: string;
  compensation?: string | null;
  fee_waiver?: boolean;
  refund_amount?: string | null;
  refund_share?: string | null;
}

export interface Opinion {
  by?: string;
  /** the person's name (the API adds it to the login in `by`) */
  by_name?: string | null;
  note?: string;
  loss?: { commission_accrued: string; advertising_allocation: string; opportunity_cost: string; total: string };
  proposed_share?: string | null;
  contract_confirmed?: boolean | null;
  fault?: string;
  opinion_risk?: string | null;
  media_involved?: boolean;
  group_complaint?: boolean;
}

export interface RefundPreview {
  route: string | null;
  share: string | null;
  amount: string | null;
  base: string | null;
  needs_gm: boolean;
  explanation: string;
}

export interface CaseDetail {
  id: string;
  case_no: string;
  stage: string;
  unit: string;
  customer_name: string;
  customer_mobile: string;
  registered_at: string;
  escalation_level: number;
  needs_gm: boolean;
  chosen_option: string | null;
  refund_amount: string | null;
  project_id: number;
  deadlines: Record<string, string>;
  escalation_reasons: string[];
  escalation_codes?: { code: string; params: Record<string, string> }[];
  /** A closed case: the tasks that outlive its closing, and why (zh / en). */
  /** where the case came from when a follow-up opened it: `loan_rejected: <cause>`, `inability`, `transfer_intent` */
  origin?: string | null;
  still_open?: { task_id: number; kind: string; title: string; due_at: string | null; why: string; why_en: string }[];
  assessments: Record<string, Opinion>;
  options: OfferedOption[];
  outcome: Record<string, unknown>;
  loss_total: string | null;
  closed_at: string | null;
  retain_until: string | null;
  workflow_id: string;
  temporal_ui_url: string;
  open_tasks: TaskOut[];
  refund_preview: RefundPreview | null;
  subscribed_at: string | null;
  deposit_kind: string | null;
  deposit_amount: string | null;
  paid_amount: string | null;
  /** who registered the case (a person's name) */
  registered_by?: string | null;
}

export interface CaseRow {
  id: string;
  case_no: string;
  stage: string;
  unit: string;
  customer_name: string;
  registered_at: string;
  escalation_level: number;
  needs_gm: boolean;
  refund_amount: string | null;
}

/** The deposit kinds as the API names them (定金 / 订金), to their translation keys. */
export const DEPOSIT_KIND_KEYS: Record<string, string> = { "定金": "dingjin", "订金": "dingjin_prepay" };

/** Outcome keys in the order the case page shows them. */
export const OUTCOME_KEYS = [
  "path", "reason", "rounds", "requested_by", "compensation", "refund_amount", "new_customer_id", "evidence_ids", "note",
] as const;
export const OUTCOME_MONEY = new Set(["compensation", "refund_amount"]);
/** The outcome reasons the workflow writes, to their translation keys. */
export const OUTCOME_REASONS: Record<string, string> = {
  "city GM did not approve a site settlement": "outcome_reasons.gm_rejected",
  "the buyer refused every offer": "outcome_reasons.refused_all",
};
/** Outcome values a person gave (or a login): shown as they are, never translated. */
export function outcomeIsRaw(key: string, value: unknown): boolean {
  if (key === "note" || key === "requested_by") return true;
  return key === "reason" && !(String(value) in OUTCOME_REASONS);
}

/** The outcome's entries that have a value, known keys first in their order. */
export function outcomeEntries(outcome: Record<string, unknown> | null | undefined): [string, unknown][] {
  const entries = Object.entries(outcome ?? {}).filter(
    ([, v]) => v !== "" && v !== null && v !== undefined && !(Array.isArray(v) && v.length === 0),
  );
  const rank = (k: string) => {
    const i = (OUTCOME_KEYS as readonly string[]).indexOf(k);
    return i < 0 ? OUTCOME_KEYS.length : i;
  };
  return entries.sort(([a], [b]) => rank(a) - rank(b));
}

const DEADLINE_ORDER = ["intake", "assessment", "solution", "archive"];

/** The case's deadlines in the order of its stages. */
export function sortedDeadlines(deadlines: Record<string, string> | null | undefined): [string, string][] {
  const rank = (k: string) => {
    const i = DEADLINE_ORDER.indexOf(k);
    return i < 0 ? DEADLINE_ORDER.length : i;
  };
  return Object.entries(deadlines ?? {}).sort(([a], [b]) => rank(a) - rank(b));
}

/** A field message as a person reads it: translated keys; the server's words in their language. */
export function messageText(
  m: FieldMessage | null | undefined,
  t: (key: string, params?: Record<string, string | number>) => string,
  server: (text: string) => string,
): string | undefined {
  if (!m) return undefined;
  if ("key" in m) return t(m.key, m.params ?? {});
  return m.invalid ? `${t("invalid")}：${m.server}` : server(m.server);
}

/** The intake's start for a case a follow-up opened: the reason it implies and its cause in words (`t` gives
 * the words: origin_text.<kind> with {cause}); null for a case the front desk registered. */
export function originPrefill(
  origin: string | null | undefined,
  t: (key: string, params?: Record<string, string>) => string,
): { reasons: (typeof REASONS)[number][]; reason_text: string } | null {
  if (!origin) return null;
  const [kind, ...rest] = origin.split(":");
  const cause = rest.join(":").trim();
  if (kind === "loan_rejected") return { reasons: ["funds_shortfall"], reason_text: t("origin_text.loan_rejected", { cause }) };
  if (kind === "inability") return { reasons: ["funds_shortfall"], reason_text: t("origin_text.inability") };
  if (kind === "transfer_intent") return { reasons: ["other"], reason_text: t("origin_text.transfer_intent") };
  return null;
}
