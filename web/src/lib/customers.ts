// The consultant's customers, without Vue (issue 15): the list's groups (overdue, due today, upcoming, the
// rest), the quick follow-up with its next appointment, the needs form, an import's refusals by line, and
// finance's loss estimate (the prefill of the assessment and whether a figure overrides it).
// Money stays a decimal string: compared as whole fen (BigInt), never as a float.
import type { FieldErrors, FieldMessage } from "@/lib/taskForms";

export const APPOINTMENT_STATES = ["overdue", "due_today", "upcoming", "none"] as const;
export type AppointmentState = (typeof APPOINTMENT_STATES)[number];
export const PURPOSES = ["self_use", "investment", "upgrade", "education", "retirement", "other"] as const;
export const CONCERNS = [
  "school_district", "delivery", "price", "location", "transport", "layout", "developer", "property_service",
  "environment", "loan", "other",
] as const;
export const CHANNELS = ["phone", "wechat", "visit", "sms", "other"] as const;

export interface Needs {
  budget_min: string | null;
  budget_max: string | null;
  layouts: string[];
  area_min: string | null;
  area_max: string | null;
  purpose: string | null;
  concerns: string[];
  note: string;
  updated_by?: number;
  updated_at?: string;
}

export interface CustomerSummary {
  id: number;
  name: string;
  id_type: string | null;
  id_number_masked: string | null;
  mobile_masked: string;
  source_channel: string | null;
  consultant_id: number | null;
  rating: string;
  tags: string[];
  project_id: number;
}

export interface MyCustomer extends CustomerSummary {
  last_contact_at: string | null;
  appointment_at: string | null;
  appointment_note: string | null;
  appointment_state: AppointmentState;
  needs: Needs | null;
}

export interface MyCustomerPage {
  items: MyCustomer[];
  total: number;
  due: number;
  limit: number;
  offset: number;
}

export interface CustomerDetail extends CustomerSummary {
  co_parties: { id: number; relation: string; name: string; mobile_masked: string | null }[];
  last_visit_at: string | null;
  next_appointment_at: string | null;
  needs: Needs | null;
}

export interface CustomerRecords {
  subscriptions: Record<string, unknown>[];
  contracts: Record<string, unknown>[];
  cases: Record<string, unknown>[];
  mortgages: Record<string, unknown>[];
  warnings: Record<string, unknown>[];
}

/** The list in groups, in the order the server sorted them (due and overdue first); empty groups left out. */
export function groupByState<T extends { appointment_state: AppointmentState }>(items: readonly T[]): [AppointmentState, T[]][] {
  const out = new Map<AppointmentState, T[]>();
  for (const s of APPOINTMENT_STATES) out.set(s, []);
  for (const it of items) out.get(it.appointment_state)?.push(it);
  return [...out.entries()].filter(([, v]) => v.length > 0);
}

// ---------------------------------------------------------------- money as fen ----------

const MONEY = /^\d{1,12}(\.\d{1,2})?$/;

/** "1234.5" → 123450n; null when it is not a money amount. */
export function fen(s: string | null | undefined): bigint | null {
  const v = String(s ?? "").trim();
  if (!MONEY.test(v)) return null;
  const [whole, frac = ""] = v.split(".");
  return BigInt(whole) * 100n + BigInt((frac + "00").slice(0, 2));
}

// ---------------------------------------------------------------- quick follow-up ----------

export interface FollowUpValues {
  channel: string;
  note: string;
  /** "YYYY-MM-DDTHH:mm" in the phone's local time (a datetime-local input), or "" */
  next_at: string;
}

export function emptyFollowUp(): FollowUpValues {
  return { channel: "phone", note: "", next_at: "" };
}

/** Check the quick follow-up; the body of POST /api/customers/{id}/follow-ups. */
export function collectFollowUp(v: FollowUpValues, now: Date = new Date()): { body: Record<string, unknown> | null; errors: FieldErrors } {
  const errors: FieldErrors = {};
  const note = v.note.trim();
  const body: Record<string, unknown> = { channel: v.channel || "phone", note };
  if (!note && !v.next_at) errors.note = { key: "cust_note_or_appointment" };
  if (note.length > 2000) errors.note = { key: "cust_too_long", params: { n: 2000 } };
  if (v.next_at) {
    const at = new Date(v.next_at);
    if (Number.isNaN(at.getTime())) errors.next_at = { key: "cust_bad_time" };
    else if (at.getTime() <= now.getTime()) errors.next_at = { key: "cust_appointment_future" };
    else body.next_appointment_at = at.toISOString();
  }
  return { body: Object.keys(errors).length ? null : body, errors };
}

// ---------------------------------------------------------------- needs ----------

export interface NeedsValues {
  budget_min: string;
  budget_max: string;
  layouts: string;
  area_min: string;
  area_max: string;
  purpose: string;
  concerns: string[];
  note: string;
}

