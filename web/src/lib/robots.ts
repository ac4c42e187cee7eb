// A project's WeCom / DingTalk group robots, without Vue: what the add and edit forms check before anything
// is sent (the same rules as api/routes/robots.py), the bodies of POST /api/projects/{id}/robots and
// PATCH /api/robots/{id}, where a refusal of the server belongs, and what a failed test message says.
// Messages are i18n keys (or the server's own words), so they follow a language switch.
import type { Lang } from "./format";
import { fieldOf, type FieldErrors } from "./taskForms";

export const ROBOT_KINDS = ["wecom", "dingtalk"] as const;
export type RobotKind = (typeof ROBOT_KINDS)[number];

/** GET /api/projects/{id}/robots, POST, PATCH */
export interface Robot {
  id: number;
  project_id: number;
  kind: RobotKind | string;
  name: string;
  /** the webhook URL as the server shows it (its key masked) */
  webhook: string;
  has_secret: boolean;
  /** the notice kinds it receives; empty: all of them */
  notice_kinds: string[];
  active: boolean;
}

/** GET /api/notice-kinds: what a robot may subscribe to. */
export interface NoticeKind {
  kind: string;
  urgent: boolean;
}

/** POST /api/robots/{id}/test */
export interface TestResult {
  delivered: boolean;
  message: string;
}

/** The notice kinds the app has words for (noticeKind.<kind> in locales), in the order a list shows them. */
export const NOTICE_KINDS = [
  "task_opened", "task_claimed", "task_reassigned", "reminder", "sla_breach", "escalation", "warning_raised",
  "warning_escalated", "followup_action", "regional_brief", "refund_instruction", "channel_dead", "test",
] as const;

export const NAME_MAX = 64;
export const WEBHOOK_MAX = 512;
export const SECRET_MAX = 256;

/** A notice kind in the person's language; the kind itself when the app has no words for it. */
export function noticeKindLabel(kind: string, t: (key: string) => string, te: (key: string) => boolean): string {
  const key = `noticeKind.${kind}`;
  return te(key) ? t(key) : kind;
}

/** The kinds a robot receives, as a list shows them: "all" (null) when it names none. */
export function kindsSummary(kinds: readonly string[], label: (kind: string) => string, separator = "、"): string | null {
  return kinds.length ? kinds.map(label).join(separator) : null;
}

/** The kinds chosen, each once, in the order of `offered` (the server's list); kinds it does not offer
 * (any longer) are kept at the end, for the server to judge. */
export function orderKinds(chosen: readonly string[], offered: readonly string[]): string[] {
  const set = new Set(chosen);
  return [...offered.filter((k) => set.has(k)), ...[...set].filter((k) => !offered.includes(k))];
}

/** What is wrong with a webhook URL (blank allowed only when `optional`), as an i18n message. */
export function webhookProblem(raw: string, optional = false): FieldErrors[string] | null {
  const url = raw.trim();
  if (!url) return optional ? null : { key: "required" };
  if (!/^https?:\/\/\S+$/i.test(url)) return { key: "robots_webhook_bad", params: { https: "https://", http: "http://" } };
  if (url.length > WEBHOOK_MAX) return { key: "robots_too_long", params: { n: WEBHOOK_MAX } };
  return null;
}

/** The add form. */
export interface RobotValues {
  kind: RobotKind;
  name: string;
  webhook_url: string;
  secret: string;
  notice_kinds: string[];
}

export function emptyRobot(): RobotValues {
  return { kind: "wecom", name: "", webhook_url: "", secret: "", notice_kinds: [] };
}

/** POST /api/projects/{project_id}/robots */
export interface RobotRequest {
  kind: RobotKind;
  name: string;
  webhook_url: string;
  secret?: string;
  notice_kinds: string[];
}

export interface Collected<B> {
  /** null when a check failed: nothing is sent */
  body: B | null;
  errors: FieldErrors;
}

/** The add form's field names (FormField names, ids f-<name>). */
export const ROBOT_FIELDS = ["kind", "name", "webhook_url", "secret", "notice_kinds"] as const;

/** Check the add form and build its request: a name, an http(s) webhook URL, the signing secret of a DingTalk
 * robot (a WeCom robot has none: a secret typed before switching the kind is not sent), the kinds chosen
 * (none: all). */
