// What a warning is about, in words: its case_ref (customer-2, mortgage-…, payment-plan-…) → 客户 #2.
export type Translate = (key: string, params?: Record<string, unknown>) => string;

export function refWords(ref: string, t: Translate): string {
  if (ref === "work-calendar") return t("case_refs.work_calendar"); // the calendar running out (ops)
  const kw = /^keywords-project-(\d+)$/.exec(ref); // a complaint keyword rising (marketing)
  if (kw) return t("case_refs.keywords", { id: kw[1] });
  const m = /^(customer|mortgage|payment-plan)-(.+)$/.exec(ref);
  return m ? t(`case_refs.${m[1].replace("-", "_")}`, { id: m[2] }) : ref;
}