export function needsValues(n: Needs | null | undefined): NeedsValues {
  return {
    budget_min: n?.budget_min ?? "", budget_max: n?.budget_max ?? "", layouts: (n?.layouts ?? []).join("、"),
    area_min: n?.area_min ?? "", area_max: n?.area_max ?? "", purpose: n?.purpose ?? "", concerns: [...(n?.concerns ?? [])],
    note: n?.note ?? "",
  };
}

/** Check the needs form; the body of PUT /api/customers/{id}/needs. */
export function collectNeeds(v: NeedsValues): { body: Record<string, unknown> | null; errors: FieldErrors } {
  const errors: FieldErrors = {};
  const body: Record<string, unknown> = {};
  const amounts: [keyof NeedsValues, string][] = [["budget_min", "cust_bad_budget"], ["budget_max", "cust_bad_budget"],
    ["area_min", "cust_bad_area"], ["area_max", "cust_bad_area"]];
  for (const [name, key] of amounts) {
    const s = String(v[name]).trim();
    if (!s) body[name] = null;
    else if (fen(s) === null || fen(s) === 0n) errors[name] = { key };
    else body[name] = s;
  }
  const lo = fen(body.budget_min as string), hi = fen(body.budget_max as string);
  if (lo !== null && hi !== null && lo > hi) errors.budget_max = { key: "cust_budget_order" };
  const alo = fen(body.area_min as string), ahi = fen(body.area_max as string);
  if (alo !== null && ahi !== null && alo > ahi) errors.area_max = { key: "cust_area_order" };
  const layouts = [...new Set(v.layouts.split(/[,，、;；/]/).map((s) => s.trim()).filter(Boolean))];
  if (layouts.length > 10) errors.layouts = { key: "cust_too_many", params: { n: 10 } };
  else if (layouts.some((s) => s.length > 32)) errors.layouts = { key: "cust_too_long", params: { n: 32 } };
  body.layouts = layouts;
  body.purpose = v.purpose || null;
  body.concerns = CONCERNS.filter((c) => v.concerns.includes(c));
  body.note = v.note.trim();
  if ((body.note as string).length > 2000) errors.note = { key: "cust_too_long", params: { n: 2000 } };
  return { body: Object.keys(errors).length ? null : body, errors };
}

// ---------------------------------------------------------------- import ----------

export interface RowRefusal {
  line: number;
  field: string;
  message: string;
}

/** An import's refusal, one item per bad cell, by line then column (the header is line 1). */
export function importRefusals(errors: readonly { field: string; message: string; line?: number }[] | null | undefined): RowRefusal[] {
  return (errors ?? [])
    .filter((e) => typeof e.line === "number")
    .map((e) => ({ line: e.line as number, field: e.field, message: e.message }))
    .sort((a, b) => a.line - b.line || a.field.localeCompare(b.field));
}

// ---------------------------------------------------------------- the loss estimate ----------

export const LOSS_FIELDS = ["commission_accrued", "advertising_allocation", "opportunity_cost"] as const;
export type LossField = (typeof LOSS_FIELDS)[number];

export interface LossComponent {
  amount: string;
  how: string;
  how_en: string;
  lines: Record<string, unknown>[];
}

export interface LossEstimate {
  case_id: string;
  unit_id: number;
  contract_id: number | null;
  price: string;
  until: string;
  commission_accrued: LossComponent;
  advertising_allocation: LossComponent;
  opportunity_cost: LossComponent;
  total: string;
}

/** The estimate's three figures, as the form holds them. */
export type LossFigures = Record<LossField, string>;

export function estimateFigures(e: LossEstimate): LossFigures {
  return {
    commission_accrued: e.commission_accrued.amount,
    advertising_allocation: e.advertising_allocation.amount,
    opportunity_cost: e.opportunity_cost.amount,
  };
}

/** Fill the empty loss fields from the estimate (what a person already typed is kept); which were filled. */
export function prefillLoss(values: Record<LossField, string>, e: LossEstimate): LossField[] {
  const figures = estimateFigures(e);
  const filled: LossField[] = [];
  for (const f of LOSS_FIELDS) {
    if (!String(values[f] ?? "").trim()) {
      values[f] = figures[f];
      filled.push(f);
    }
  }
  return filled;
}

/** The fields whose figure differs from the estimate (an empty field counts as 0, as the server takes it). */
export function overriddenFields(values: Record<LossField, string>, figures: LossFigures | null | undefined): LossField[] {
  if (!figures) return [];
  return LOSS_FIELDS.filter((f) => {
    const typed = String(values[f] ?? "").trim() || "0";
    const a = fen(typed), b = fen(figures[f]);
    return a === null || b === null || a !== b;
  });
}

/** The reason finance gives for figures other than the estimate: required once any differs. */
export function overrideError(values: Record<LossField, string>, figures: LossFigures | null | undefined,
  reason: string): FieldMessage | null {
  if (!overriddenFields(values, figures).length) return null;
  return reason.trim() ? null : { key: "loss_override_reason_required" };
}
