import { MantineProvider } from "@mantine/core";
import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { safeNext } from "./Account";
import { StandingBanner, standingOf } from "./Verify";

describe("standingOf", () => {
  it("reads a clearance's state, and a bad signature above all", () => {
    expect(standingOf({ valid: true, status: "issued" })).toBe("valid");
    expect(standingOf({ valid: false, status: "revoked" })).toBe("revoked");
    expect(standingOf({ valid: false, status: "expired" })).toBe("expired");
    expect(standingOf({ valid: true, status: "issued", signature_valid: false })).toBe("invalid");
    expect(standingOf({ valid: false, status: "unknown" })).toBe("invalid");
  });
});

describe("StandingBanner", () => {
  it("says a revoked certificate in words, with the reason", () => {
    render(
      <MantineProvider>
        <StandingBanner standing="revoked" reason="Report R1 was withdrawn." />
      </MantineProvider>,
    );
    const banner = screen.getByTestId("standing");
    expect(banner).toHaveAttribute("data-standing", "revoked");
    expect(banner).toHaveTextContent("REVOKED");
    expect(banner).toHaveTextContent("must not be relied on. Report R1 was withdrawn.");
  });
});

describe("safeNext", () => {
  it("follows same-site paths only (no open redirect after sign-in)", () => {
    expect(safeNext("/orders/1?x=2")).toBe("/orders/1?x=2");
    expect(safeNext("//evil.example/")).toBeNull();
    expect(safeNext("https://evil.example/")).toBeNull();
    expect(safeNext(null)).toBeNull();
  });
});
