import { describe, expect, it } from "vitest";
import { flagOf } from "./flags";

describe("flagOf", () => {
  it("builds a country's flag from its ISO code", () => {
    expect(flagOf("CN")).toBe("🇨🇳");
    expect(flagOf("US")).toBe("🇺🇸");
  });
  it("gives unions and unknown codes a flag too", () => {
    expect(flagOf("EU")).toBe("🇪🇺");
    expect(flagOf("EAEU")).toBe("🌐");
  });
});
