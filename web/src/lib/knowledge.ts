// The 话术 library, complaint keywords and the knowledge-base search (issue 16), without Vue: the API's shapes
// (api/routes/knowledge.py), a snippet split into highlighted parts (rendered as text, never as HTML), the
// search and suggestion URLs, the script form's checks and body, who sees which button on a script, and the
// keyword trend as chart series.

// ---------------------------------------------------------------- the API's shapes ----------

export const REASON_CODES = ["family_disagreement", "funds_shortfall", "competitor_comparison", "other"] as const;
export type ReasonCode = (typeof REASON_CODES)[number];
export type ScriptStatus = "draft" | "approved" | "retired";

export interface Script {
  id: number;
  project_id: number | null;
  title: string;
  body: string;
  reason_codes: string[];
  keywords: string[];
  status: ScriptStatus;
  author_id: number;
  author: string;
  author_role: string;
  approved_by: number | null;
  approver: string | null;
  approved_at: string | null;
  updated_at: string;
  used: number;
  helpful: number;
  not_helpful: number;
  cases: number;
}

export interface Suggestion {
  script: Script;
  score: number;
  my_mark: "used" | "helpful" | "not_helpful" | null;
}

export interface Hit {
  case_id: string;
  case_no: string;
  project_id: number;
  title: string;
  path: string;
  reasons: string[];
  snippet: string;
  archived_at: string;
  rank: number;
}

export interface SearchOut {
  query: string;
  terms: string[];
  items: Hit[];
  more: boolean;
  took_ms: number;
}

export interface KeywordRow {
  keyword: string;
  total: number;
  weeks: number[];
  rising: boolean;
}

export interface KeywordReport {
  weeks: string[];
  week_starts: string[];
  documents: number;
  by_source: Record<string, number>;
  top: KeywordRow[];
  rule: string;
}

export interface KeywordWarning {
  id: number;
  project_id: number;
  level: string;
  detail: string;
  raised_at: string;
  response_due: string;
  respond_role: string;
  responded_at: string | null;
}

// ---------------------------------------------------------------- search ----------

export const QUERY_MAX = 200;
export const PAGE = 20;

/** The search URL, or null when there is nothing to search for. */
export function searchPath(query: string, offset = 0): string | null {
  const q = query.trim().slice(0, QUERY_MAX);
  if (!q) return null;
  const p = new URLSearchParams({ q, limit: String(PAGE) });
  if (offset > 0) p.set("offset", String(offset));
  return `/api/knowledge/search?${p.toString()}`;
}

export interface Part {
  text: string;
  hit: boolean;
}

/** The snippet in parts, the searched words marked (case-insensitive; longest word first where they overlap). */
export function highlight(snippet: string, terms: readonly string[]): Part[] {
  const words = [...new Set(terms.filter((t) => t.length > 0))].sort((a, b) => b.length - a.length);
  if (!snippet) return [];
  if (words.length === 0) return [{ text: snippet, hit: false }];
  const lower = snippet.toLowerCase();
  const parts: Part[] = [];
  let plain = "";
  let i = 0;
  while (i < snippet.length) {
    const w = words.find((x) => lower.startsWith(x.toLowerCase(), i));
    if (w) {
      if (plain) parts.push({ text: plain, hit: false });
      plain = "";
      parts.push({ text: snippet.slice(i, i + w.length), hit: true });
      i += w.length;
    } else {
      plain += snippet[i];
      i += 1;
    }
  }
  if (plain) parts.push({ text: plain, hit: false });
  return parts;
}

// ---------------------------------------------------------------- 话术 ----------

/** The suggestions URL for a case and the reasons on the form now (none: the intake's own). */
export function suggestionsPath(caseId: string, reasons: readonly string[] = []): string {
  const p = new URLSearchParams();
  for (const r of [...new Set(reasons)].filter((x) => (REASON_CODES as readonly string[]).includes(x))) p.append("reasons", r);
  const qs = p.toString();
  return `/api/refund-cases/${encodeURIComponent(caseId)}/script-suggestions${qs ? `?${qs}` : ""}`;
}

export const AUTHOR_ROLES = ["marketing", "legal"] as const;
export const TITLE_MAX = 128;
export const BODY_MAX = 4000;
export const KEYWORD_MAX = 20;

export interface ScriptForm {
  title: string;
  body: string;
  reason_codes: string[];
  /** comma-, 、- or space-separated */
  keywords: string;
  project_id: number | null;
}

export const emptyScript = (projectId: number | null): ScriptForm => ({
  title: "", body: "", reason_codes: [], keywords: "", project_id: projectId,
});

export const formOf = (s: Script): ScriptForm => ({
  title: s.title, body: s.body, reason_codes: [...s.reason_codes], keywords: s.keywords.join("，"), project_id: s.project_id,
});

/** The keywords typed: split on commas (either width), 、, semicolons or spaces; each once; 2–32 characters. */
export function splitKeywords(text: string): string[] {
  return [...new Set(text.split(/[\s,，、;；]+/).map((x) => x.trim()).filter((x) => x.length > 0))];
}

export interface ScriptBody {
  title: string;
  body: string;
  reason_codes: string[];
  keywords: string[];
  project_id: number | null;
}

/** The body to send, or the i18n keys of what is wrong by field. */
export function collectScript(f: ScriptForm): { body: ScriptBody } | { errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const title = f.title.trim();
  const body = f.body.trim();
  const keywords = splitKeywords(f.keywords);
  if (!title) errors.title = "kb_required";
  else if (title.length > TITLE_MAX) errors.title = "kb_too_long";
  if (!body) errors.body = "kb_required";
  else if (body.length > BODY_MAX) errors.body = "kb_too_long";
  if (keywords.some((k) => k.length < 2 || k.length > 32)) errors.keywords = "kb_keyword_length";
  else if (keywords.length > KEYWORD_MAX) errors.keywords = "kb_keyword_count";
  if (f.reason_codes.length === 0 && keywords.length === 0) errors.reason_codes = "kb_needs_tag";
  if (Object.keys(errors).length) return { errors };
  return { body: { title, body, reason_codes: [...new Set(f.reason_codes)].sort(), keywords, project_id: f.project_id } };
}

export type ScriptAction = "edit" | "approve" | "retire";

/** What a person may do with a script: marketing or legal write; another one of them approves a draft. */
export function scriptActions(s: Script, me: { id: number; roles: readonly string[] } | null): ScriptAction[] {
  if (!me || !me.roles.some((r) => (AUTHOR_ROLES as readonly string[]).includes(r))) return [];
  if (s.status === "retired") return [];
  const out: ScriptAction[] = ["edit"];
  if (s.status === "draft" && s.author_id !== me.id) out.push("approve");
  out.push("retire");
  return out;
}

/** Helpful marks as a share of the marks that said either way, in whole per cent; null when none did. */
export function helpfulRate(s: Pick<Script, "helpful" | "not_helpful">): number | null {
  const said = s.helpful + s.not_helpful;
  return said === 0 ? null : Math.round((100 * s.helpful) / said);
}

// ---------------------------------------------------------------- keywords ----------

/** The trend of the top `n` keywords as line series (one per keyword, a count per week). */
export function trendSeries(r: KeywordReport, n = 5): { name: string; data: number[] }[] {
  return r.top.slice(0, n).map((k) => ({ name: k.keyword, data: [...k.weeks] }));
}

/** This week's count against last week's (the last two weeks of the report). */
export function weekChange(k: KeywordRow): { now: number; before: number } {
  const w = k.weeks;
  return { now: w[w.length - 1] ?? 0, before: w[w.length - 2] ?? 0 };
}
