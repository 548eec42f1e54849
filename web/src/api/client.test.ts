import { describe, expect, it } from "vitest";
import { problemMessage } from "./client";

describe("problemMessage", () => {
  it("shows a problem's detail in words", () => {
    expect(problemMessage(409, { type: "about:blank", title: "Conflict", detail: "Taken." })).toBe(
      "Taken.",
    );
  });
  it("names the fields of a validation error", () => {
    const body = { detail: [{ loc: ["body", "email"], msg: "value is not a valid email" }] };
    expect(problemMessage(422, body)).toBe("email: value is not a valid email");
  });
  it("falls back to the title, then to the status", () => {
    expect(problemMessage(500, { title: "Server error" })).toBe("Server error");
    expect(problemMessage(502, "<html>")).toBe("The request failed (HTTP 502).");
  });
});
