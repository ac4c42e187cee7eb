// A project's retention pool (挽留资金池): the API's answer as a type, the funding form's checks, and what a new
// marketing budget would give the pool (the server's rule, domain.refund.retention_allotment / retention_top_up:
// budget × the policy's share to the fen, half up; never less than compensation has already drawn). Pure.
import { fen } from "@/lib/customers";

export interface LedgerEntry {
  id: number;
  at: string;
  amount: string;
  memo: string;
  case_id: string | null;
  case_no: string | null;
  by: string | null;
}

export interface RetentionPool {
  project_id: number;
  marketing_budget: string;
  share: string | null;
  policy_version: string | null;
  allotment: string | null;
  credited: string;
  drawn: string;
  remaining: string;
  entries: LedgerEntry[];
}

export interface FundingForm {
  marketing_budget: string;
  reason: string;
}

/** The reason's length limit (the server's: the ledger's memo holds it after the budget and share). */
export const REASON_MAX = 120;

/** The message keys of what is wrong with the form, by field; empty when it may be sent. */
export function fundingErrors(f: FundingForm): Record<string, string> {
  const out: Record<string, string> = {};
  if (fen(f.marketing_budget) === null) out.marketing_budget = "pool_budget_invalid";
  if (!f.reason.trim()) out.reason = "pool_reason_required";
  else if (f.reason.trim().length > REASON_MAX) out.reason = "pool_reason_long";
  return out;
}

function asMoney(v: bigint): string {
  const neg = v < 0n;
  const a = neg ? -v : v;
  return `${neg ? "-" : ""}${a / 100n}.${String(a % 100n).padStart(2, "0")}`;
}

/** A share of one with at most four places ("0.05") in ten-thousandths; null when it is not one. */
function shareUnits(share: string): bigint | null {
  const m = /^(0|1)(?:\.(\d{1,4}))?$/.exec(share.trim());
  if (!m) return null;
  const units = BigInt(m[1]) * 10000n + BigInt(((m[2] ?? "") + "0000").slice(0, 4));
  return units <= 10000n ? units : null;
}

export interface FundingPreview {
  allotment: string;
  /** the entry the funding writes: positive a credit, negative a reduction, "0.00" none */
  change: string;
  /** the pool would hold less than it has paid out: the server refuses it */
  belowDrawn: boolean;
}

/** What the pool would be given for `budget` and the entry that would write; null while the budget is not money
 * or no policy (share) is in force. */
export function fundingPreview(budget: string, pool: Pick<RetentionPool, "share" | "credited" | "drawn">): FundingPreview | null {
  const b = fen(budget);
  const s = pool.share === null ? null : shareUnits(pool.share);
  const given = signedFen(pool.credited), paid = signedFen(pool.drawn);
  if (b === null || s === null || given === null || paid === null) return null;
  const allotment = (b * s + 5000n) / 10000n;
  return { allotment: asMoney(allotment), change: asMoney(allotment - given), belowDrawn: allotment < paid };
}

/** An amount the server answers, which may be negative ("-6000.00"), in fen; null when it is not money. */
function signedFen(s: string | null): bigint | null {
  if (s === null) return null;
  const v = fen(s.replace(/^-/, ""));
  return v === null ? null : s.startsWith("-") ? -v : v;
}

/** Would this compensation take more than the pool has left? False while either is not money. */
export function overdrawn(compensation: string, remaining: string | null): boolean {
  const c = fen(compensation), r = signedFen(remaining);
  return c !== null && r !== null && c > r;
}
