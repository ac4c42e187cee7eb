import { describe, expect, it } from "vitest";
import { MESSAGES } from "@/i18n";
import { fmtTime } from "./format";
import {
  channelLabel,
  collectEdit,
  collectRobot,
  DEAD_LIMIT,
  deadListCut,
  deadPath,
  deadRow,
  DELIVERY_CHANNELS,
  editValues,
  emptyRobot,
  kindsSummary,
  KNOWN_ERRCODES,
  NOTICE_KINDS,
  noticeKindLabel,
  orderKinds,
  ROBOT_FIELDS,
  ROBOT_MESSAGES,
  robotErrcode,
  robotRefusal,
  robotWords,
  retryRefusalKey,
  testFailureKey,
  webhookProblem,
  withoutDelivery,
  type DeadDelivery,
  type Robot,
} from "./robots";

const has = (messages: Record<string, unknown>, key: string) =>
  key.split(".").reduce<unknown>((o, p) => (o && typeof o === "object" ? (o as Record<string, unknown>)[p] : undefined), messages) !== undefined;
const get = (messages: Record<string, unknown>, key: string) =>
  key.split(".").reduce<unknown>((o, p) => (o && typeof o === "object" ? (o as Record<string, unknown>)[p] : undefined), messages);

const ZH_T = (key: string) => String(get(MESSAGES.zh, key) ?? key);

const robot = (over: Partial<Robot> = {}): Robot => ({
  id: 7, project_id: 1, kind: "wecom", name: "案场群", webhook: "https://q.example/send?key=ab****23", has_secret: false,
  notice_kinds: [], active: true, ...over,
});

describe("notice kinds", () => {
  it("each has words in both languages", () => {
    for (const kind of NOTICE_KINDS) {
      expect(has(MESSAGES.zh, `noticeKind.${kind}`), kind).toBe(true);
      expect(has(MESSAGES.en, `noticeKind.${kind}`), kind).toBe(true);
    }
    expect(get(MESSAGES.zh, "noticeKind.sla_breach")).not.toBe(get(MESSAGES.en, "noticeKind.sla_breach"));
  });

  it("are labelled in the person's language, an unknown one as itself", () => {
    const te = (k: string) => has(MESSAGES.zh, k);
    expect(noticeKindLabel("sla_breach", ZH_T, te)).toBe(get(MESSAGES.zh, "noticeKind.sla_breach"));
    expect(noticeKindLabel("brand_new_kind", ZH_T, te)).toBe("brand_new_kind");
  });

  it("summarise as all (null) when a robot names none, else each label", () => {
    expect(kindsSummary([], (k) => k.toUpperCase())).toBeNull();
    expect(kindsSummary(["a", "b"], (k) => k.toUpperCase())).toBe("A、B");
    expect(kindsSummary(["a", "b"], (k) => k.toUpperCase(), ", ")).toBe("A, B");
  });

  it("are ordered as the server offers them, each once, unknown ones last", () => {
    expect(orderKinds(["test", "sla_breach", "test"], ["sla_breach", "reminder", "test"])).toEqual(["sla_breach", "test"]);
    expect(orderKinds(["gossip", "reminder"], ["sla_breach", "reminder"])).toEqual(["reminder", "gossip"]);
    expect(orderKinds([], ["sla_breach"])).toEqual([]);
  });
});

