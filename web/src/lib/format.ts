// Formatting for people. Money arrives from the API as a decimal string and is formatted as text: it is
// never turned into a float.

export type Lang = "zh" | "en";

const MONEY = /^-?\d+(\.\d+)?$/;

/** "1234567.5" → "¥1,234,567.50"; "" / null → "—"; anything that is not a decimal comes back as it is. */
export function fmtMoney(value: string | number | null | undefined): string {
  if (value === null || value === undefined || value === "") return "—";
  const str = String(value);
  if (!MONEY.test(str)) return str;
  const neg = str.startsWith("-");
  const [int, frac = ""] = str.replace("-", "").split(".");
  const cents = (frac + "00").slice(0, 2);
  return `${neg ? "-" : ""}¥${int.replace(/\B(?=(\d{3})+(?!\d))/g, ",")}.${cents}`;
}

/** A share of one ("0.6") as a percentage ("60%"), at most two decimals, no trailing zeros. */
export function fmtShare(value: string | number | null | undefined): string {
  if (value === null || value === undefined || value === "") return "—";
  const pct = (Number(value) * 100).toFixed(2).replace(/\.?0+$/, "");
  return `${pct}%`;
}

/** An instant in China time, as the office reads it (zh: 2026/12/2 18:05:00). */
export function fmtTime(iso: string | null | undefined, lang: Lang): string {
  if (!iso) return "—";
  return new Date(iso).toLocaleString(lang === "zh" ? "zh-CN" : "en-GB", { timeZone: "Asia/Shanghai", hour12: false });
}

/** Milliseconds as h:mm:ss (or mm:ss under an hour), sign dropped: the caller says "left" or "overdue". */
export function fmtLeft(ms: number): string {
  const s = Math.floor(Math.abs(ms) / 1000);
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = s % 60;
  const pad = (n: number) => String(n).padStart(2, "0");
  return hh ? `${hh}:${pad(mm)}:${pad(ss)}` : `${pad(mm)}:${pad(ss)}`;
}

/** Only http(s) addresses go into an href. */
export function safeUrl(url: string | null | undefined, base = "http://localhost/"): string {
  if (!url) return "#";
  try {
    return ["http:", "https:"].includes(new URL(url, base).protocol) ? url : "#";
  } catch {
    return "#";
  }
}
