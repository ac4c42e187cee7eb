// Both languages have every message, and every message key the screens use exists.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { MESSAGES, reasonText, serverMessage } from "./i18n";

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

describe("server messages in Chinese", () => {
  it("translate the known ones and keep the English beside", () => {
    expect(serverMessage("this task is for frontdesk, not finance", "zh")).toBe("这项任务不属于您（this task is for frontdesk, not finance）");
    expect(serverMessage("this task is for frontdesk, not finance", "en")).toBe("this task is for frontdesk, not finance");
    expect(reasonText("loss 69000.50 CNY exceeds 50000 CNY", "zh")).toBe("经济损失 69000.50 元，超过 50000 元");
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