describe("the add form", () => {
  const wecom = { ...emptyRobot(), name: " 案场群 ", webhook_url: " https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc " };

  it("starts as a WeCom robot receiving every kind", () => {
    expect(emptyRobot()).toEqual({ kind: "wecom", name: "", webhook_url: "", secret: "", notice_kinds: [] });
  });

  it("sends a WeCom robot trimmed, without a secret even when one was typed", () => {
    const { body, errors } = collectRobot({ ...wecom, secret: "SECxyz", notice_kinds: ["test", "sla_breach"] });
    expect(errors).toEqual({});
    expect(body).toEqual({
      kind: "wecom", name: "案场群", webhook_url: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc",
      notice_kinds: ["sla_breach", "test"],
    });
    expect(body).not.toHaveProperty("secret");
  });

  it("asks a DingTalk robot for its signing secret, and sends it", () => {
    const ding = { ...wecom, kind: "dingtalk" as const, webhook_url: "https://oapi.dingtalk.com/robot/send?access_token=x" };
    expect(collectRobot(ding)).toEqual({ body: null, errors: { secret: { key: "robots_secret_needed" } } });
    expect(collectRobot({ ...ding, secret: "  SEC123  " }).body).toMatchObject({ kind: "dingtalk", secret: "SEC123" });
  });

  it("refuses a missing name and a webhook that is not http(s)", () => {
    const { body, errors } = collectRobot({ ...emptyRobot(), webhook_url: "ftp://x" });
    expect(body).toBeNull();
    expect(errors.name).toEqual({ key: "required" });
    expect(errors.webhook_url).toMatchObject({ key: "robots_webhook_bad" });
    expect(collectRobot({ ...wecom, webhook_url: "" }).errors.webhook_url).toEqual({ key: "required" });
    expect(collectRobot({ ...wecom, name: "x".repeat(65) }).errors.name).toEqual({ key: "robots_too_long", params: { n: 64 } });
  });

  it("judges webhook URLs as the server does (http or https, any case; blank when optional)", () => {
    expect(webhookProblem("HTTPS://q.example/send?key=1")).toBeNull();
    expect(webhookProblem("http://127.0.0.1:8080/send")).toBeNull();
    expect(webhookProblem("https://")).not.toBeNull();
    expect(webhookProblem("qyapi.weixin.qq.com/send")).not.toBeNull();
    expect(webhookProblem("https://a b")).not.toBeNull();
    expect(webhookProblem("   ", true)).toBeNull();
    expect(webhookProblem(`https://q.example/${"k".repeat(600)}`)).toEqual({ key: "robots_too_long", params: { n: 512 } });
  });
});

describe("the edit form", () => {
  it("sends only what changed, nothing when nothing did", () => {
    const r = robot({ notice_kinds: ["sla_breach", "test"] });
    expect(collectEdit(r, editValues(r))).toEqual({ body: {}, errors: {} });
    expect(collectEdit(r, { ...editValues(r), notice_kinds: ["test", "sla_breach"] }).body).toEqual({}); // same set
    expect(collectEdit(r, { ...editValues(r), notice_kinds: [] }).body).toEqual({ notice_kinds: [] }); // now all
    expect(collectEdit(r, { ...editValues(r), name: "新群 ", webhook_url: " https://q.example/new?key=zz " }).body)
      .toEqual({ name: "新群", webhook_url: "https://q.example/new?key=zz" });
  });

  it("keeps a DingTalk robot's secret unless a new one is typed; one without a secret needs one", () => {
    const ding = robot({ kind: "dingtalk", has_secret: true });
    expect(collectEdit(ding, { ...editValues(ding), webhook_url: "https://oapi.example/send?access_token=n" }).body)
      .toEqual({ webhook_url: "https://oapi.example/send?access_token=n" });
    expect(collectEdit(ding, { ...editValues(ding), secret: "SECnew" }).body).toEqual({ secret: "SECnew" });
    const bare = robot({ kind: "dingtalk", has_secret: false });
    expect(collectEdit(bare, editValues(bare)).errors).toEqual({}); // its kinds may change without one
    expect(collectEdit(bare, { ...editValues(bare), webhook_url: "https://oapi.example/send?access_token=n" }).errors)
      .toEqual({ secret: { key: "robots_secret_needed" } });
    const wecom = robot();
    expect(collectEdit(wecom, { ...editValues(wecom), secret: "SECx" }).body).toEqual({}); // a WeCom robot has no secret
  });

  it("refuses an empty name and a bad new webhook", () => {
    const r = robot();
    const { body, errors } = collectEdit(r, { ...editValues(r), name: " ", webhook_url: "mailto:x" });
    expect(body).toBeNull();
    expect(Object.keys(errors).sort()).toEqual(["name", "webhook_url"]);
  });
});

