// Reception, the rotation and channel partners' registrations, without Vue: the API's shapes, the checks the
// forms make before anything is sent (the same rules as api/routes/reception.py), the bodies, where a server's
// refusal belongs, and how the audit reads. Messages are i18n keys (or the server's own words).
import { serverFieldErrors, type FieldErrors, type ServerRefusal } from "./taskForms";

export const CHANNELS = ["walk_in", "referral", "online", "outdoor", "partner", "call", "other"] as const;
export const PARTNER_KINDS = ["agency", "distributor"] as const;
export const GROUP_SIZE_MAX = 50;
export const REASON_MAX = 200;
export const NAME_MAX = 64;

export interface Person {
  id: number;
  name: string;
}

export interface PartnerCredit {
  registration_id: number;
  partner_id: number;
  partner_name: string;
  partner_kind: string;
  protected_until: string;
}

/** GET/POST /api/projects/{id}/walk-ins, POST /api/walk-ins/{id}/take|skip */
export interface WalkIn {
  id: number;
  project_id: number;
  arrived_at: string;
  day: string;
  group_size: number;
  first_visit: boolean;
  channel: string;
  visitor_name: string | null;
  mobile_masked: string | null;
  note: string;
  returning: boolean;
  customer_id: number | null;
  reserved_for: Person | null;
  offered_to: Person | null;
  consultant: Person | null;
  taken_at: string | null;
  partner: PartnerCredit | null;
}

export interface RosterEntry {
  consultant: Person;
  position: number;
  present: boolean;
  queue_position: number | null;
  taken_today: number;
}

export interface RotationEvent {
  id: number;
  kind: string;
  consultant: Person | null;
  walk_in_id: number | null;
  reason: string | null;
  detail: Record<string, unknown>;
  actor: Person;
  at: string;
}

/** GET /api/projects/{id}/rotation */
export interface Rotation {
  project_id: number;
  day: string;
  roster: RosterEntry[];
  next_in_turn: Person | null;
  events: RotationEvent[];
}

export interface Partner {
  id: number;
  project_id: number;
  name: string;
  kind: string;
  contact_name: string | null;
  contact_mobile_masked: string | null;
  active: boolean;
  active_registrations: number;
}

export interface Registration {
  id: number;
  project_id: number;
  partner_id: number;
  partner_name: string;
  partner_kind: string;
  prospect_name: string;
  mobile_masked: string;
  registered_at: string;
  registered_by: string;
  protected_until: string;
  status: "active" | "expired" | "withdrawn" | string;
  visits_credited: number;
  note: string;
}

export interface Collected<B> {
  body: B | null;
  errors: FieldErrors;
}

/** A mainland mobile after +86 / 0086 and separators are taken off (the server's normalize_mobile), or null. */
export function normalMobile(raw: string): string | null {
  let v = raw.replace(/[\s\-()（）]/g, "");
  if (v.startsWith("+86")) v = v.slice(3);
  else if (v.startsWith("0086")) v = v.slice(4);
  else if (v.startsWith("86") && v.length === 13) v = v.slice(2);
  return /^1[3-9]\d{9}$/.test(v) ? v : null;
}

// ---------------------------------------------------------------- the walk-in form ----------

export interface WalkInValues {
  group_size: number | null;
  first_visit: boolean;
  channel: string;
  name: string;
  mobile: string;
  note: string;
}

export function emptyWalkIn(): WalkInValues {
  return { group_size: 1, first_visit: true, channel: "walk_in", name: "", mobile: "", note: "" };
}

export interface WalkInRequest {
  group_size: number;
  first_visit: boolean;
  channel: string;
  name?: string;
  mobile?: string;
  note?: string;
}

export const WALK_IN_FIELDS = ["group_size", "first_visit", "channel", "name", "mobile", "note"] as const;

/** Check the walk-in form: a group of 1–50, a known channel; a name and a mobile only when given (an anonymous
 * visit is fine), the mobile a mainland one. */
