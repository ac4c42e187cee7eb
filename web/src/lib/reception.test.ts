import { describe, expect, it } from "vitest";
import { MESSAGES } from "@/i18n";
import {
  CHANNELS,
  collectPartner,
  collectRegistration,
  collectWalkIn,
  dayTotals,
  daysLeft,
  emptyRegistration,
  emptyWalkIn,
  eventLine,
  isHeldRefusal,
  moveItem,
  normalMobile,
  orderWalkIns,
  PARTNER_KINDS,
  queueOrder,
  reasonProblem,
  takeNeedsReason,
  walkInState,
  type RosterEntry,
  type RotationEvent,
  type WalkIn,
} from "./reception";

const get = (messages: Record<string, unknown>, key: string) =>
  key.split(".").reduce<unknown>((o, p) => (o && typeof o === "object" ? (o as Record<string, unknown>)[p] : undefined), messages);

const walkIn = (over: Partial<WalkIn> = {}): WalkIn => ({
  id: 1, project_id: 1, arrived_at: "2026-12-03T02:00:00Z", day: "2026-12-03", group_size: 2, first_visit: true,
  channel: "walk_in", visitor_name: null, mobile_masked: null, note: "", returning: false, customer_id: null,
  reserved_for: null, offered_to: { id: 10, name: "张三" }, consultant: null, taken_at: null, partner: null, ...over,
});

describe("the walk-in form", () => {
  it("sends an anonymous visit with only what is asked", () => {
    expect(collectWalkIn(emptyWalkIn())).toEqual({ body: { group_size: 1, first_visit: true, channel: "walk_in" }, errors: {} });
  });

  it("sends a name and a mobile when given, trimmed", () => {
    const { body } = collectWalkIn({ ...emptyWalkIn(), name: " 王先生 ", mobile: " +86 138-0013-8000 ", group_size: 3 });
    expect(body).toEqual({ group_size: 3, first_visit: true, channel: "walk_in", name: "王先生", mobile: "+86 138-0013-8000" });
  });

  it("refuses a group outside 1–50, an unknown channel and a mobile that is not a mainland one", () => {
    const { body, errors } = collectWalkIn({ ...emptyWalkIn(), group_size: 0, channel: "tiktok", mobile: "12345" });
    expect(body).toBeNull();
    expect(Object.keys(errors).sort()).toEqual(["channel", "group_size", "mobile"]);
    expect(collectWalkIn({ ...emptyWalkIn(), group_size: 51 }).errors.group_size).toEqual({ key: "reception_group_range", params: { max: 50 } });
    expect(collectWalkIn({ ...emptyWalkIn(), group_size: null }).errors.group_size).toEqual({ key: "required" });
  });

  it("normalises a mobile as the server does", () => {
    expect(normalMobile("13800138000")).toBe("13800138000");
    expect(normalMobile("0086 138 0013 8000")).toBe("13800138000");
    expect(normalMobile("8613800138000")).toBe("13800138000");
    expect(normalMobile("12800138000")).toBeNull();
    expect(normalMobile("1380013800")).toBeNull();
  });
});

describe("the day's walk-ins", () => {
  it("are waiting ones first (longest waiting first), then taken ones newest first", () => {
    const list = [
      walkIn({ id: 1, arrived_at: "2026-12-03T01:00:00Z", consultant: { id: 10, name: "张三" } }),
      walkIn({ id: 2, arrived_at: "2026-12-03T02:00:00Z" }),
      walkIn({ id: 3, arrived_at: "2026-12-03T01:30:00Z" }),
      walkIn({ id: 4, arrived_at: "2026-12-03T03:00:00Z", consultant: { id: 11, name: "李四" } }),
    ];
    expect(orderWalkIns(list).map((w) => w.id)).toEqual([3, 2, 4, 1]);
    expect(dayTotals(list)).toEqual({ groups: 4, people: 8, first: 4, waiting: 2 });
  });

  it("say where each stands", () => {
    expect(walkInState(walkIn())).toBe("offered");
    expect(walkInState(walkIn({ offered_to: null }))).toBe("nobody");
    expect(walkInState(walkIn({ reserved_for: { id: 12, name: "王五" } }))).toBe("own");
    expect(walkInState(walkIn({ consultant: { id: 10, name: "张三" } }))).toBe("taken");
  });

  it("need a reason to be taken out of turn or for a colleague's returning customer", () => {
    expect(takeNeedsReason(walkIn(), 10)).toBe(false);
    expect(takeNeedsReason(walkIn(), 11)).toBe(true);
    const own = walkIn({ reserved_for: { id: 12, name: "王五" }, offered_to: { id: 12, name: "王五" } });
    expect(takeNeedsReason(own, 12)).toBe(false);
    expect(takeNeedsReason(own, 10)).toBe(true);
    expect(reasonProblem("  ")).toEqual({ key: "reception_reason_needed" });
    expect(reasonProblem("x".repeat(201))).toEqual({ key: "reception_too_long", params: { n: 200 } });
    expect(reasonProblem("正在接待")).toBeNull();
  });
});