describe("the server's refusals", () => {
  it("go to the field a known message is about, in Chinese with the server's words beside", () => {
    const err = { status: 422, message: "the webhook URL must start with https:// (or http://)", errors: [] };
    const out = robotRefusal(err, ROBOT_FIELDS, "zh", ZH_T);
    expect(Object.keys(out)).toEqual(["webhook_url"]);
    const text = (out.webhook_url as { server: string }).server;
    expect(text).toContain("（the webhook URL must start with https:// (or http://)）");
    expect(text).toMatch(/^[^a-z]*Webhook/); // Chinese words first
    expect(robotRefusal(err, ROBOT_FIELDS, "en", ZH_T).webhook_url).toEqual({ server: err.message });
    const secret = { status: 422, message: "a DingTalk robot needs its signing secret (加签密钥, starting SEC)" };
    expect(Object.keys(robotRefusal(secret, ROBOT_FIELDS, "zh", ZH_T))).toEqual(["secret"]);
    const kinds = { status: 422, message: "unknown notice kind gossip; known: task_opened, test" };
    expect(Object.keys(robotRefusal(kinds, ROBOT_FIELDS, "zh", ZH_T))).toEqual(["notice_kinds"]);
  });

  it("go to the fields the server names, and nowhere when about none of the form's", () => {
    const named = { status: 422, message: "name: too long", errors: [{ field: "body.name", message: "String should have at most 64 characters" }] };
    expect(robotRefusal(named, ROBOT_FIELDS, "zh", ZH_T)).toEqual({ name: { server: "String should have at most 64 characters", invalid: true } });
    expect(robotRefusal({ status: 403, message: "manager may not do this" }, ROBOT_FIELDS, "zh", ZH_T)).toEqual({});
    expect(robotRefusal({ status: 422, message: "something else" }, ROBOT_FIELDS, "zh", ZH_T)).toEqual({});
    // the edit form has no kind select: a message about it is left to the banner
    expect(robotRefusal({ status: 422, message: "unknown robot kind x" }, ["name"], "zh", ZH_T)).toEqual({});
  });

  it("each known message has words in both languages", () => {
    for (const [, , key] of ROBOT_MESSAGES) {
      expect(has(MESSAGES.zh, key), key).toBe(true);
      expect(has(MESSAGES.en, key), key).toBe(true);
    }
  });
});

describe("a failed test message", () => {
  const msg = "the robot did not take the test message: wecom: errcode 93000: invalid webhook url, hint: [123]";

  it("shows the robot's own words verbatim", () => {
    expect(robotWords(msg)).toBe("wecom: errcode 93000: invalid webhook url, hint: [123]");
    expect(robotWords("dingtalk: errcode 310000: sign not match")).toBe("dingtalk: errcode 310000: sign not match");
  });

  it("reads the robot's error code and explains the common ones", () => {
    expect(robotErrcode(msg)).toBe(93000);
    expect(robotErrcode("dingtalk: errcode -1: busy")).toBe(-1);
    expect(robotErrcode("wecom: HTTP 404: not found")).toBeNull();
    expect(testFailureKey(msg)).toBe("robots_errcodes.e93000");
    expect(testFailureKey("dingtalk: errcode 310000: sign not match")).toBe("robots_errcodes.e310000");
    expect(testFailureKey("wecom: HTTP 404: nothing here")).toBe("robots_errcodes.http");
    expect(testFailureKey("wecom: ConnectError: [Errno 111] Connection refused")).toBe("robots_errcodes.unreachable");
    expect(testFailureKey("wecom: errcode 12345: who knows")).toBeNull();
    for (const code of KNOWN_ERRCODES) {
      expect(has(MESSAGES.zh, `robots_errcodes.e${code}`), String(code)).toBe(true);
      expect(has(MESSAGES.en, `robots_errcodes.e${code}`), String(code)).toBe(true);
    }
  });
});

