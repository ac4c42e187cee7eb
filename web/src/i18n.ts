// vue-i18n: Chinese by default, English on a switch (kept in localStorage). Every string a person reads
// comes from locales/; the API's English messages are translated by serverMessage.
import { createI18n } from "vue-i18n";
import en from "./locales/en";
import { SERVER_ZH } from "./locales/server";
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

/** A server message in the person's language: the known ones translated, the English kept beside. */
export function serverMessage(detail: string | null | undefined, lang: Lang = currentLang()): string {
  if (!detail) return "";
  if (lang !== "zh") return detail;
  for (const [english, chinese] of SERVER_ZH) if (detail.includes(english)) return `${chinese}（${detail}）`;
  return detail;
}

/** An escalation reason as the domain words it ("loss 69000.50 CNY exceeds 50000 CNY"), in Chinese. */
export function reasonText(reason: string, lang: Lang = currentLang()): string {
  if (lang !== "zh") return reason;
  const m = /^loss ([\d.]+) CNY exceeds ([\d.]+) CNY$/.exec(reason);
  if (m) return `经济损失 ${m[1]} 元，超过 ${m[2]} 元`;
  const hit = SERVER_ZH.find(([english]) => reason === english);
  return hit ? hit[1] : reason;
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
