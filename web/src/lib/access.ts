// Which roles see which screens and actions. The server decides (every call carries the person's token
// and is refused with 403 otherwise); the app only hides what a role may not do.

export const STAFF = ["frontdesk", "sales", "manager", "finance", "legal", "marketing", "citygm", "hqrisk", "ops"] as const;
export type Role = (typeof STAFF)[number];

export const ACCESS: Record<string, readonly string[]> = {
  intake: ["frontdesk", "sales", "manager", "citygm"],
  cases: STAFF,
  board: STAFF,
  warnings: ["sales", "manager", "citygm", "hqrisk", "ops"],
  stats: ["manager", "marketing", "finance", "citygm", "hqrisk", "ops", "sales"],
  refunds: ["finance", "manager", "citygm", "hqrisk", "ops"],
  qr: ["frontdesk", "manager"],
  evidence: ["frontdesk", "sales", "manager", "finance", "legal", "marketing", "citygm"],
  temporal: ["ops", "hqrisk", "manager"],
  revise_loss: ["finance"],
};

/** May a person with this role do `what`? Unknown `what`: any member of staff. No role: nothing. */
export function may(role: string | null | undefined, what: string): boolean {
  if (!role) return false;
  return (ACCESS[what] ?? STAFF).includes(role);
}

/** May this role answer this warning (the manager and HQ risk always; else its responder or escalation). */
export function mayRespond(role: string, warning: { respond_role: string; escalate_to: string }): boolean {
  return role === "manager" || role === "hqrisk" || role === warning.respond_role || role === warning.escalate_to;
}