describe("the rotation", () => {
  const entry = (id: number, position: number, queue: number | null): RosterEntry => ({
    consultant: { id, name: `c${id}` }, position, present: queue !== null, queue_position: queue, taken_today: 0,
  });

  it("lists the queue first, the absent after it in roster order", () => {
    const out = queueOrder([entry(1, 1, 3), entry(2, 2, null), entry(3, 3, 1), entry(4, 4, 2), entry(5, 5, null)]);
    expect(out.map((e) => e.consultant.id)).toEqual([3, 4, 1, 2, 5]);
  });

  it("moves one up or down, not past the ends", () => {
    expect(moveItem([1, 2, 3], 1, -1)).toEqual([2, 1, 3]);
    expect(moveItem([1, 2, 3], 1, 1)).toEqual([1, 3, 2]);
    expect(moveItem([1, 2, 3], 0, -1)).toEqual([1, 2, 3]);
    expect(moveItem([1, 2, 3], 2, 1)).toEqual([1, 2, 3]);
  });

  it("reads each audit line in both languages", () => {
    const e = (kind: string, detail: Record<string, unknown> = {}): RotationEvent => ({
      id: 1, kind, consultant: { id: 10, name: "张三" }, walk_in_id: 7, reason: null, detail, actor: { id: 1, name: "前台" }, at: "",
    });
    expect(eventLine(e("taken", { how: "out_of_turn" })).key).toBe("reception_event.taken_out_of_turn");
    expect(eventLine(e("taken", { how: "weird" })).key).toBe("reception_event.taken_in_turn");
    expect(eventLine(e("roster_set", { order: [1, 2, 3] })).params.n).toBe(3);
    expect(eventLine(e("gossip")).key).toBe("reception_event.other");
    for (const kind of ["offered", "skipped", "absent", "back", "roster_set", "taken_in_turn", "taken_out_of_turn", "taken_own", "taken_cover", "other"]) {
      expect(get(MESSAGES.zh, `reception_event.${kind}`), kind).toBeTypeOf("string");
      expect(get(MESSAGES.en, `reception_event.${kind}`), kind).toBeTypeOf("string");
    }
  });
});

describe("partners and registrations", () => {
  it("label every channel and partner kind in both languages", () => {
    for (const c of CHANNELS) {
      expect(get(MESSAGES.zh, `reception_channels.${c}`), c).toBeTypeOf("string");
      expect(get(MESSAGES.en, `reception_channels.${c}`), c).toBeTypeOf("string");
    }
    for (const k of PARTNER_KINDS) expect(get(MESSAGES.zh, `partners_kinds.${k}`)).toBeTypeOf("string");
    expect(get(MESSAGES.zh, "partners_kinds.agency")).toBe("中介");
  });

  it("check a partner and a registration before sending", () => {
    expect(collectPartner({ name: " 链家 ", kind: "agency", contact_name: "", contact_mobile: "" }).body).toEqual({ name: "链家", kind: "agency" });
    expect(Object.keys(collectPartner({ name: "", kind: "broker", contact_name: "", contact_mobile: "1" }).errors).sort())
      .toEqual(["contact_mobile", "kind", "name"]);
    expect(Object.keys(collectRegistration(emptyRegistration()).errors).sort()).toEqual(["mobile", "partner_id", "prospect_name"]);
    expect(collectRegistration({ partner_id: 3, prospect_name: " 赵女士 ", mobile: "13800138000", note: "" }).body)
      .toEqual({ partner_id: 3, prospect_name: "赵女士", mobile: "13800138000" });
  });

  it("recognise a mobile held by another registration", () => {
    expect(isHeldRefusal({ status: 409, errors: [{ field: "body.mobile", code: "registered" }] })).toBe(true);
    expect(isHeldRefusal({ status: 409, errors: [{ field: "body.mobile", code: "visited" }] })).toBe(false);
    expect(isHeldRefusal({ status: 422, errors: [{ field: "body.mobile", code: "registered" }] })).toBe(false);
  });

  it("count the days of protection left, rounded up", () => {
    const now = Date.parse("2026-12-03T00:00:00Z");
    expect(daysLeft("2026-12-03T12:00:00Z", now)).toBe(1);
    expect(daysLeft("2027-01-02T00:00:00Z", now)).toBe(30);
    expect(daysLeft("2026-12-02T00:00:00Z", now)).toBe(0);
  });
});
