import { describe, expect, it } from "vitest";
import type { ProfileOut } from "../../api/generated/types.gen";
import { actionsFor } from "./Users";

function user(id: string, role: string, status: string): ProfileOut {
  return {
    id,
    role,
    status,
    name: id,
    email: `${id}@example.com`,
    company: null,
    country: null,
    phone: null,
    created_at: "2026-01-01T00:00:00Z",
  };
}

describe("actionsFor", () => {
  it("offers a second-factor reset for other users, never for oneself", () => {
    expect(actionsFor(user("c", "customer", "active"), "me")).toEqual([
      "suspend",
      "resetFactor",
      "delete",
    ]);
    expect(actionsFor(user("a", "admin", "active"), "me")).toEqual(["resetFactor"]);
    expect(actionsFor(user("me", "admin", "active"), "me")).toEqual([]);
  });

  it("has nothing to reset for a provider still waiting to be verified", () => {
    expect(actionsFor(user("p", "provider", "pending"), "me")).toEqual(["verify", "delete"]);
  });
});
