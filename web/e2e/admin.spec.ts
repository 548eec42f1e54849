import { ADMIN, ADMIN_PASSWORD, check, expect, signIn, test } from "./fixtures";

test("an administrator verifies a new provider, watches the dashboard and reads the mailbox", async ({
  browser,
  page,
}) => {
  const email = `lab-${Date.now()}@example.com`;
  await page.goto("/register");
  await page.getByText("A test lab or certifier (provider)").click();
  await page.getByLabel("Your name").fill("New Lab");
  await page.getByLabel("E-mail").fill(email);
  await page.getByLabel("Password", { exact: true }).fill("lab-password-123");
  await page.getByRole("button", { name: "Create an account" }).click();
  await expect(page.getByText(/verifies provider accounts/)).toBeVisible();

  // Until verified, signing in explains the wait (the refused call is the one console error).
  const context = await browser.newContext();
  const pending = await context.newPage();
  const refused: string[] = [];
  pending.on("console", (m) => {
    if (m.type() === "error") refused.push(m.text());
  });
  await pending.goto("/sign-in");
  await pending.getByLabel("E-mail").fill(email);
  await pending.getByLabel("Password", { exact: true }).fill("lab-password-123");
  await pending.getByRole("button", { name: "Sign in" }).last().click();
  await expect(pending.getByTestId("pending")).toContainText(
    "An administrator checks every provider",
  );
  await check(pending, "provider-pending");
  expect(refused).toEqual([expect.stringContaining("403")]);
  await context.close();

  await signIn(page, ADMIN, ADMIN_PASSWORD);
  await expect(page).toHaveURL(/\/admin$/);
  await expect(page.locator(".recharts-surface").first()).toBeVisible();
  await expect(page.getByTestId("audit-verify")).toContainText("Intact");
  await check(page, "admin-dashboard");

  await page.getByRole("link", { name: "Users" }).first().click();
  const row = page.getByRole("row", { name: new RegExp(email) });
  await row.getByRole("button", { name: "Verify" }).click();
  await expect(page.getByRole("dialog")).toContainText(email);
  await check(page, "admin-users-confirm");
  await page.getByRole("dialog").getByRole("button", { name: "Verify" }).click();
  await expect(row.locator("[data-state=active]")).toBeVisible();
  await check(page, "admin-users");

  await page.getByRole("link", { name: "Mailbox" }).first().click();
  await page.getByLabel("Recipient").fill(email);
  await expect(page.getByRole("row").nth(1)).toBeVisible();
  await page.getByRole("row").nth(1).getByRole("button").click();
  await check(page, "admin-mailbox");
});
