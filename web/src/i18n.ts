// vue-i18n: Chinese by default, English on a switch (kept in localStorage). Every string a person reads
// comes from locales/; what the API says when it refuses is shown by its code (serverMessage), from the
// catalogue generated out of domain/messages.py (locales/errors.ts).
import { createI18n } from "vue-i18n";
import en from "./locales/en";
import { ERROR_CATALOGUE, VOCABULARY, type CatalogueEntry } from "./locales/errors";
import zh from "./locales/zh-CN";
import type { Lang } from "./lib/format";

const LANG_KEY = "ef.lang";

function initialLang(): Lang {
  try {
    return localStorage.getItem(LANG_KEY) === "en" ? "en" : "zh";
  } catch {
    return "zh";
  }
}

type Messages = { [key: string]: string | Messages };

function merge(into: Messages, from: Messages): Messages {
  for (const [key, value] of Object.entries(from)) {
    const here = into[key];
    into[key] = typeof value === "object" && typeof here === "object" ? merge({ ...here }, value) : value;
  }
  return into;
}

// Screens may keep their own messages in locales/extra/<name>.ts ({ zh: {...}, en: {...} }).
const extra = import.meta.glob<{ default: { zh: Messages; en: Messages } }>("./locales/extra/*.ts", { eager: true });
const zhAll = merge({}, zh);
const enAll = merge({}, en);
for (const module of Object.values(extra)) {
  merge(zhAll, module.default.zh);
  merge(enAll, module.default.en);
}
export const MESSAGES = { zh: zhAll, en: enAll };

export const i18n = createI18n({
  legacy: false,
  locale: initialLang(),
  fallbackLocale: "zh",
  messages: MESSAGES,
  missingWarn: false,
  fallbackWarn: false,
});

export function currentLang(): Lang {
  return i18n.global.locale.value as Lang;
}

export function setLang(lang: Lang): void {
  i18n.global.locale.value = lang;
  try {
    localStorage.setItem(LANG_KEY, lang);
  } catch {
    /* private mode: the switch lasts for this page */
  }
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
}

// ---------------------------------------------------------------- what the API says when it refuses

/** The error body's fields a refusal is shown from (api/errors.py ErrorBody): `key` a code of the
 * catalogue (or the category), `params` its parameters, `message` the English, `message_zh` the Chinese. */
export interface ServerError {
  message?: string | null;
  key?: string | null;
  params?: Record<string, unknown> | null;
  message_zh?: string | null;
}

type Params = Record<string, unknown>;
const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

function kindOf(kind: string): [string, boolean] {
  return kind.endsWith("[]") ? [kind.slice(0, -2), true] : [kind, false];
}

/** A parameter's words: a list joined, a vocabulary's code by its Chinese label (English keeps the code). */
function word(value: unknown, kind: string, lang: Lang): string {
  const [base, many] = kindOf(kind);
  const sep = lang === "zh" ? "、" : ", ";
  if (Array.isArray(value)) return value.map((v) => word(v, base, lang)).join(sep);
  if (many) return word([value], base, lang);
  const text = value === null || value === undefined ? "" : String(value);
  return lang === "zh" ? (VOCABULARY[base]?.[text] ?? text) : text;
}

function sameNames(entry: CatalogueEntry, params: Params): boolean {
  const want = Object.keys(entry.params);
  const given = Object.keys(params);
  return want.length === given.length && want.every((name) => name in params);
}

/** The words of a catalogue code with its parameters in `lang`; null for an unknown code, a category
 * (generic) code, or parameters that are not exactly the code's. */
export function renderMessage(key: string, params: Params | null | undefined, lang: Lang = currentLang()): string | null {
  const entry = Object.prototype.hasOwnProperty.call(ERROR_CATALOGUE, key) ? ERROR_CATALOGUE[key] : undefined;
  const given = params ?? {};
  if (!entry || entry.generic || !sameNames(entry, given)) return null;
  const one = entry.en_one && entry.plural && String(given[entry.plural]) === "1";
  const template = lang === "zh" ? entry.zh : one ? entry.en_one! : entry.en;
  return template.replace(PLACEHOLDER, (_, name: string) => word(given[name], entry.params[name], lang));
}

// Recognising an English message that came without its code (an older answer, or a string only): the whole
// text must be what a template makes (domain/messages.py recognise does the same).
const SCALAR: Record<string, string> = {
  text: ".+?",
  int: "-?\\d+",
  id: "[0-9A-Za-z][0-9A-Za-z-]*",
  amount: "-?\\d+(?:\\.\\d+)?",
  date: "\\d{4}-\\d{2}-\\d{2}",
};
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

function pattern(kind: string): string {
  const [base, many] = kindOf(kind);
  const words = VOCABULARY[base];
  const one = words
    ? `(?:${Object.keys(words).sort((a, b) => b.length - a.length).map(escape).join("|")})`
    : SCALAR[base] ?? SCALAR.text;
  return many ? `${one}(?:, ${one})*` : one;
}

