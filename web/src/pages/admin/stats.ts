/** Rows of /api/monitor/requests/stats (one per minute and route) folded into one per minute. */
export type StatRow = {
  start: string;
  requests: number;
  errors: number;
  client_errors: number;
  p50_ms: number;
  p95_ms: number;
  p99_ms: number;
};

export type Minute = { minute: string; requests: number; p50: number; p95: number; p99: number };

/** Requests add up; latency percentiles are weighted by each route's requests (an estimate). */
export function perMinute(rows: StatRow[], label: (iso: string) => string): Minute[] {
  const byStart = new Map<string, StatRow[]>();
  for (const row of rows) byStart.set(row.start, [...(byStart.get(row.start) ?? []), row]);
  return [...byStart.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([start, group]) => {
      const total = group.reduce((sum, r) => sum + r.requests, 0) || 1;
      const weighted = (key: "p50_ms" | "p95_ms" | "p99_ms") =>
        Math.round((group.reduce((sum, r) => sum + r[key] * r.requests, 0) / total) * 10) / 10;
      return {
        minute: label(start),
        requests: group.reduce((sum, r) => sum + r.requests, 0),
        p50: weighted("p50_ms"),
        p95: weighted("p95_ms"),
        p99: weighted("p99_ms"),
      };
    });
}

export function statusMix(rows: StatRow[]): { ok: number; client: number; server: number } {
  let ok = 0;
  let client = 0;
  let server = 0;
  for (const r of rows) {
    client += r.client_errors;
    server += r.errors;
    ok += r.requests - r.client_errors - r.errors;
  }
  return { ok, client, server };
}
