import { describe, expect, it } from "vitest";
import {
  actorWords,
  boardQuery,
  changedUnits,
  columns,
  grid,
  reasonWords,
  routeQuery,
  stateWords,
  statesOf,
  unitLabel,
  type Board,
  type BoardBuilding,
} from "./board";

const unit = (id: number, code: string, state = "available") => ({ id, code, state });

const b1: BoardBuilding = {
  id: 1,
  name: "1号楼",
  floors: [
    { floor: 1, units: [unit(1, "101"), unit(2, "102", "subscribed")] },
    { floor: 3, units: [unit(5, "302"), unit(6, "303")] },
    { floor: 2, units: [unit(3, "201", "refunding")] },
  ],
};
const board = (buildings: BoardBuilding[]): Board => ({ project_id: 1, counts: {}, buildings });

const t = (key: string, named?: Record<string, unknown>) => (named ? `${key}${JSON.stringify(named)}` : `<${key}>`);

describe("the grid of a building", () => {
  it("has one column per unit number's last two digits, sorted", () => {
    expect(columns(b1)).toEqual(["01", "02", "03"]);
  });

  it("lists floors from the top down, each unit under its column, gaps empty", () => {
    const g = grid(b1);
    expect(g.rows.map((r) => r.floor)).toEqual([3, 2, 1]);
    expect(g.rows[0].cells.map((c) => c.map((u) => u.code))).toEqual([[], ["302"], ["303"]]);
    expect(g.rows[1].cells.map((c) => c.map((u) => u.code))).toEqual([["201"], [], []]);
    expect(g.rows[2].cells.map((c) => c.map((u) => u.code))).toEqual([["101"], ["102"], []]);
  });

  it("does not reorder the API's floors in place", () => {
    grid(b1);
    expect(b1.floors.map((f) => f.floor)).toEqual([1, 3, 2]);
  });

  it("keeps two units that share a column on one floor (none is hidden)", () => {
    const twin: BoardBuilding = { id: 2, name: "2号楼", floors: [{ floor: 1, units: [unit(7, "A101"), unit(8, "B101")] }] };
    expect(grid(twin).rows[0].cells[0].map((u) => u.code)).toEqual(["A101", "B101"]);
  });

  it("labels a unit as building-code", () => {
    expect(unitLabel(b1, unit(1, "101"))).toBe("1号楼-101");
  });
});

describe("what changed since the last poll", () => {
  it("is nothing on the first draw", () => {
    expect(changedUnits(null, statesOf(board([b1])))).toEqual(new Set());
  });

  it("is the units whose state moved, not the new or unchanged ones", () => {
    const before = statesOf(board([b1]));
    const after: BoardBuilding = {
      ...b1,
      floors: [
        { floor: 1, units: [unit(1, "101", "locked"), unit(2, "102", "subscribed")] },
        { floor: 2, units: [unit(3, "201", "available"), unit(4, "202")] },
      ],
    };
    expect(changedUnits(before, statesOf(board([after])))).toEqual(new Set([1, 3]));
  });
});

describe("the filter", () => {
  it("goes to the API as building_id and state, empty ones left out", () => {
    expect(boardQuery({ building: "2", state: "available" })).toBe("building_id=2&state=available");
    expect(boardQuery({ building: "", state: "" })).toBe("");
    expect(boardQuery({ state: "locked" })).toBe("state=locked");
  });

  it("goes to the address as project, building and state", () => {
    expect(routeQuery(1, "2", "")).toEqual({ project: "1", building: "2" });
    expect(routeQuery(null, "", "held")).toEqual({ state: "held" });
  });
});

describe("history words", () => {
  it("translate the system's lock expiry and bare action words, keep what a person typed", () => {
    expect(reasonWords("lock by sales expired after 0:30:00", t)).toBe('lock_expired{"who":"sales","ttl":"0:30:00"}');
    expect(reasonWords("hold", t)).toBe("<unit_actions.hold>");
    expect(reasonWords("退房申请 R-1", t)).toBe("退房申请 R-1");
  });

  it("name the system, and people by user name", () => {
    expect(actorWords("system", t)).toBe("<system_actor>");
    expect(actorWords("manager", t)).toBe("manager");
  });

  it("name a state, or show the value when the dictionary lacks it", () => {
    const has = (key: string) => key === "states.available";
    expect(stateWords("available", t, has)).toBe("<states.available>");
    expect(stateWords("mystery", t, has)).toBe("mystery");
  });
});
