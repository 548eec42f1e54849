import { ApiError, abortSignedInCalls, setAccessToken, unwrap } from "../api/client";
import {
  loginApiIdentityLoginPost,
  logoutApiIdentityLogoutPost,
  meApiIdentityMeGet,
  refreshApiIdentityRefreshPost,
} from "../api/generated/sdk.gen";
import type { ProfileOut, Tokens } from "../api/generated/types.gen";

/** Tells identity this is the browser app: the refresh token travels as an HttpOnly cookie. */
export const WEB_CLIENT = { "X-Clearway-Client": "web" } as const;
/** Refresh this long before the access token expires. */
const EARLY_SECONDS = 60;

/**
 * Whether this browser may hold a session cookie: a plain yes/no, nothing secret. It spares
 * visitors who never signed in a refresh call that can only fail.
 */
const HINT_KEY = "clearway.session";

let timer: ReturnType<typeof setTimeout> | undefined;
let inFlight: Promise<ProfileOut | null> | null = null;
let onExpired: () => void = () => {};

/** Called when a scheduled refresh fails: the session is over. */
export function whenExpired(callback: () => void): void {
  onExpired = callback;
}

function keep(tokens: Tokens): void {
  setAccessToken(tokens.access_token);
  localStorage.setItem(HINT_KEY, "1");
  clearTimeout(timer);
  const seconds = Math.max(5, tokens.expires_in - EARLY_SECONDS);
  timer = setTimeout(() => {
    void refresh().then((user) => {
      if (!user) onExpired();
    });
  }, seconds * 1000);
}

function forget(): void {
  localStorage.removeItem(HINT_KEY);
  clearTimeout(timer);
  setAccessToken(null);
  abortSignedInCalls();
}

async function me(): Promise<ProfileOut> {
  return unwrap(meApiIdentityMeGet());
}

/**
 * Exchange the refresh cookie for a new access token. One at a time: a refresh token is
 * single-use, and presenting it twice would end the session.
 */
export function refresh(): Promise<ProfileOut | null> {
  if (!localStorage.getItem(HINT_KEY)) return Promise.resolve(null);
  inFlight ??= (async () => {
    try {
      const tokens = await unwrap(
        refreshApiIdentityRefreshPost({ headers: WEB_CLIENT, credentials: "include" }),
      );
      keep(tokens);
      return await me();
    } catch {
      forget();
      return null;
    } finally {
      inFlight = null;
    }
  })();
  return inFlight;
}

/** Sign in; `otp` is the second factor's code (or a recovery code) when identity asks for it. */
export async function login(email: string, password: string, otp?: string): Promise<ProfileOut> {
  const tokens = await unwrap(
    loginApiIdentityLoginPost({
      body: otp ? { email, password, otp } : { email, password },
      headers: WEB_CLIENT,
      credentials: "include",
    }),
  );
  keep(tokens);
  return me();
}

/**
 * End the session: the access token is forgotten and its calls aborted at once, so nothing
 * reaches the gateway after the revocation; the cookie alone tells identity which session ends.
 */
export async function logout(): Promise<void> {
  forget();
  try {
    await unwrap(logoutApiIdentityLogoutPost({ headers: WEB_CLIENT, credentials: "include" }));
  } catch (error) {
    // Signing out must always work locally, even when the server is gone.
    if (!(error instanceof ApiError)) throw error;
  }
}
