// A subscription's price under control (issue 15), as the subscribe screen shows it live: the list total less
// ordered discount rows (a percent of the running price, or an amount in CNY), each deduction to the fen,
// half-up; the approval it needs; the filed price (备案价) it may never exceed. Exact: money is a decimal
// string, worked in whole fen with BigInt, never a float. The server (domain/pricing.py) has the last word.

export type DiscountKind = "amount" | "percent";
export type Level = "manager" | "citygm" | "hqrisk";
export const LEVELS: Level[] = ["manager", "citygm", "hqrisk"];

export interface DiscountRowInput {
  reason: string;
  kind: DiscountKind;
  value: string;
}

export interface AppliedRow {
  seq: number;
  deduction: string;
  priceAfter: string;
}

export interface RowProblem {
  index: number;
  field: "reason" | "kind" | "value";
  code: string;
}

export interface LiveQuote {
  rows: AppliedRow[];
  finalPrice: string;
  discount: string;
  share: string; // per cent, two places, for display
  level: Level | null;
  belowFloor: boolean;
  aboveFiled: boolean;
  problems: RowProblem[];
}

const MONEY = /^\d{1,12}(\.\d{1,2})?$/;

/** "1234.5" → 123450n (fen); null when it is not a non-negative amount with at most two decimals. */
export function toFen(text: string): bigint | null {
  const s = (text ?? "").trim().replace(/,/g, "");
  if (!MONEY.test(s)) return null;
  const [whole, frac = ""] = s.split(".");
  return BigInt(whole) * 100n + BigInt((frac + "00").slice(0, 2));
}

/** 123450n → "1234.50" */
export function fromFen(fen: bigint): string {
  const neg = fen < 0n;
  const a = neg ? -fen : fen;
  const s = `${a / 100n}.${(a % 100n).toString().padStart(2, "0")}`;
  return neg ? `-${s}` : s;
}

/** a / b rounded half-up (both positive). */
function divHalfUp(a: bigint, b: bigint): bigint {
  return (a * 2n + b) / (2n * b);
}

/** Apply the rows in order; a row that cannot be applied is a problem (and is skipped). */
export function applyDiscounts(listPrice: string, rows: DiscountRowInput[]): { final: bigint; rows: AppliedRow[]; problems: RowProblem[] } {
  let running = toFen(listPrice) ?? 0n;
  const applied: AppliedRow[] = [];
  const problems: RowProblem[] = [];
  rows.forEach((row, index) => {
    if (!row.reason.trim()) problems.push({ index, field: "reason", code: "required" });
    const v = toFen(row.value); // a percentage in hundredths of a per cent, or an amount in fen
    if (v === null || v === 0n) {
      problems.push({ index, field: "value", code: "invalid" });
      return;
    }
    let deduction: bigint;
    if (row.kind === "percent") {
      if (v >= 10000n) {
        problems.push({ index, field: "value", code: "too_large" });
        return;
      }
      deduction = divHalfUp(running * v, 10000n);
    } else {
      deduction = v;
    }
    if (running - deduction <= 0n) {
      problems.push({ index, field: "value", code: "too_large" });
      return;
    }
    running -= deduction;
    applied.push({ seq: applied.length + 1, deduction: fromFen(deduction), priceAfter: fromFen(running) });
  });
  return { final: running, rows: applied, problems };
}

/** Who must approve (null: nobody), as domain/pricing.approval_level: below the floor → HQ risk whatever the share;
 *  above the manager's share of the list price → the city GM; else the manager. `limit` is a share ("0.02"). */
export function approvalLevel(listPrice: bigint, finalPrice: bigint, floor: bigint | null, limit: string): Level | null {
  if (finalPrice >= listPrice) return null;
  if (floor !== null && finalPrice < floor) return "hqrisk";
  // discount ≤ list × limit, exactly: limit has up to 6 decimals
  const [w, f = ""] = limit.split(".");
  const scaled = BigInt(w) * 1_000_000n + BigInt((f + "000000").slice(0, 6));
  return (listPrice - finalPrice) * 1_000_000n <= listPrice * scaled ? "manager" : "citygm";
}

export function liveQuote(
  listPrice: string, rows: DiscountRowInput[], opts: { floor: string | null; filed: string | null; limit: string },
): LiveQuote {
  const list = toFen(listPrice) ?? 0n;
  const { final, rows: applied, problems } = applyDiscounts(listPrice, rows);
  const floor = opts.floor ? toFen(opts.floor) : null;
  const filed = opts.filed ? toFen(opts.filed) : null;
  const discount = list - final;
  return {
    rows: applied,
    finalPrice: fromFen(final),
    discount: fromFen(discount),
    share: list > 0n ? fromFen(divHalfUp(discount * 10000n, list)) : "0.00",
    level: approvalLevel(list, final, floor, opts.limit),
    belowFloor: floor !== null && final < floor,
    aboveFiled: filed !== null && final > filed,
    problems,
  };
}