export function collectWalkIn(v: WalkInValues): Collected<WalkInRequest> {
  const errors: FieldErrors = {};
  const size = v.group_size;
  if (size === null || !Number.isInteger(size)) errors.group_size = { key: "required" };
  else if (size < 1 || size > GROUP_SIZE_MAX) errors.group_size = { key: "reception_group_range", params: { max: GROUP_SIZE_MAX } };
  if (!(CHANNELS as readonly string[]).includes(v.channel)) errors.channel = { key: "required" };
  const name = v.name.trim();
  if (name.length > NAME_MAX) errors.name = { key: "reception_too_long", params: { n: NAME_MAX } };
  const mobile = v.mobile.trim();
  if (mobile && !normalMobile(mobile)) errors.mobile = { key: "reception_mobile_bad" };
  if (v.note.length > 500) errors.note = { key: "reception_too_long", params: { n: 500 } };
  if (Object.keys(errors).length) return { body: null, errors };
  const body: WalkInRequest = { group_size: size!, first_visit: v.first_visit, channel: v.channel };
  if (name) body.name = name;
  if (mobile) body.mobile = mobile;
  if (v.note.trim()) body.note = v.note.trim();
  return { body, errors };
}

/** Where a walk-in stands: waiting for its own consultant, offered in turn, nobody to offer it to, or taken. */
export function walkInState(w: WalkIn): "taken" | "own" | "offered" | "nobody" {
  if (w.consultant) return "taken";
  if (w.reserved_for) return "own";
  return w.offered_to ? "offered" : "nobody";
}

/** The walk-ins still waiting come first (oldest first: they have waited longest), then the taken ones,
 * newest first. */
export function orderWalkIns(list: readonly WalkIn[]): WalkIn[] {
  const waiting = list.filter((w) => !w.consultant).sort((a, b) => a.arrived_at.localeCompare(b.arrived_at) || a.id - b.id);
  const taken = list.filter((w) => w.consultant).sort((a, b) => b.arrived_at.localeCompare(a.arrived_at) || b.id - a.id);
  return [...waiting, ...taken];
}

/** Counts of a day's walk-ins as the front desk reads them: groups, people, first visits, waiting. */
export function dayTotals(list: readonly WalkIn[]): { groups: number; people: number; first: number; waiting: number } {
  return {
    groups: list.length,
    people: list.reduce((n, w) => n + w.group_size, 0),
    first: list.filter((w) => w.first_visit).length,
    waiting: list.filter((w) => !w.consultant).length,
  };
}

/** A skip's or an out-of-turn take's reason: required, at most REASON_MAX characters. */
export function reasonProblem(raw: string): FieldErrors[string] | null {
  const r = raw.trim();
  if (!r) return { key: "reception_reason_needed" };
  if (r.length > REASON_MAX) return { key: "reception_too_long", params: { n: REASON_MAX } };
  return null;
}

/** Whether taking the walk-in as `taker` needs a reason: out of turn, or a colleague's returning customer. */
export function takeNeedsReason(w: WalkIn, taker: number): boolean {
  if (w.reserved_for) return w.reserved_for.id !== taker;
  return w.offered_to?.id !== taker;
}

// ---------------------------------------------------------------- the rotation ----------

/** The consultants present in queue order (next first), then the absent ones in roster order. */
export function queueOrder(roster: readonly RosterEntry[]): RosterEntry[] {
  const present = roster.filter((r) => r.queue_position !== null).sort((a, b) => a.queue_position! - b.queue_position!);
  const away = roster.filter((r) => r.queue_position === null).sort((a, b) => a.position - b.position);
  return [...present, ...away];
}

/** A list moved one place up (-1) or down (+1); unchanged at its ends. */
export function moveItem<T>(list: readonly T[], index: number, by: -1 | 1): T[] {
  const to = index + by;
  if (index < 0 || index >= list.length || to < 0 || to >= list.length) return [...list];
  const out = [...list];
  [out[index], out[to]] = [out[to], out[index]];
  return out;
}

