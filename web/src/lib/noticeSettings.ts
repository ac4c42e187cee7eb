// My notification settings, without Vue: the form made from GET /api/me/notification-settings, the checks
// made before PUT (the server's rules: an address for e-mail, a quiet period with both ends, which differ)
// and where a refusal of the server belongs. Messages are i18n keys or the server's own words.
import { fieldOf, type FieldErrors } from "./taskForms";

export const NOTICE_LANGUAGES = ["zh-CN", "en"] as const;
export type NoticeLanguage = (typeof NOTICE_LANGUAGES)[number];

/** GET and PUT /api/me/notification-settings */
export interface NoticeSettings {
  email: string | null;
  /** always "inapp"; "email" when notices also go by e-mail */
  channels: string[];
  language: NoticeLanguage;
  /** "HH:MM", or null for no quiet period */
  quiet_start: string | null;
  quiet_end: string | null;
}

/** What the form holds (the time pickers give "HH:mm" or null). */
export interface SettingsValues {
  email_on: boolean;
  email: string;
  language: NoticeLanguage;
  quiet_start: string | null;
  quiet_end: string | null;
}

export const EMAIL_MAX = 254;
const EMAIL_RE = /^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$/; // as the server checks it
const TIME_RE = /^([01]\d|2[0-3]):[0-5]\d$/;

/** The form for the settings the server holds (anything it does not know as defaults). */
export function settingsValues(s: Partial<NoticeSettings> | null | undefined): SettingsValues {
  const language = (NOTICE_LANGUAGES as readonly string[]).includes(s?.language ?? "") ? (s!.language as NoticeLanguage) : "zh-CN";
  return {
    email_on: !!s?.channels?.includes("email"),
    email: s?.email ?? "",
    language,
    quiet_start: hhmm(s?.quiet_start),
    quiet_end: hhmm(s?.quiet_end),
  };
}

/** "22:00" from "22:00" or "22:00:00"; null for none or anything else. */
export function hhmm(raw: string | null | undefined): string | null {
  const v = (raw ?? "").trim().slice(0, 5);
  return TIME_RE.test(v) ? v : null;
}

/** Does a quiet period run past midnight (22:00–08:00)? */
export function crossesMidnight(start: string | null, end: string | null): boolean {
  return !!start && !!end && end < start;
}

/** Is `time` ("HH:MM") inside the quiet period (the start included, the end not)? */
export function inQuiet(time: string, start: string | null, end: string | null): boolean {
  if (!start || !end || start === end) return false;
  return start < end ? time >= start && time < end : time >= start || time < end;
}

export interface Collected<B> {
  /** null when a check failed: nothing is sent */
  body: B | null;
  errors: FieldErrors;
}

/** The form's field names (FormField names, ids f-<name>). */
export const SETTINGS_FIELDS = ["email_on", "email", "language", "quiet_start", "quiet_end"] as const;

/** Check the form and build the PUT: in-app always, e-mail when switched on (with an address), the address
 * kept (or null) either way, and a quiet period with both ends or neither. */
export function collectSettings(v: SettingsValues): Collected<NoticeSettings> {
  const errors: FieldErrors = {};
  const email = v.email.trim();
  if (email && (!EMAIL_RE.test(email) || email.length > EMAIL_MAX)) errors.email = { key: "nsettings_email_bad" };
  else if (v.email_on && !email) errors.email = { key: "nsettings_email_needed" };
  if (!(NOTICE_LANGUAGES as readonly string[]).includes(v.language)) errors.language = { key: "required" };
  const start = v.quiet_start ? hhmm(v.quiet_start) : null;
  const end = v.quiet_end ? hhmm(v.quiet_end) : null;
  if (v.quiet_start && !start) errors.quiet_start = { key: "nsettings_time_bad" };
  if (v.quiet_end && !end) errors.quiet_end = { key: "nsettings_time_bad" };
  if (!errors.quiet_start && !errors.quiet_end) {
    if (start && !end) errors.quiet_end = { key: "nsettings_quiet_both" };
    else if (end && !start) errors.quiet_start = { key: "nsettings_quiet_both" };
    else if (start && start === end) errors.quiet_end = { key: "nsettings_quiet_same" };
  }
  if (Object.keys(errors).length) return { body: null, errors };
  return {
    body: {
      email: email || null,
      channels: v.email_on ? ["inapp", "email"] : ["inapp"],
      language: v.language,
      quiet_start: start,
      quiet_end: end,
    },
    errors,
  };
}

/** The API's field names → the form's (the e-mail channel without an address is about the address). */
const API_FIELDS: Record<string, string> = {
  email: "email", channels: "email", language: "language", quiet_start: "quiet_start", quiet_end: "quiet_end",
};

/** Which field a message that names none is about (first match wins). */
export const SETTINGS_HINTS: readonly [string, string][] = [
  ["quiet_end", "quiet_end"], ["quiet_start", "quiet_start"], ["quiet", "quiet_end"],
  ["e-mail", "email"], ["email", "email"], ["address", "email"], ["language", "language"],
];

export interface Refusal {
  status: number;
  message: string;
  errors?: readonly { field: string; message: string }[];
}

/** The settings API's messages (api/routes/notifications.py), to the keys of the same checks made here. */
export const SETTINGS_MESSAGES: readonly [string, string][] = [
  ["is not an e-mail address", "nsettings_email_bad"],
  ["give an e-mail address", "nsettings_email_needed"],
  ["need both a start and an end", "nsettings_quiet_both"],
  ["cannot start and end at the same time", "nsettings_quiet_same"],
];

function known(message: string): FieldErrors[string] {
  const hit = SETTINGS_MESSAGES.find(([needle]) => message.includes(needle));
  return hit ? { key: hit[1] } : { server: message, invalid: true };
}

/** A server refusal placed at the form's fields: a known message in the person's language, else the server's
 * own words; empty when it names none of the form's fields. */
export function settingsRefusal(err: Refusal): FieldErrors {
  const out: FieldErrors = {};
  for (const item of err.errors ?? []) {
    const name = API_FIELDS[fieldOf(item.field)];
    if (name && !out[name]) out[name] = known(item.message);
  }
  if (Object.keys(out).length || err.status !== 422) return out;
  const hit = SETTINGS_HINTS.find(([needle]) => err.message.toLowerCase().includes(needle));
  if (hit) out[hit[1]] = known(err.message);
  return out;
}