function convert(text: string, kind: string): unknown {
  const [base, many] = kindOf(kind);
  if (many) return text.split(", ").map((t) => convert(t, base));
  if (base === "int" || (base === "id" && /^\d+$/.test(text))) return Number(text);
  return text;
}

interface Recogniser {
  key: string;
  re: RegExp;
  names: string[];
  literal: number;
}

let recognisers: Recogniser[] | null = null;

function allRecognisers(): Recogniser[] {
  if (recognisers) return recognisers;
  const out: Recogniser[] = [];
  for (const [key, entry] of Object.entries(ERROR_CATALOGUE)) {
    if (entry.generic) continue;
    for (const template of [entry.en, entry.en_one]) {
      if (!template) continue;
      const names: string[] = [];
      let source = "";
      let at = 0;
      for (const m of template.matchAll(PLACEHOLDER)) {
        source += escape(template.slice(at, m.index)) + `(${pattern(entry.params[m[1]])})`;
        names.push(m[1]);
        at = m.index! + m[0].length;
      }
      source += escape(template.slice(at));
      out.push({ key, re: new RegExp(`^${source}$`, "s"), names, literal: template.replace(PLACEHOLDER, "").length });
    }
  }
  recognisers = out.sort((a, b) => b.literal - a.literal); // the most specific template first
  return recognisers;
}

/** The code and parameters of an English message a catalogue template makes, or null. */
export function recogniseMessage(text: string | null | undefined): { key: string; params: Params } | null {
  if (!text) return null;
  for (const r of allRecognisers()) {
    const m = r.re.exec(text);
    if (!m) continue;
    const params: Params = {};
    r.names.forEach((name, i) => (params[name] = convert(m[i + 1], ERROR_CATALOGUE[r.key].params[name])));
    return { key: r.key, params };
  }
  return null;
}

/** What the API said, in the person's language.
 *
 * Given the error body (or an error carrying its `key`, `params`, `message_zh`): the words of its code with
 * its parameters; for a code this catalogue does not know (or a category), `message_zh` in Chinese and
 * `message` in English.
 * Given only the English (callers that have nothing else): in Chinese, the words of the code it is the
 * template of, with the English kept beside (`中文（English）`); anything else as it came. */
export function serverMessage(source: string | ServerError | null | undefined, lang: Lang = currentLang()): string {
  if (!source) return "";
  if (typeof source === "string") {
    if (lang !== "zh") return source;
    const found = recogniseMessage(source);
    const chinese = found && renderMessage(found.key, found.params, "zh");
    return chinese ? `${chinese}（${source}）` : source;
  }
  const english = source.message ?? "";
  if (source.key) {
    const text = renderMessage(source.key, source.params, lang);
    if (text !== null) return text;
  } else if (english) {
    const found = recogniseMessage(english);
    const text = found && renderMessage(found.key, found.params, lang);
    if (text) return text;
  }
  if (lang === "zh" && source.message_zh) return source.message_zh;
  return english;
}

/** An escalation reason as the domain words it ("loss 69000.50 CNY exceeds 50000 CNY", or its code), in the
 * person's language. */
export function reasonText(reason: string | { code: string; params?: Params }, lang: Lang = currentLang()): string {
  if (typeof reason !== "string") return renderMessage(reason.code, reason.params ?? {}, lang) ?? reason.code;
  if (lang !== "zh") return reason;
  const found = recogniseMessage(reason);
  return (found && found.key.startsWith("escalation.") && renderMessage(found.key, found.params, "zh")) || reason;
}

/** The refund quote's explanation (domain/refund.py quote_refund), in Chinese: "tier deposit_paid:
 * 60%–80%, share 60%" → 阶梯「已付定金未网签」60%–80%，退款比例 60%. Unknown text comes back as it is. */
export function quoteReasonText(reason: string | null | undefined, lang: Lang = currentLang()): string {
  if (!reason || lang !== "zh") return reason ?? "";
  const t = i18n.global.t;
  const tier = /^tier (\w+): (\d+%)–(\d+%), share (\d+%)( \(above the tier: city GM approval required\))?$/.exec(reason);
  if (tier) {
    const stage = i18n.global.te(`tier_stages.${tier[1]}`) ? t(`tier_stages.${tier[1]}`) : tier[1];
    return `阶梯「${stage}」${tier[2]}–${tier[3]}，退款比例 ${tier[4]}${tier[5] ? "（高于阶梯上限，须城市总经理审批）" : ""}`;
  }
  const known: Record<string, string> = {
    "legal route (developer fault): no refund is computed": "转法务（开发商过错），不计算退款",
    "legal route (loan already disbursed): no refund is computed": "转法务（已放款），不计算退款",
    "订金 is refundable in full": "订金全额退还",
    "neither side at fault: full refund": "双方均无过错，全额退还",
  };
  return known[reason] ?? serverMessage(reason, lang);
}
