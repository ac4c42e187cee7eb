import { describe, expect, it } from "vitest";
import { pickProject } from "./projects";

const list = [{ id: 3 }, { id: 5 }, { id: 8 }] as unknown as Parameters<typeof pickProject>[0];

describe("pickProject", () => {
  it("takes the project the address names, even one the server may refuse", () => {
    expect(pickProject(list, "5", 8)).toBe(5);
    expect(pickProject(list, ["8"], null)).toBe(8);
    expect(pickProject(list, "99", 3)).toBe(99);
  });
  it("else the one the person switched to, when it is theirs, else their first", () => {
    expect(pickProject(list, undefined, 8)).toBe(8);
    expect(pickProject(list, undefined, 42)).toBe(3);
    expect(pickProject(list, "abc", null)).toBe(3);
    expect(pickProject([], undefined, 8)).toBeNull();
  });
});
