import { describe, expect, it } from "vitest";
import { productLabel } from "./product";

describe("productLabel", () => {
  it("reads an HS code as such and a category by its id", () => {
    expect(productLabel("8518.22")).toBe("HS 8518.22");
    expect(productLabel("category:toys")).toBe("toys");
  });
});