export function collectRobot(v: RobotValues, offered: readonly string[] = NOTICE_KINDS): Collected<RobotRequest> {
  const errors: FieldErrors = {};
  const name = v.name.trim();
  const url = v.webhook_url.trim();
  const secret = v.secret.trim();
  if (!(ROBOT_KINDS as readonly string[]).includes(v.kind)) errors.kind = { key: "required" };
  if (!name) errors.name = { key: "required" };
  else if (name.length > NAME_MAX) errors.name = { key: "robots_too_long", params: { n: NAME_MAX } };
  const bad = webhookProblem(url);
  if (bad) errors.webhook_url = bad;
  if (v.kind === "dingtalk") {
    if (!secret) errors.secret = { key: "robots_secret_needed" };
    else if (secret.length > SECRET_MAX) errors.secret = { key: "robots_too_long", params: { n: SECRET_MAX } };
  }
  if (Object.keys(errors).length) return { body: null, errors };
  const body: RobotRequest = { kind: v.kind, name, webhook_url: url, notice_kinds: orderKinds(v.notice_kinds, offered) };
  if (v.kind === "dingtalk") body.secret = secret;
  return { body, errors };
}

/** The edit form of one robot: its name and kinds, and a new webhook URL or secret (blank: unchanged). */
export interface EditValues {
  name: string;
  notice_kinds: string[];
  webhook_url: string;
  secret: string;
}

export function editValues(r: Robot): EditValues {
  return { name: r.name, notice_kinds: [...r.notice_kinds], webhook_url: "", secret: "" };
}

/** PATCH /api/robots/{id}: any of these */
export interface RobotPatch {
  name?: string;
  notice_kinds?: string[];
  active?: boolean;
  webhook_url?: string;
  secret?: string;
}

const sameKinds = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && [...a].sort().join("\n") === [...b].sort().join("\n");

/** Check the edit form and build the PATCH of what changed (an empty body: nothing changed). A DingTalk robot
 * given a new webhook URL keeps its secret unless a new one is typed; one that has none needs one then. */
export function collectEdit(r: Robot, v: EditValues, offered: readonly string[] = NOTICE_KINDS): Collected<RobotPatch> {
  const errors: FieldErrors = {};
  const body: RobotPatch = {};
  const name = v.name.trim();
  if (!name) errors.name = { key: "required" };
  else if (name.length > NAME_MAX) errors.name = { key: "robots_too_long", params: { n: NAME_MAX } };
  else if (name !== r.name) body.name = name;
  const kinds = orderKinds(v.notice_kinds, offered);
  if (!sameKinds(kinds, r.notice_kinds)) body.notice_kinds = kinds;
  const url = v.webhook_url.trim();
  const bad = webhookProblem(url, true);
  if (bad) errors.webhook_url = bad;
  else if (url) body.webhook_url = url;
  const secret = v.secret.trim();
  if (r.kind === "dingtalk") {
    if (secret.length > SECRET_MAX) errors.secret = { key: "robots_too_long", params: { n: SECRET_MAX } };
    else if (secret) body.secret = secret;
    else if (url && !r.has_secret) errors.secret = { key: "robots_secret_needed" };
  }
  return { body: Object.keys(errors).length ? null : body, errors };
}

// ---------------------------------------------------------------- the server's refusals ----------

/** The robot API's messages (api/routes/robots.py) a person meets: the words to look for, the field they are
 * about and their translation key. */
export const ROBOT_MESSAGES: readonly [string, string, string][] = [
  ["webhook URL must start with", "webhook_url", "robots_srv.bad_url"],
  ["needs its signing secret", "secret", "robots_srv.needs_secret"],
  ["unknown notice kind", "notice_kinds", "robots_srv.unknown_kind"],
  ["unknown robot kind", "kind", "robots_srv.unknown_robot_kind"],
];

export interface Refusal {
  status: number;
  message: string;
  errors?: readonly { field: string; message: string }[];
}

/** A server refusal of the add or edit form placed at its fields: the fields its `errors` name, else, for a
 * message that names none, the field a known message is about, with its words in the person's language and
 * the server's own beside them (in Chinese: 中文（server words）). Empty when it is about none of `fields`. */
