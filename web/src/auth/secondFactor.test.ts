import { describe, expect, it } from "vitest";
import { ApiError } from "../api/client";
import { groupSecret, isProblem, recoveryCodesFile, secondStep } from "./secondFactor";

const PROBLEMS = "https://clearway.example/problems";

function refused(type: string, body: Record<string, unknown> = {}): ApiError {
  return new ApiError(401, "refused", `${PROBLEMS}/${type}`, {
    type: `${PROBLEMS}/${type}`,
    ...body,
  });
}

describe("isProblem", () => {
  it("matches the last part of the problem type only", () => {
    expect(isProblem(refused("mfa-required"), "mfa-required")).toBe(true);
    expect(isProblem(refused("invalid-mfa-code"), "mfa-required")).toBe(false);
    expect(isProblem(refused("mfa-required-for-admins"), "mfa-required")).toBe(false);
    expect(isProblem(new Error("mfa-required"), "mfa-required")).toBe(false);
  });
});

describe("secondStep", () => {
  it("asks for a code when the account has a second factor", () => {
    expect(secondStep(refused("mfa-required"))).toEqual({ kind: "code" });
  });

  it("asks an administrator to set the factor up with the secret the problem carries", () => {
    const error = refused("mfa-setup-required", {
      secret: "JBSWY3DPEHPK3PXP",
      otpauth_uri: "otpauth://totp/Clearway:a%40b.example?secret=JBSWY3DPEHPK3PXP",
    });
    expect(secondStep(error)).toEqual({
      kind: "setup",
      secret: "JBSWY3DPEHPK3PXP",
      otpauthUri: "otpauth://totp/Clearway:a%40b.example?secret=JBSWY3DPEHPK3PXP",
    });
  });

  it("is no second step for a wrong password, a wrong code or a setup problem without a secret", () => {
    expect(secondStep(refused("invalid-credentials"))).toBeNull();
    expect(secondStep(refused("invalid-mfa-code"))).toBeNull();
    expect(secondStep(refused("mfa-setup-required"))).toBeNull();
    expect(secondStep(new ApiError(0, "offline"))).toBeNull();
  });
});

describe("groupSecret", () => {
  it("splits the secret into groups of four", () => {
    expect(groupSecret("JBSWY3DPEHPK3PXPAB")).toBe("JBSW Y3DP EHPK 3PXP AB");
  });
});

describe("recoveryCodesFile", () => {
  it("lists one code a line under a heading and the account", () => {
    expect(recoveryCodesFile(["aaaa-bbbb-cccc", "dddd-eeee-ffff"], "a@b.example", "Codes")).toBe(
      "Codes\na@b.example\n\naaaa-bbbb-cccc\ndddd-eeee-ffff\n",
    );
  });
});
