import { describe, expect, it } from "vitest";
import { countdown } from "./countdown";
import { fmtLeft, fmtMoney, fmtShare, fmtTime, safeUrl } from "./format";

describe("fmtMoney", () => {
  it("groups thousands and always shows two decimals, from the decimal string", () => {
    expect(fmtMoney("1234567.5")).toBe("¥1,234,567.50");
    expect(fmtMoney("50000")).toBe("¥50,000.00");
    expect(fmtMoney("0.07")).toBe("¥0.07");
    expect(fmtMoney("-552800.00")).toBe("-¥552,800.00");
  });
  it("never goes through a float: digits beyond double precision survive", () => {
    expect(fmtMoney("12345678901234567.89")).toBe("¥12,345,678,901,234,567.89");
  });
  it("truncates (does not round) beyond two decimals, and shows a dash for nothing", () => {
    expect(fmtMoney("1.239")).toBe("¥1.23");
    expect(fmtMoney("")).toBe("—");
    expect(fmtMoney(null)).toBe("—");
    expect(fmtMoney(undefined)).toBe("—");
  });
  it("returns anything that is not a decimal as it came", () => {
    expect(fmtMoney("abc")).toBe("abc");
  });
});

describe("fmtShare", () => {
  it("is a percentage with at most two decimals and no trailing zeros", () => {
    expect(fmtShare("0.6")).toBe("60%");
    expect(fmtShare("0.655")).toBe("65.5%");
    expect(fmtShare("0.12345")).toBe("12.35%");
    expect(fmtShare("1")).toBe("100%");
    expect(fmtShare(null)).toBe("—");
  });
});

describe("fmtTime", () => {
  it("shows the instant in China time whatever the machine's zone", () => {
    expect(fmtTime("2026-12-02T16:30:00Z", "zh")).toBe("2026/12/3 00:30:00");
    expect(fmtTime("2026-12-02T16:30:00Z", "en")).toBe("03/12/2026, 00:30:00");
    expect(fmtTime(null, "zh")).toBe("—");
  });
});

describe("countdown", () => {
  const due = "2026-12-02T10:30:00Z";
  const at = (iso: string) => new Date(iso).getTime();
  it("counts down to the deadline", () => {
    expect(countdown(due, at("2026-12-02T10:00:01Z"))).toMatchObject({ overdue: false, text: "29:59" });
    expect(countdown(due, at("2026-12-02T08:29:58Z"))).toMatchObject({ overdue: false, text: "2:00:02" });
  });
  it("turns overdue the second after the deadline and counts up", () => {
    expect(countdown(due, at("2026-12-02T10:30:00Z")).overdue).toBe(false);
    expect(countdown(due, at("2026-12-02T10:31:05Z"))).toMatchObject({ overdue: true, text: "01:05" });
  });
  it("formats hours without padding and minutes and seconds with it", () => {
    expect(fmtLeft(36 * 3600 * 1000 + 61_000)).toBe("36:01:01");
    expect(fmtLeft(-5000)).toBe("00:05");
  });
});

describe("safeUrl", () => {
  it("lets only http(s) into an href", () => {
    expect(safeUrl("https://temporal.example/ns/default")).toBe("https://temporal.example/ns/default");
    expect(safeUrl("javascript:alert(1)")).toBe("#");
    expect(safeUrl("data:text/html,<script>")).toBe("#");
    expect(safeUrl(null)).toBe("#");
  });
});