export function robotRefusal(
  err: Refusal,
  fields: readonly string[],
  lang: Lang,
  t: (key: string) => string,
): FieldErrors {
  const out: FieldErrors = {};
  for (const item of err.errors ?? []) {
    const name = fieldOf(item.field);
    if (name && fields.includes(name) && !out[name]) out[name] = { server: item.message, invalid: true };
  }
  if (Object.keys(out).length || err.status !== 422) return out;
  const hit = ROBOT_MESSAGES.find(([needle, field]) => err.message.includes(needle) && fields.includes(field));
  if (hit) out[hit[1]] = { server: lang === "zh" ? `${t(hit[2])}（${err.message}）` : err.message };
  return out;
}

const TEST_PREFIX = "the robot did not take the test message:";

/** What the robot itself answered to a failed test message ("wecom: errcode 93000: invalid webhook url"): the
 * server's message without its own preamble, verbatim. */
export function robotWords(message: string): string {
  const i = message.indexOf(TEST_PREFIX);
  return (i >= 0 ? message.slice(i + TEST_PREFIX.length) : message).trim();
}

/** The robot's error code in its answer (`errcode 93000`), or null. */
export function robotErrcode(message: string): number | null {
  const m = /errcode\s*[:=]?\s*(-?\d+)/i.exec(message);
  return m ? Number(m[1]) : null;
}

/** What the robots' common error codes mean to the person fixing them (keys robots_errcodes.<code>). */
export const KNOWN_ERRCODES = [93000, 310000, 300001, 300005, 45009, 130101] as const;

/** The translation key explaining a failed test message (its errcode when a known one), or null. */
export function testFailureKey(message: string): string | null {
  const code = robotErrcode(message);
  if (code !== null && (KNOWN_ERRCODES as readonly number[]).includes(code)) return `robots_errcodes.e${code}`;
  if (/\bHTTP \d{3}\b/.test(message)) return "robots_errcodes.http";
  if (/no answer within the timeout|ConnectError|ConnectTimeout/.test(message)) return "robots_errcodes.unreachable";
  return null;
}

// ---------------------------------------------------------------- undelivered notices -----------

/** The channels a notice is delivered by (keys robots_channels.<channel>). */
export const DELIVERY_CHANNELS = ["wecom", "dingtalk", "email", "inapp"] as const;

/** How many undelivered notices the screen asks for (the newest). */
export const DEAD_LIMIT = 50;

/** GET /api/notice-deliveries/dead, POST /api/notice-deliveries/{id}/retry: a delivery that was given up. */
export interface DeadDelivery {
  id: number;
  project_id: number | null;
  notice_kind: string;
  title: string;
  channel: string;
  /** the robot's name, or the person's */
  to: string;
  attempts: number;
  /** what the channel last answered, verbatim */
  last_error: string | null;
  created_at: string;
}

/** The address of a project's undelivered notices, the newest `limit`. */
export function deadPath(projectId: number, limit = DEAD_LIMIT): string {
  return `/api/notice-deliveries/dead?project_id=${encodeURIComponent(projectId)}&limit=${limit}`;
}

/** A delivery channel in the person's language; the channel itself when the app has no words for it. */
export function channelLabel(channel: string, t: (key: string) => string, te: (key: string) => boolean): string {
  const key = `robots_channels.${channel}`;
  return te(key) ? t(key) : channel;
}

/** One undelivered notice as a table row shows it. */
export interface DeadRow {
  id: number;
  time: string;
  channel: string;
  to: string;
  title: string;
  attempts: number;
  /** the error as the channel said it, verbatim; "—" when none was kept */
  error: string;
}

/** An undelivered notice as a row: its time formatted by `time` (lib/format's fmtTime), its channel labelled. */
export function deadRow(d: DeadDelivery, time: (iso: string) => string, channel: (c: string) => string): DeadRow {
  const error = (d.last_error ?? "").trim();
  return {
    id: d.id,
    time: time(d.created_at),
    channel: channel(d.channel),
    to: d.to || "—",
    title: d.title || "—",
    attempts: d.attempts,
    error: error ? d.last_error! : "—",
  };
}

/** The list without the delivery sent again (it is pending now, no longer undelivered). */
export function withoutDelivery<T extends { id: number }>(list: readonly T[], id: number): T[] {
  return list.filter((d) => d.id !== id);
}

/** The translation key explaining a refused retry (409: it is no longer undelivered), or null: a plain error. */
export function retryRefusalKey(status: number): string | null {
  return status === 409 ? "robots_dead_not_dead" : null;
}

/** Whether the list may hold only the newest of more (it came back as long as was asked for). */
export function deadListCut(count: number, limit = DEAD_LIMIT): boolean {
  return count >= limit;
}
