import { describe, expect, it } from "vitest";
import { perMinute, statusMix } from "./stats";

const row = (start: string, requests: number, p95: number, errors = 0, client_errors = 0) => ({
  start,
  requests,
  errors,
  client_errors,
  p50_ms: p95 / 2,
  p95_ms: p95,
  p99_ms: p95 * 2,
});

describe("perMinute", () => {
  it("adds requests and weights latency by requests, in time order", () => {
    const minutes = perMinute(
      [
        row("2026-01-01T10:01:00Z", 1, 100),
        row("2026-01-01T10:00:00Z", 3, 10),
        row("2026-01-01T10:00:00Z", 1, 50),
      ],
      (s) => s.slice(11, 16),
    );
    expect(minutes).toEqual([
      { minute: "10:00", requests: 4, p50: 10, p95: 20, p99: 40 },
      { minute: "10:01", requests: 1, p50: 50, p95: 100, p99: 200 },
    ]);
  });
});

describe("statusMix", () => {
  it("splits requests into success, client and server errors", () => {
    expect(statusMix([row("x", 10, 1, 1, 2), row("y", 5, 1, 0, 1)])).toEqual({
      ok: 11,
      client: 3,
      server: 1,
    });
  });
});
