import type { Page } from "@playwright/test";
import { Secret, TOTP } from "otpauth";
import { ADMIN, ADMIN_PASSWORD, check, expect, signIn, signOut, test } from "./fixtures";

const PASSWORD = "second-factor-pass-1";
const PERIOD_MS = 30_000;

/** The authenticator app: RFC 6238 with the parameters identity uses. */
function authenticator(secret: string): TOTP {
  return new TOTP({ secret: Secret.fromBase32(secret), algorithm: "SHA1", digits: 6, period: 30 });
}

/**
 * A code from a time step after `used` (a code is accepted once): when the clock is still in
 * that step, wait until the next one begins, computed from the clock.
 */
async function freshCode(page: Page, totp: TOTP, used: number) {
  const wait = (used + 1) * PERIOD_MS - Date.now();
  if (wait > 0) await page.waitForTimeout(wait + 250);
  const now = Date.now();
  return { code: totp.generate({ timestamp: now }), step: Math.floor(now / PERIOD_MS) };
}

/** A code no step near now has: every digit of the current code moved by one. */
function wrongCode(totp: TOTP): string {
  const near = [-1, 0, 1].map((k) => totp.generate({ timestamp: Date.now() + k * PERIOD_MS }));
  let code = near[1] ?? "000000";
  do code = [...code].map((d) => String((Number(d) + 1) % 10)).join("");
  while (near.includes(code));
  return code;
}

/**
 * A refusal the test provokes on purpose is logged by Chromium as a failed resource: check it
 * was there, then take it off the list the fixture fails on.
 */
async function expectRefused(errors: string[], path: string, status: number) {
  const match = (e: string) => e.includes(`status of ${status}`) && e.includes(path);
  await expect.poll(() => errors.some(match), `a ${status} from ${path}`).toBe(true);
  errors.splice(errors.findIndex(match), 1);
}

