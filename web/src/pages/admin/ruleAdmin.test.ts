import { describe, expect, it } from "vitest";
import {
  changedFields,
  diffVersions,
  localToIso,
  type RuleVersion,
  showField,
  showValue,
  visibleChanges,
} from "./ruleAdmin";

const base: RuleVersion = {
  code: "EU-CE-LVD",
  market: "EU",
  title: "Low Voltage Directive",
  legal_reference: "Directive 2014/35/EU",
  authority: "Market surveillance",
  evidence_type: "doc",
  issuers: ["manufacturer"],
  hs_codes: ["8516"],
  categories: [],
  conditions: { mains: true },
  match: "all",
  validity_months: null,
  url: null,
  notes: null,
  version: 1,
  status: "published",
  effective_from: "2026-01-01T00:00:00Z",
  effective_to: null,
  in_force: true,
  created_at: "2026-01-01T00:00:00Z",
  created_by: null,
  updated_at: null,
  updated_by: null,
};

describe("diffVersions", () => {
  it("names exactly the content fields that changed", () => {
    const next = {
      ...base,
      version: 2,
      status: "draft" as const,
      title: "LVD",
      hs_codes: ["8516", "8509"],
    };
    expect(diffVersions(base, next)).toEqual([
      { field: "title", from: "Low Voltage Directive", to: "LVD" },
      { field: "hs_codes", from: ["8516"], to: ["8516", "8509"] },
    ]);
  });
  it("finds nothing between equal contents, whatever their status", () => {
    expect(diffVersions(base, { ...base, version: 2, status: "retired" })).toEqual([]);
  });
  it("sees a changed condition answer", () => {
    expect(diffVersions(base, { ...base, conditions: { mains: false } })).toHaveLength(1);
  });
});

describe("changedFields", () => {
  it("keeps only what differs from the version being edited", () => {
    expect(
      changedFields(base, { title: base.title, notes: "new", issuers: ["manufacturer"] }),
    ).toEqual({
      notes: "new",
    });
  });
});

describe("showValue", () => {
  it("puts lists, maps and empties in words", () => {
    expect(showValue(["a", "b"])).toBe("a, b");
    expect(showValue({ mains: true })).toBe("mains: true");
    expect(showValue(null)).toBe("—");
    expect(showValue([])).toBe("—");
  });
});

describe("localToIso", () => {
  it("turns a local date-time into an instant, and rejects nonsense", () => {
    expect(localToIso("2030-05-01T10:00")).toBe(new Date("2030-05-01T10:00").toISOString());
    expect(localToIso("")).toBeNull();
    expect(localToIso("not a date")).toBeNull();
  });
});

describe("visibleChanges and showField", () => {
  it("drops a change from nothing to an empty list, keeps real ones", () => {
    expect(
      visibleChanges({ categories: { from: null, to: [] }, title: { from: "a", to: "b" } }),
    ).toEqual([{ field: "title", from: "a", to: "b" }]);
  });
  it("shows the in-force dates through the locale formatter only", () => {
    const date = (iso: string) => `date(${iso})`;
    expect(showField("effective_from", "2026-01-01T00:00:00Z", date)).toBe(
      "date(2026-01-01T00:00:00Z)",
    );
    expect(showField("title", "2026-01-01", date)).toBe("2026-01-01");
  });
});
