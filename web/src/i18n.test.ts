// Both languages have every message, and every message key the screens use exists.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { MESSAGES, reasonText, recogniseMessage, renderMessage, serverMessage } from "./i18n";
import { ERROR_CATALOGUE, VOCABULARY } from "./locales/errors";

function flat(obj: Record<string, unknown>, prefix = ""): string[] {
  return Object.entries(obj).flatMap(([k, v]) =>
    v && typeof v === "object" ? [prefix + k, ...flat(v as Record<string, unknown>, `${prefix}${k}.`)] : [prefix + k],
  );
}

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === "locales" ? [] : sources(path);
    return /\.(vue|ts)$/.test(name) && !name.endsWith(".test.ts") ? [path] : [];
  });
}

describe("messages", () => {
  const zh = new Set(flat(MESSAGES.zh));
  const en = new Set(flat(MESSAGES.en));

  it("are the same keys in Chinese and English", () => {
    expect([...zh].filter((k) => !en.has(k))).toEqual([]);
    expect([...en].filter((k) => !zh.has(k))).toEqual([]);
  });

  it("include every key the screens use, plain (t('key')) or by group (t(`stages.${x}`))", () => {
    const code = sources(join(__dirname)).map((p) => readFileSync(p, "utf8")).join("\n");
    const plain = new Set([...code.matchAll(/\bt\(\s*["']([a-z_][a-z0-9_.]*)["']/g)].map((m) => m[1]));
    const groups = new Set([...code.matchAll(/\bt\(\s*`([a-z_]+)\.\$\{/g)].map((m) => m[1]));
    expect(plain.size).toBeGreaterThan(50); // the scan itself works
    expect(groups).toContain("stages");
    expect([...plain].filter((k) => !zh.has(k))).toEqual([]);
    expect([...groups].filter((g) => !zh.has(g))).toEqual([]);
  });

  it("in Chinese are Chinese: no English sentence among the zh values", () => {
    const english = flat(MESSAGES.zh)
      .map((k) => [k, k.split(".").reduce<unknown>((o, p) => (o as Record<string, unknown>)[p], MESSAGES.zh)] as const)
      .filter(([, v]) => typeof v === "string" && /\b[a-z]{4,}\b/.test(v.replace(/\{\w+\}/g, "")) && !/EstateFlow|English|Temporal|XLSX|PDF|JPEG|PNG|WebP/.test(v));
    expect(english).toEqual([]);
  });
});

describe("what the API says when it refuses, by its code", () => {
  const transition = {
    key: "unit.transition_not_allowed",
    params: { unit: "1-101", from: "locked", action: "lock", allowed: ["available"] },
    message: "unit 1-101: a unit that is locked does not allow lock (allowed from: available)",
    message_zh: "(the server's Chinese)",
  };

  it("is the catalogue's words for the key and params, in the person's language", () => {
    expect(serverMessage(transition, "zh")).toBe("房源 1-101 当前为「锁定」，不能锁定（仅「可售」状态可以）");
    expect(serverMessage(transition, "en")).toBe(transition.message);
    const forbidden = { key: "auth.role_forbidden", params: { role: "frontdesk", allowed: ["finance", "manager"] } };
    expect(serverMessage(forbidden, "zh")).toBe("当前角色无权执行此操作（您的角色：前台；可执行的角色：财务、案场经理）");
    expect(serverMessage(forbidden, "en")).toBe("role frontdesk may not do this; allowed: finance, manager");
  });

  it("says one minute, and two minutes", () => {
    expect(renderMessage("auth.throttled", { minutes: 1 }, "en")).toBe("too many failed sign-ins; try again in 1 minute");
    expect(renderMessage("auth.throttled", { minutes: 2 }, "en")).toBe("too many failed sign-ins; try again in 2 minutes");
    expect(renderMessage("auth.throttled", { minutes: 2 }, "zh")).toBe("登录失败次数过多，请 2 分钟后再试");
  });

  it("falls back to message_zh / message for a code it does not know, a category, or other params", () => {
    const unknown = { key: "policy.something_new", params: { x: 1 }, message: "something new", message_zh: "新的情况" };
    expect(serverMessage(unknown, "zh")).toBe("新的情况");
    expect(serverMessage(unknown, "en")).toBe("something new");
    const category = { key: "conflict", params: {}, message: "price list v2 is frozen", message_zh: "记录的当前状态不允许此操作（price list v2 is frozen）" };
    expect(serverMessage(category, "zh")).toBe(category.message_zh);
    expect(serverMessage(category, "en")).toBe("price list v2 is frozen");
    const wrongParams = { ...transition, params: { unit: "1-101" } };
    expect(serverMessage(wrongParams, "zh")).toBe("(the server's Chinese)");
    expect(serverMessage({ message: "plain words" }, "zh")).toBe("plain words");
    expect(serverMessage(null, "zh")).toBe("");
  });

  it("reads the code out of an English message that came alone, and keeps the English beside in Chinese", () => {
    const english = "task 12 is already claimed by 王芳";
    expect(recogniseMessage(english)).toEqual({ key: "task.already_claimed", params: { task_id: 12, holder: "王芳" } });
    expect(serverMessage(english, "zh")).toBe(`任务 12 已被 王芳 认领（${english}）`);
    expect(serverMessage(english, "en")).toBe(english);
    expect(serverMessage("this task is for frontdesk in its project; it is not yours", "zh"))
      .toBe("这项任务属于本项目的「前台」，不属于您（this task is for frontdesk in its project; it is not yours）");
    expect(serverMessage({ message: english }, "zh")).toBe("任务 12 已被 王芳 认领"); // an older body: no key
    expect(serverMessage("nothing the catalogue says", "zh")).toBe("nothing the catalogue says");
    expect(recogniseMessage("role frontdesk may not do this; allowed: finance, manager, citygm, hqrisk, ops")).toEqual({
      key: "auth.role_forbidden", params: { role: "frontdesk", allowed: ["finance", "manager", "citygm", "hqrisk", "ops"] },
    });
  });

  it("renders every code of the catalogue in both languages and reads its English back", () => {
    const sample: Record<string, unknown> = { text: "X-1", int: 7, id: 7, amount: "1200.50", date: "2026-01-02" };
    for (const [key, entry] of Object.entries(ERROR_CATALOGUE)) {
      if (entry.generic) continue;
      const params: Record<string, unknown> = {};
      for (const [name, kind] of Object.entries(entry.params)) {
        const base = kind.replace("[]", "");
        const value = VOCABULARY[base] ? Object.keys(VOCABULARY[base])[0] : sample[base];
        params[name] = kind.endsWith("[]") ? [value, value] : value;
      }
      const en = renderMessage(key, params, "en");
      const zh = renderMessage(key, params, "zh");
      expect(en, key).toBeTruthy();
      expect(zh, key).toMatch(/[\u4e00-\u9fff]/);
      expect(zh, key).not.toMatch(/\{\w+\}/);
      expect(recogniseMessage(en)?.key, key).toBe(key);
    }
  });

  it("names roles, unit states, departments, inventory actions and refund statuses as the screens do", () => {
    const zh = MESSAGES.zh as Record<string, Record<string, string>>;
    const same = (vocabulary: string, screen: Record<string, string> | undefined) => {
      expect(screen, vocabulary).toBeTruthy();
      for (const [code, label] of Object.entries(screen!)) {
        if (code in VOCABULARY[vocabulary]) expect(VOCABULARY[vocabulary][code], `${vocabulary}.${code}`).toBe(label);
      }
    };
    same("role", zh.roles);
    same("state", zh.states);
    same("dept", zh.depts);
    same("unit_action", zh.unit_actions); // locales/extra/office.ts
    same("instruction_status", zh.refund_statuses);
  });

  it("words the escalation reasons in Chinese", () => {
    expect(reasonText("loss 69000.50 CNY exceeds 50000 CNY", "zh")).toBe("经济损失 69000.50 元，超过 50000 元");
    expect(reasonText("media involvement", "zh")).toBe("涉及媒体");
    expect(reasonText("media involvement", "en")).toBe("media involvement");
    expect(reasonText({ code: "escalation.share_above_tier" }, "zh")).toBe("退款比例高于公示阶梯上限");
    expect(reasonText("something else", "zh")).toBe("something else");
  });
});

describe("the refund quote's explanation in Chinese", () => {
  it("names the tier's stage and shares, and the GM's approval above the tier", async () => {
    const { quoteReasonText } = await import("./i18n");
    expect(quoteReasonText("tier deposit_paid: 60%–80%, share 60%", "zh")).toBe("阶梯「已付定金未网签」60%–80%，退款比例 60%");
    expect(quoteReasonText("tier deposit_paid: 60%–80%, share 90% (above the tier: city GM approval required)", "zh"))
      .toBe("阶梯「已付定金未网签」60%–80%，退款比例 90%（高于阶梯上限，须城市总经理审批）");
    expect(quoteReasonText("neither side at fault: full refund", "zh")).toBe("双方均无过错，全额退还");
    expect(quoteReasonText("tier deposit_paid: 60%–80%, share 60%", "en")).toBe("tier deposit_paid: 60%–80%, share 60%");
    expect(quoteReasonText("物业费减免两年", "zh")).toBe("物业费减免两年");
  });
});
