import { describe, expect, it } from "vitest";
import type { Requirement } from "../../api/rules";
import { decide } from "./decide";

function rule(match: string, questions: [string, boolean][], conditional = true): Requirement {
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
    questions: questions.map(([id, applies_when]) => ({ id, text: id, applies_when })),
    validity_months: null,
    url: null,
    notes: null,
  };
}

describe("decide", () => {
  it("always applies a mandatory requirement", () => {
    expect(decide(rule("all", [], false), {})).toBe("applies");
  });
  it("needs every answer for an all-match rule", () => {
    const r = rule("all", [
      ["electrical", true],
      ["radio", true],
    ]);
    expect(decide(r, { electrical: true })).toBe("open");
    expect(decide(r, { electrical: true, radio: true })).toBe("applies");
    expect(decide(r, { electrical: true, radio: false })).toBe("not-applicable");
  });
  it("needs one answer for an any-match rule", () => {
    const r = rule("any", [
      ["battery", true],
      ["mains", true],
    ]);
    expect(decide(r, { battery: false })).toBe("open");
    expect(decide(r, { mains: true })).toBe("applies");
    expect(decide(r, { battery: false, mains: false })).toBe("not-applicable");
  });
  it("honours a question that applies on a no", () => {
    const r = rule("all", [["exempt", false]]);
    expect(decide(r, { exempt: false })).toBe("applies");
    expect(decide(r, { exempt: true })).toBe("not-applicable");
  });
});
