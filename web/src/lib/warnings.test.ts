import { describe, expect, it } from "vitest";
import { refWords } from "./warnings";

const t = (key: string, params?: Record<string, unknown>) => `${key}:${params?.id}`;

describe("refWords", () => {
  it("names what a warning is about through the case_refs messages", () => {
    expect(refWords("customer-2", t)).toBe("case_refs.customer:2");
    expect(refWords("work-calendar", t)).toBe("case_refs.work_calendar:undefined");
    expect(refWords("keywords-project-4", t)).toBe("case_refs.keywords:4");
    expect(refWords("payment-plan-17", t)).toBe("case_refs.payment_plan:17");
    expect(refWords("mortgage-3", t)).toBe("case_refs.mortgage:3");
  });
  it("leaves a reference it does not know as it is", () => {
    expect(refWords("RF20261202-ABC", t)).toBe("RF20261202-ABC");
  });
});