/** The i18n key and parameters of one audit line ("张三 跳过：正在接待"). */
export function eventLine(e: RotationEvent): { key: string; params: Record<string, string | number> } {
  const who = e.consultant?.name ?? "";
  const params: Record<string, string | number> = { who, actor: e.actor.name, walk_in: e.walk_in_id ?? "" };
  if (e.kind === "taken") {
    const how = String(e.detail.how ?? "in_turn");
    return { key: `reception_event.taken_${["own", "cover", "out_of_turn"].includes(how) ? how : "in_turn"}`, params };
  }
  if (e.kind === "roster_set") {
    const order = Array.isArray(e.detail.order) ? e.detail.order.length : 0;
    return { key: "reception_event.roster_set", params: { ...params, n: order } };
  }
  const known = ["offered", "skipped", "absent", "back"];
  return { key: `reception_event.${known.includes(e.kind) ? e.kind : "other"}`, params: { ...params, kind: e.kind } };
}

// ---------------------------------------------------------------- partners and registrations ----------

export interface PartnerValues {
  name: string;
  kind: string;
  contact_name: string;
  contact_mobile: string;
}

export function emptyPartner(): PartnerValues {
  return { name: "", kind: "agency", contact_name: "", contact_mobile: "" };
}

export function collectPartner(v: PartnerValues): Collected<Record<string, string>> {
  const errors: FieldErrors = {};
  const name = v.name.trim();
  if (!name) errors.name = { key: "required" };
  else if (name.length > NAME_MAX) errors.name = { key: "reception_too_long", params: { n: NAME_MAX } };
  if (!(PARTNER_KINDS as readonly string[]).includes(v.kind)) errors.kind = { key: "required" };
  const mobile = v.contact_mobile.trim();
  if (mobile && !normalMobile(mobile)) errors.contact_mobile = { key: "reception_mobile_bad" };
  if (Object.keys(errors).length) return { body: null, errors };
  const body: Record<string, string> = { name, kind: v.kind };
  if (v.contact_name.trim()) body.contact_name = v.contact_name.trim();
  if (mobile) body.contact_mobile = mobile;
  return { body, errors };
}

export interface RegistrationValues {
  partner_id: number | null;
  prospect_name: string;
  mobile: string;
  note: string;
}

export function emptyRegistration(): RegistrationValues {
  return { partner_id: null, prospect_name: "", mobile: "", note: "" };
}

export const REGISTRATION_FIELDS = ["partner_id", "prospect_name", "mobile", "note"] as const;

export function collectRegistration(v: RegistrationValues): Collected<Record<string, string | number>> {
  const errors: FieldErrors = {};
  if (v.partner_id === null) errors.partner_id = { key: "required" };
  const name = v.prospect_name.trim();
  if (!name) errors.prospect_name = { key: "required" };
  else if (name.length > NAME_MAX) errors.prospect_name = { key: "reception_too_long", params: { n: NAME_MAX } };
  const mobile = v.mobile.trim();
  if (!mobile) errors.mobile = { key: "required" };
  else if (!normalMobile(mobile)) errors.mobile = { key: "reception_mobile_bad" };
  if (Object.keys(errors).length) return { body: null, errors };
  const body: Record<string, string | number> = { partner_id: v.partner_id!, prospect_name: name, mobile };
  if (v.note.trim()) body.note = v.note.trim();
  return { body, errors };
}

/** A registration refused because another partner holds the mobile (409 at body.mobile, code registered). */
export function isHeldRefusal(err: { status: number; errors?: readonly { field: string; code?: string }[] }): boolean {
  return err.status === 409 && (err.errors ?? []).some((e) => e.field === "body.mobile" && e.code === "registered");
}

/** A server's refusal placed at the form's fields (422 / 409 naming a field); empty when it names none. */
export function refusalAt(err: ServerRefusal, fields: readonly string[]): FieldErrors {
  return serverFieldErrors(err, fields);
}

/** Days (rounded up) a registration still protects its prospect; 0 once past. */
export function daysLeft(untilIso: string, nowMs: number): number {
  const ms = Date.parse(untilIso) - nowMs;
  return ms > 0 ? Math.ceil(ms / 86_400_000) : 0;
}
