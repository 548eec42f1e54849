import { ApiError } from "../api/client";

/** Whether an error is the problem of this type (the last part of the problem's `type`). */
export function isProblem(error: unknown, name: string): boolean {
  if (!(error instanceof ApiError) || !error.problemType) return false;
  return error.problemType === name || error.problemType.endsWith(`/${name}`);
}

/** What a refused sign-in asks for next, if it is a second-factor step. */
export type SecondStep =
  | { kind: "code" }
  /** An administrator who must have the factor: enrol with this secret, then send a code. */
  | { kind: "setup"; secret: string; otpauthUri: string };

export function secondStep(error: unknown): SecondStep | null {
  if (isProblem(error, "mfa-required")) return { kind: "code" };
  if (isProblem(error, "mfa-setup-required") && error instanceof ApiError) {
    const body = (error.body ?? {}) as { secret?: unknown; otpauth_uri?: unknown };
    if (typeof body.secret === "string" && typeof body.otpauth_uri === "string") {
      return { kind: "setup", secret: body.secret, otpauthUri: body.otpauth_uri };
    }
  }
  return null;
}

/** The secret in groups of four, easier to type into an authenticator app by hand. */
export function groupSecret(secret: string): string {
  return secret.match(/.{1,4}/g)?.join(" ") ?? secret;
}

/** The text file a user keeps the recovery codes in. */
export function recoveryCodesFile(codes: readonly string[], account: string, heading: string) {
  return `${heading}\n${account}\n\n${codes.join("\n")}\n`;
}