describe("undelivered notices", () => {
  const dead = (over: Partial<DeadDelivery> = {}): DeadDelivery => ({
    id: 41, project_id: 1, notice_kind: "sla_breach", title: "1号楼-204 退款超时", channel: "wecom", to: "案场经理群",
    attempts: 8, last_error: "wecom: errcode 93000: invalid webhook url, hint: [1700000000_abc]",
    created_at: "2026-03-01T10:05:00Z", ...over,
  });
  const zhTe = (k: string) => has(MESSAGES.zh, k);

  it("ask for the project's newest fifty", () => {
    expect(DEAD_LIMIT).toBe(50);
    expect(deadPath(7)).toBe("/api/notice-deliveries/dead?project_id=7&limit=50");
    expect(deadPath(7, 10)).toBe("/api/notice-deliveries/dead?project_id=7&limit=10");
  });

  it("label each channel in both languages, an unknown one as itself", () => {
    for (const c of DELIVERY_CHANNELS) {
      expect(has(MESSAGES.zh, `robots_channels.${c}`), c).toBe(true);
      expect(has(MESSAGES.en, `robots_channels.${c}`), c).toBe(true);
    }
    expect(channelLabel("wecom", ZH_T, zhTe)).toBe("企业微信");
    expect(channelLabel("dingtalk", ZH_T, zhTe)).toBe("钉钉");
    expect(channelLabel("email", ZH_T, zhTe)).toBe("邮件");
    expect(channelLabel("carrier_pigeon", ZH_T, zhTe)).toBe("carrier_pigeon");
  });

  it("become rows: the time formatted, the channel labelled, the error verbatim", () => {
    const row = deadRow(dead(), (iso) => fmtTime(iso, "zh"), (c) => channelLabel(c, ZH_T, zhTe));
    expect(row).toEqual({
      id: 41, time: fmtTime("2026-03-01T10:05:00Z", "zh"), channel: "企业微信", to: "案场经理群",
      title: "1号楼-204 退款超时", attempts: 8, error: "wecom: errcode 93000: invalid webhook url, hint: [1700000000_abc]",
    });
    expect(row.time).toContain("18:05"); // China time
    const spaced = deadRow(dead({ last_error: "  smtp: 550 <a@b.cn> mailbox unavailable " }), String, String);
    expect(spaced.error).toBe("  smtp: 550 <a@b.cn> mailbox unavailable "); // not tidied
  });

  it("show a dash for an error, a recipient or a title the server did not keep", () => {
    const row = deadRow(dead({ last_error: null, to: "", title: "" }), String, String);
    expect(row.error).toBe("—");
    expect(row.to).toBe("—");
    expect(row.title).toBe("—");
    expect(deadRow(dead({ last_error: "   " }), String, String).error).toBe("—");
  });

  it("lose the one sent again, and only it", () => {
    const list = [dead({ id: 3 }), dead({ id: 2 }), dead({ id: 1 })];
    expect(withoutDelivery(list, 2).map((d) => d.id)).toEqual([3, 1]);
    expect(withoutDelivery(list, 9).map((d) => d.id)).toEqual([3, 2, 1]);
    expect(list).toHaveLength(3); // the list itself is left alone
  });

  it("explain a retry refused as no longer undelivered, and leave other refusals to the error banner", () => {
    expect(retryRefusalKey(409)).toBe("robots_dead_not_dead");
    expect(has(MESSAGES.zh, "robots_dead_not_dead")).toBe(true);
    expect(has(MESSAGES.en, "robots_dead_not_dead")).toBe(true);
    expect(retryRefusalKey(403)).toBeNull();
    expect(retryRefusalKey(404)).toBeNull();
  });

  it("say when only the newest are shown", () => {
    expect(deadListCut(49)).toBe(false);
    expect(deadListCut(50)).toBe(true);
    expect(deadListCut(3, 3)).toBe(true);
  });
});
