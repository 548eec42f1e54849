import { describe, expect, it } from "vitest";
import type { ConditionOut, RequirementOut } from "../../api/generated/types.gen";
import { decide, holds } from "./decide";

function yesNo(id: string, applies_when: boolean): ConditionOut {
  return { id, text: id, kind: "yes_no", applies_when, applies_if: applies_when ? "yes" : "no" };
}

function quantity(id: string, applies_when: Record<string, unknown>): ConditionOut {
  return { id, text: id, kind: "number", unit: "g", applies_when, applies_if: "" };
}

function rule(match: "all" | "any", questions: ConditionOut[], conditional = true): RequirementOut {
  return {
    code: "X",
    version: 1,
    market: "EU",
    title: "X",
    legal_reference: "",
    authority: "",
    evidence_type: "test_report",
    issuers: [],
    mandatory: !conditional,
    conditional,
    match,
    questions,
    validity_months: null,
    url: null,
    notes: null,
    effective_from: null,
    effective_to: null,
    score: 1,
    why: {
      reason: "",
      matched_hs_code: null,
      scope_hs_code: null,
      scope_category: null,
      narrower: false,
    },
  };
}

describe("decide", () => {
  it("always applies a mandatory requirement", () => {
    expect(decide(rule("all", [], false), {})).toBe("applies");
  });
  it("needs every answer for an all-match rule", () => {
    const r = rule("all", [yesNo("electrical", true), yesNo("radio", true)]);
    expect(decide(r, { electrical: true })).toBe("open");
    expect(decide(r, { electrical: true, radio: true })).toBe("applies");
    expect(decide(r, { electrical: true, radio: false })).toBe("not-applicable");
  });
  it("needs one answer for an any-match rule", () => {
    const r = rule("any", [yesNo("battery", true), yesNo("mains", true)]);
    expect(decide(r, { battery: false })).toBe("open");
    expect(decide(r, { mains: true })).toBe("applies");
    expect(decide(r, { battery: false, mains: false })).toBe("not-applicable");
  });
  it("honours a question that applies on a no", () => {
    const r = rule("all", [yesNo("exempt", false)]);
    expect(decide(r, { exempt: false })).toBe("applies");
    expect(decide(r, { exempt: true })).toBe("not-applicable");
  });
  it("decides a quantity by its bounds, every bound holding", () => {
    const r = rule("all", [quantity("takeoff_mass", { ge: 250, lt: 25000 })]);
    expect(decide(r, {})).toBe("open");
    expect(decide(r, { takeoff_mass: 249 })).toBe("not-applicable");
    expect(decide(r, { takeoff_mass: 250 })).toBe("applies");
    expect(decide(r, { takeoff_mass: 25000 })).toBe("not-applicable");
  });
  it("reads a two-sided range inclusively, and never takes a yes for a number", () => {
    const range = quantity("motor_power", { between: [250, 4000] });
    expect(holds(range, 250)).toBe(true);
    expect(holds(range, 4000)).toBe(true);
    expect(holds(range, 4001)).toBe(false);
    expect(holds(range, true)).toBe(false);
    expect(holds(quantity("youngest_age", { gt: 14 }), 14)).toBe(false);
  });
});
