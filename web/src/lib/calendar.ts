// The holiday calendar ops maintains (issue 15): a year's holidays and 调休 workdays, where each day's status
// comes from, entering a new year's schedule, and the coverage with its 90-day warning.

export interface CalendarDay {
  day: string;
  workday: boolean | null;
  source: string; // statutory / holiday / workday / weekly / manual / none
  name: string;
  statutory: boolean | null;
}

export interface Coverage {
  today: string;
  statutory_years: number[];
  entered_years: number[];
  covered_until: string | null;
  warning: boolean;
  missing_year: number | null;
}

const ISO = /^\d{4}-\d{2}-\d{2}$/;

function weekend(day: string): boolean {
  const d = new Date(`${day}T00:00:00Z`).getUTCDay();
  return d === 0 || d === 6;
}

/** The days worth showing: holidays (a weekday off) and 调休 workdays (a weekend day on), and any day set by hand. */
export function specialDays(days: CalendarDay[]): CalendarDay[] {
  return days.filter((d) => d.source === "manual" || d.source === "holiday" || d.source === "workday"
    || (d.workday === false && !weekend(d.day)) || (d.workday === true && weekend(d.day)));
}

/** Days left until the data in force runs out (negative: already out; null: today's year is not covered). */
export function daysLeft(c: Pick<Coverage, "covered_until" | "today">): number | null {
  if (!c.covered_until) return null;
  return Math.round((Date.parse(`${c.covered_until}T00:00:00Z`) - Date.parse(`${c.today}T00:00:00Z`)) / 86_400_000);
}

/** One line per day, "2027-01-01 元旦" (the name optional), as ops types the notice's dates. */
export function parseDays(text: string): { days: { day: string; name: string }[]; bad: string[] } {
  const days: { day: string; name: string }[] = [];
  const bad: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line) continue;
    const [day, ...rest] = line.split(/\s+/);
    if (!ISO.test(day) || Number.isNaN(Date.parse(`${day}T00:00:00Z`))) bad.push(line);
    else days.push({ day, name: rest.join(" ") });
  }
  return { days, bad };
}

/** A range "2027-02-06..2027-02-13 春节" expanded into its days (inclusive); a single day stays one. */
export function expandRanges(text: string): string {
  return text.split(/\r?\n/).map((raw) => {
    const m = raw.trim().match(/^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})(\s+.*)?$/);
    if (!m) return raw;
    const out: string[] = [];
    const end = Date.parse(`${m[2]}T00:00:00Z`);
    for (let t = Date.parse(`${m[1]}T00:00:00Z`); t <= end && out.length < 60; t += 86_400_000) {
      out.push(`${new Date(t).toISOString().slice(0, 10)}${m[3] ?? ""}`);
    }
    return out.join("\n");
  }).join("\n");
}

/** The schedule's checks before sending (the server checks again): per field, a message key. */
export function scheduleErrors(year: number, holidays: { day: string }[], workdays: { day: string }[]): Record<string, string> {
  const out: Record<string, string> = {};
  if (!holidays.length) out.holidays = "cal_holidays_required";
  const seen = new Set<string>();
  for (const [field, list] of [["holidays", holidays], ["workdays", workdays]] as const) {
    for (const d of list) {
      if (!d.day.startsWith(`${year}-`)) out[field] ??= "cal_outside_year";
      else if (seen.has(d.day)) out[field] ??= "cal_duplicate";
      else if (field === "workdays" && !weekend(d.day)) out[field] ??= "cal_not_weekend";
      seen.add(d.day);
    }
  }
  return out;
}
