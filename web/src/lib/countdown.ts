// A deadline seen from "now": what the countdown shows and whether it is overdue (pure; the clock ticks
// in useNow()).
import { fmtLeft } from "./format";

export interface Countdown {
  overdue: boolean;
  /** h:mm:ss or mm:ss, without a sign */
  text: string;
  ms: number;
}

export function countdown(dueIso: string, nowMs: number): Countdown {
  const ms = new Date(dueIso).getTime() - nowMs;
  return { overdue: ms < 0, text: fmtLeft(ms), ms };
}
