import { client } from "./generated/client.gen";

/** The API's origin: same origin when Clearway serves the app, another when a CDN does. */
export const API_BASE_URL = (import.meta.env.VITE_API_BASE_URL ?? "").replace(/\/$/, "");

/** A failed call, carrying the problem+json `detail` in words (never raw JSON). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly problemType?: string,
    /** The whole problem body: some carry extras, e.g. what a clearance is missing. */
    readonly body?: unknown,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

let accessToken: string | null = null;

/** The access token lives here, in memory only: never in localStorage or sessionStorage. */
export function setAccessToken(token: string | null): void {
  accessToken = token;
}

export function getAccessToken(): string | null {
  return accessToken;
}

/**
 * Aborts the signed-in calls still in flight. Once a session is revoked the gateway refuses its
 * access token, so a call that arrives after sign-out would only come back 401.
 */
let signedInCalls = new AbortController();

export function abortSignedInCalls(): void {
  signedInCalls.abort();
  signedInCalls = new AbortController();
}

client.setConfig({
  baseUrl: API_BASE_URL,
  auth: () => accessToken ?? undefined,
  // The refresh cookie is scoped to /api/identity; other calls never need cookies.
  credentials: "same-origin",
});

client.interceptors.request.use((request) =>
  request.headers.has("Authorization")
    ? new Request(request, { signal: AbortSignal.any([request.signal, signedInCalls.signal]) })
    : request,
);

/** The words to show for a failed answer: the problem's `detail`, else its title, else status. */
export function problemMessage(status: number, body: unknown): string {
  if (body && typeof body === "object") {
    const problem = body as { detail?: unknown; title?: unknown };
    if (typeof problem.detail === "string" && problem.detail) return problem.detail;
    if (Array.isArray(problem.detail)) {
      // FastAPI validation errors: name the fields that failed.
      const fields = problem.detail
        .map((d: { loc?: unknown[]; msg?: string }) =>
          [d.loc?.filter((x) => x !== "body").join("."), d.msg].filter(Boolean).join(": "),
        )
        .join("; ");
      if (fields) return fields;
    }
    if (typeof problem.title === "string" && problem.title) return problem.title;
  }
  return `The request failed (HTTP ${status}).`;
}

type Fields<T> = { data?: T; error?: unknown; response?: Response };

/** Await a generated SDK call and return its data, or throw an ApiError worded for people. */
export async function unwrap<T>(call: Promise<Fields<T>>): Promise<T> {
  let result: Fields<T>;
  try {
    result = await call;
  } catch {
    throw new ApiError(0, "Clearway cannot be reached. Check your connection and try again.");
  }
  const status = result.response?.status ?? 0;
  if (result.error !== undefined || !result.response?.ok) {
    const type = (result.error as { type?: string } | undefined)?.type;
    throw new ApiError(status, problemMessage(status, result.error), type, result.error);
  }
  return result.data as T;
}

export { client };
