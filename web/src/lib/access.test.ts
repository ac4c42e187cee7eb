import { describe, expect, it } from "vitest";
import { may, mayRespond, STAFF } from "./access";

describe("may", () => {
  it("shows each screen to the roles the server lets in", () => {
    expect(may("frontdesk", "intake")).toBe(true);
    expect(may("frontdesk", "stats")).toBe(false);
    expect(may("finance", "refunds")).toBe(true);
    expect(may("legal", "refunds")).toBe(false);
    expect(may("ops", "temporal")).toBe(true);
    expect(may("frontdesk", "temporal")).toBe(false);
  });
  it("lets any member of staff reach an unlisted screen, and nobody without a role", () => {
    for (const role of STAFF) expect(may(role, "home")).toBe(true);
    expect(may(null, "home")).toBe(false);
    expect(may("visitor", "home")).toBe(false);
  });
});

describe("mayRespond", () => {
  const w = { respond_role: "sales", escalate_to: "citygm" };
  it("lets the responder, the escalation role, the manager and HQ risk answer a warning", () => {
    for (const role of ["sales", "citygm", "manager", "hqrisk"]) expect(mayRespond(role, w)).toBe(true);
    for (const role of ["ops", "finance", "frontdesk"]) expect(mayRespond(role, w)).toBe(false);
  });
});
