import AxeBuilder from "@axe-core/playwright";
import { test as base, expect, type Page } from "@playwright/test";

export const DEMO_PASSWORD = "demo-password-1";
export const CUSTOMER = "customer@demo.clearway.example";
export const PROVIDER = "provider@demo.clearway.example";
export const ADMIN = "admin@clearway.example";
export const ADMIN_PASSWORD = "e2e-admin-password-1";
const SHOTS = "test-results/screenshots";

/** Every test fails on a console error or an uncaught exception in the page. */
export const test = base.extend<{ consoleErrors: string[] }>({
  consoleErrors: [
    async ({ page }, use) => {
      const errors: string[] = [];
      page.on("console", (message) => {
        // Where it came from too: "Failed to load resource" alone does not say which.
        if (message.type() === "error")
          errors.push(`${message.text()} (${message.location().url})`);
      });
      page.on("pageerror", (error) => errors.push(String(error)));
      await use(errors);
      expect(errors, "console errors during the test").toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };

export async function signIn(page: Page, email: string, password = DEMO_PASSWORD) {
  await page.goto("/sign-in");
  await page.getByLabel("E-mail").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in" }).last().click();
  await expect(page.getByRole("button", { name: "Sign out" })).toBeVisible();
}

export async function signOut(page: Page) {
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByRole("banner").getByRole("link", { name: "Sign in" })).toBeVisible();
}

/** A full-page screenshot for people to look at, and axe finding nothing serious. */
export async function check(page: Page, name: string) {
  await page.waitForLoadState("networkidle");
  await expect(page.getByRole("status").filter({ hasText: "Loading…" })).toHaveCount(0);
  // From the top: a full-page shot of a scrolled page draws the fixed header mid-page.
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
  const { violations } = await new AxeBuilder({ page }).analyze();
  const serious = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  // Soft: the walk goes on and the run still fails, listing every page's violations.
  expect
    .soft(
      serious.map(
        (v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.html.slice(0, 160)).join("; ")})`,
      ),
      `axe on ${name}`,
    )
    .toEqual([]);
}
