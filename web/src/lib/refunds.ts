// Refund instructions and their payment, without Vue: the status words, who may approve a payment of a
// different amount, and the checks and body of finance's payment (退款支付 task: POST /api/tasks/{id}/complete).
// Money stays a decimal string: compared by its digits, never parsed into a float.

/** GET /api/refund-instructions: one instruction (the paid_* fields when the API gives them). */
export interface RefundInstruction {
  id: number;
  case_id: string;
  case_no: string;
  customer_name: string;
  amount: string;
  share: string;
  route: string;
  policy_version: string;
  status: string;
  created_at: string;
  paid_amount?: string | null;
  paid_on?: string | null;
  bank_reference?: string | null;
}

/** POST /api/refund-instructions/{id}/payment/approve answers the instruction's payment as it now stands. */
export interface PaymentOut {
  id: number;
  case_id: string;
  status: string;
  amount: string;
  paid_amount: string | null;
  paid_on: string | null;
  bank_reference: string | null;
}

/** The statuses of an instruction (db/refund_payments.py): issued → paid, or → pending_approval → paid. */
export const REFUND_STATUSES = ["issued", "pending_approval", "paid"] as const;

/** The translation key of a status, or null for one this app does not know (shown as it came). */
export function refundStatusKey(status: string): string | null {
  return (REFUND_STATUSES as readonly string[]).includes(status) ? `refund_statuses.${status}` : null;
}

/** The roles that approve a payment of a different amount (db/refund_payments.py APPROVERS); the server
 * also refuses the person who recorded the payment (four eyes). */
export const PAYMENT_APPROVERS = ["finance", "manager"] as const;

/** Is 批准差额 offered for this instruction to a person holding these roles? */
export function mayApprove(row: Pick<RefundInstruction, "status">, roles: readonly string[] | null | undefined): boolean {
  return row.status === "pending_approval" && (roles ?? []).some((r) => (PAYMENT_APPROVERS as readonly string[]).includes(r));
}

/** What the instruction's row says of its payment (nothing when none was recorded). */
export function paymentOf(row: RefundInstruction): { amount: string; paid_on: string | null; bank_reference: string | null } | null {
  if (!row.paid_amount && !row.paid_on && !row.bank_reference) return null;
  return { amount: row.paid_amount ?? "", paid_on: row.paid_on ?? null, bank_reference: row.bank_reference ?? null };
}

/** The row after an approval: its status and payment as the server answered. */
export function withPayment(row: RefundInstruction, out: PaymentOut): RefundInstruction {
  return { ...row, status: out.status, paid_amount: out.paid_amount, paid_on: out.paid_on, bank_reference: out.bank_reference };
}

// ---------------------------------------------------------------- recording the payment ----------

const DECIMAL_RE = /^(\d+)(?:\.(\d*))?$/;

/** A decimal string in one spelling ("012000.50" and "12000.5" → "12000.5"), or null when it is none. */
export function normalMoney(raw: string | null | undefined): string | null {
  const m = DECIMAL_RE.exec(String(raw ?? "").trim());
  if (!m) return null;
  const int = m[1].replace(/^0+(?=\d)/, "");
  const frac = (m[2] ?? "").replace(/0+$/, "");
  return frac ? `${int}.${frac}` : int;
}

/** Is the amount typed a valid amount that is not the instruction's? (Unknown instruction: the server decides.) */
export function amountDiffers(amount: string | null | undefined, instructed: string | null | undefined): boolean {
  const a = normalMoney(amount);
  const b = normalMoney(instructed);
  return a !== null && b !== null && a !== b;
}

/** An amount that may be paid: at most ten digits and two decimals, above zero (as the server takes it). */
const PAYABLE_RE = /^\d{1,10}(\.\d{1,2})?$/;

/** Must a reason be given: a payable amount that is not the instruction's (a second person then approves
 * it). An amount that is itself wrong has its own error first. */
export function reasonRequired(amount: string | null | undefined, instructed: string | null | undefined): boolean {
  const a = String(amount ?? "").trim();
  return PAYABLE_RE.test(a) && normalMoney(a) !== "0" && amountDiffers(a, instructed);
}

/** Today in China (YYYY-MM-DD): the server refuses a payment date after it. */
export function chinaToday(now: Date = new Date()): string {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit",
  }).formatToParts(now);
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
  return `${part("year")}-${part("month")}-${part("day")}`;
}

/** A real calendar date written YYYY-MM-DD. */
export function isIsoDate(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}

/** The answers of a completed step that this app words itself (api/routes/tasks.py), to their keys. */
export const STEP_MESSAGES: Record<string, string> = {
  "refund paid": "step_messages.refund_paid",
  "payment recorded; a second person must approve the difference": "step_messages.payment_pending_approval",
};

/** The translation key of a step's answer, or null when the stage says enough. */
export function stepMessageKey(message: string | null | undefined): string | null {
  return STEP_MESSAGES[String(message ?? "")] ?? null;
}

/** A case's escalation reason by its stable code (GET /api/refund-cases/{id}: escalation_codes). */
export interface EscalationCode {
  code: string;
  params: Record<string, string>;
}

/** The reasons in the reader's language, worded by code (`escalation.<name>` → escalation_codes.<name>), the
 * amounts formatted by `money`; a code this app does not know yet shows as it is. */
export function escalationTexts(
  codes: readonly EscalationCode[],
  t: (key: string, params?: Record<string, string>) => string,
  te: (key: string) => boolean,
  money: (v: string) => string,
): string[] {
  return codes.map(({ code, params }) => {
    const key = `escalation_codes.${code.replace(/^escalation\./, "")}`;
    if (!te(key)) return code;
    const shown = Object.fromEntries(Object.entries(params ?? {}).map(([k, v]) => [k, /^-?\d+(\.\d+)?$/.test(v) ? money(v) : v]));
    return t(key, shown);
  });
}
