// The 销控 board, pure: the grid of a building (columns by the unit number's last two digits, floors from
// the top down), which units changed since the last poll, and the words of a unit's history.

export interface BoardUnit {
  id: number;
  code: string;
  layout?: string;
  state: string;
  state_label?: string;
}

export interface BoardFloor {
  floor: number;
  units: BoardUnit[];
}

export interface BoardBuilding {
  id: number;
  name: string;
  floors: BoardFloor[];
}

export interface Board {
  project_id: number;
  counts: Record<string, number>;
  buildings: BoardBuilding[];
}

export interface StateChange {
  id: number;
  from_state: string;
  to_state: string;
  actor: string;
  /** the person's name (null for the system) */
  actor_name?: string | null;
  reason: string;
  at: string;
}

/** Every state a unit can be in, in the order of the sales cycle (the state filter offers them). */
export const UNIT_STATES = [
  "not_released",
  "available",
  "locked",
  "subscribed",
  "signed",
  "filed",
  "delivered",
  "held",
  "refunding",
  "not_for_sale",
] as const;

/** A unit's column: the last two characters of its number (1号楼 1203 → "03"). */
export const columnOf = (code: string): string => code.slice(-2);

/** The columns of a building, sorted. */
export function columns(building: BoardBuilding): string[] {
  return [...new Set(building.floors.flatMap((f) => f.units.map((u) => columnOf(u.code))))].sort();
}

export interface GridRow {
  floor: number;
  /** one cell per column; a cell holds the units of that column on that floor (usually one, or none) */
  cells: BoardUnit[][];
}

/** A building as rows of cells: floors from the top down, units under their column. */
export function grid(building: BoardBuilding): { columns: string[]; rows: GridRow[] } {
  const cols = columns(building);
  const rows = [...building.floors]
    .sort((a, b) => b.floor - a.floor)
    .map((f) => ({ floor: f.floor, cells: cols.map((c) => f.units.filter((u) => columnOf(u.code) === c)) }));
  return { columns: cols, rows };
}

/** The label a person reads and the tests find a unit by: 1号楼-101. */
export const unitLabel = (building: { name: string }, unit: { code: string }): string => `${building.name}-${unit.code}`;

/** Each unit's state, by id. */
export function statesOf(board: Board): Map<number, string> {
  const out = new Map<number, string>();
  for (const b of board.buildings) for (const f of b.floors) for (const u of f.units) out.set(u.id, u.state);
  return out;
}

/** The units whose state differs from the last poll's (a unit the last poll did not show is not "changed"). */
export function changedUnits(previous: Map<number, string> | null, now: Map<number, string>): Set<number> {
  const out = new Set<number>();
  if (!previous) return out;
  for (const [id, state] of now) {
    const before = previous.get(id);
    if (before !== undefined && before !== state) out.add(id);
  }
  return out;
}

/** The board's filter as the API reads it: building_id=…&state=… (empty values left out). */
export function boardQuery(filter: { building?: string | null; state?: string | null }): string {
  const q = new URLSearchParams();
  if (filter.building) q.set("building_id", filter.building);
  if (filter.state) q.set("state", filter.state);
  return q.toString();
}

/** The same filter as the screen's address: ?project=…&building=…&state=… (empty values left out). */
export function routeQuery(project: number | null, building: string, state: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (project !== null) out.project = String(project);
  if (building) out.building = building;
  if (state) out.state = state;
  return out;
}

type Translate = (key: string, named?: Record<string, unknown>) => string;
type Has = (key: string) => boolean;

const ACTIONS = ["release", "lock", "unlock", "hold", "unhold", "withdraw", "restore"];
const SYSTEM = "system";

/** A history row's reason in the person's language: the system's English ones and bare action words
 * translated; what a person typed is shown as typed. */
export function reasonWords(reason: string, t: Translate): string {
  const lapsed = /^lock by (.+) expired after (.+)$/.exec(reason);
  if (lapsed) return t("lock_expired", { who: lapsed[1], ttl: lapsed[2] });
  if (ACTIONS.includes(reason)) return t(`unit_actions.${reason}`);
  return reason;
}

/** Who made a change: the system by name, people by their user name. */
export const actorWords = (actor: string, t: Translate): string => (actor === SYSTEM ? t("system_actor") : actor);

/** A state's name, or the raw value only when the dictionary does not know it. */
export const stateWords = (state: string, t: Translate, has: Has): string =>
  has(`states.${state}`) ? t(`states.${state}`) : state;