test("a customer turns the second factor on, signs in with a code, and an administrator resets it", async ({
  page,
  request,
  consoleErrors,
}) => {
  const email = `totp-${Date.now()}@example.com`;
  const registered = await request.post("/api/identity/register", {
    data: { role: "customer", name: "Totp Tester", email, password: PASSWORD },
  });
  expect(registered.ok()).toBe(true);

  // Turning it on: the secret read from the page, the first code confirms it.
  await signIn(page, email, PASSWORD);
  await page.getByRole("link", { name: "Account", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Your account" })).toBeVisible();
  await expect(page.getByTestId("mfa-status")).toContainText("Off");
  await check(page, "account-second-factor-off");
  await page.getByRole("button", { name: "Turn on the second factor" }).click();
  const secret = ((await page.getByTestId("mfa-secret").textContent()) ?? "").replace(/\s/g, "");
  expect(secret).toMatch(/^[A-Z2-7]{16,}$/);
  await expect(
    page.getByRole("img", { name: "QR code of the second factor's secret" }),
  ).toBeVisible();
  await check(page, "account-second-factor-enrol");
  const totp = authenticator(secret);
  let used = Math.floor(Date.now() / PERIOD_MS) - 1;
  const first = await freshCode(page, totp, used);
  await page.getByLabel("Code").fill(first.code);
  await page.getByRole("button", { name: "Confirm and turn on" }).click();
  used = first.step;

  // The recovery codes, once.
  const shown = page.getByTestId("recovery-codes");
  await expect(shown.getByRole("listitem")).toHaveCount(10);
  const codes = await shown.getByRole("listitem").allTextContents();
  for (const code of codes) expect(code).toMatch(/^[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}$/);
  await expect(page.getByTestId("mfa-status")).toContainText("On");
  await check(page, "account-second-factor-recovery-codes");
  const download = page.waitForEvent("download");
  await shown.getByRole("button", { name: "Download as text" }).click();
  expect((await download).suggestedFilename()).toBe("clearway-recovery-codes.txt");
  await shown.getByRole("button", { name: "I have kept them" }).click();
  await expect(shown).toHaveCount(0);
  await expect(page.getByTestId("mfa-status")).toContainText("10 recovery codes left");
  await check(page, "account-second-factor-on");
  await page.getByLabel("Language").selectOption("zh-CN");
  await expect(page.getByRole("heading", { name: "我的账户" })).toBeVisible();
  await check(page, "account-second-factor-on-zh");
  await page.getByLabel("语言").selectOption("en");
  await signOut(page);

  // Signing in: the password, then a code; a wrong code says so.
  await page.goto("/sign-in");
  await page.getByLabel("E-mail").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).last().click();
  await expect(page.getByRole("heading", { name: "Enter your code" })).toBeVisible();
  await expectRefused(consoleErrors, "/api/identity/login", 401);
  await check(page, "sign-in-second-factor");
  await page.getByLabel("Code").fill(wrongCode(totp));
  await page.getByRole("button", { name: "Verify and sign in" }).click();
  await expect(page.getByRole("alert")).toContainText("That code is wrong");
  await expectRefused(consoleErrors, "/api/identity/login", 401);
  await check(page, "sign-in-second-factor-wrong-code");
  await page.setViewportSize({ width: 390, height: 844 });
  await check(page, "phone-sign-in-second-factor");
  await page.setViewportSize({ width: 1280, height: 720 });
  const second = await freshCode(page, totp, used);
  await page.getByLabel("Code").fill(second.code);
  await page.getByRole("button", { name: "Verify and sign in" }).click();
  await expect(page.getByRole("button", { name: "Sign out" })).toBeVisible();
  await expect(page).toHaveURL(/\/home$/);
  // The codes were shown once: the account page now only counts them.
  await page.getByRole("link", { name: "Account", exact: true }).click();
  await expect(page.getByTestId("mfa-status")).toContainText("10 recovery codes left");
  await expect(page.getByTestId("recovery-codes")).toHaveCount(0);
  // A recovery code proves the user for new codes; the old ones are gone with it.
  await page.getByRole("button", { name: "Replace the recovery codes" }).click();
  await check(page, "account-second-factor-renew");
  await page.getByLabel("Code").fill(codes[0] ?? "");
  await page.getByRole("button", { name: "Replace the recovery codes" }).click();
  await expect(shown.getByRole("listitem")).toHaveCount(10);
  const renewed = await shown.getByRole("listitem").allTextContents();
  expect(renewed.filter((code) => codes.includes(code))).toEqual([]);
  await shown.getByRole("button", { name: "I have kept them" }).click();
  await expect(page.getByTestId("mfa-status")).toContainText("10 recovery codes left");
  await page.getByRole("button", { name: "Turn off the second factor" }).click();
  await expect(page.getByLabel("Password", { exact: true })).toBeVisible();
  await check(page, "account-second-factor-turn-off");
  await page.getByRole("button", { name: "Cancel" }).click();
  await signOut(page);

  // The phone is lost: an administrator resets the factor (never their own).
  await signIn(page, ADMIN, ADMIN_PASSWORD);
  await page.goto("/admin/users");
  const row = page.getByRole("row").filter({ hasText: email });
  await expect(
    page
      .getByRole("row")
      .filter({ hasText: ADMIN })
      .getByRole("button", { name: "Reset second factor" }),
  ).toHaveCount(0);
  await row.getByRole("button", { name: "Reset second factor" }).click();
  const dialog = page.getByRole("dialog");
  await expect(dialog).toContainText("Reset the second factor of Totp Tester");
  await check(page, "admin-reset-second-factor");
  await dialog.getByRole("button", { name: "Reset second factor" }).click();
  await expect(
    page.getByRole("status").filter({ hasText: "The second factor of Totp Tester is reset" }),
  ).toBeVisible();
  // Again: there is nothing left to reset, and the page says so in words.
  await row.getByRole("button", { name: "Reset second factor" }).click();
  await dialog.getByRole("button", { name: "Reset second factor" }).click();
  await expect(dialog.getByRole("alert")).toContainText(
    "This account has no second factor to reset.",
  );
  await expectRefused(consoleErrors, "/second-factor", 409);
  await check(page, "admin-reset-second-factor-none");
  await dialog.getByRole("button", { name: "Cancel" }).last().click();
  await signOut(page);

  // The password alone signs the customer in again.
  await signIn(page, email, PASSWORD);
  await expect(page).toHaveURL(/\/home$/);
  await page.getByRole("link", { name: "Account", exact: true }).click();
  await expect(page.getByTestId("mfa-status")).toContainText("Off");
});
