import { ADMIN, ADMIN_PASSWORD, CUSTOMER, check, expect, signIn, test } from "./fixtures";

const JWT = /eyJ[\w-]+\.[\w-]+\.[\w-]*/;

test("a new customer registers, forgets the password and resets it through the mailed link", async ({
  page,
  request,
}) => {
  const email = `reset-${Date.now()}@example.com`;
  await page.goto("/register");
  await page.getByLabel("Your name").fill("Reset Tester");
  await page.getByLabel("E-mail").fill(email);
  await page.getByLabel("Password", { exact: true }).fill("first-password-1");
  await check(page, "public-register");
  await page.getByRole("button", { name: "Create an account" }).click();
  await expect(page.getByRole("status").filter({ hasText: /Registration received/ })).toBeVisible();

  await page.goto("/sign-in");
  await page.getByRole("link", { name: "Forgot your password?" }).click();
  await page.getByLabel("E-mail").fill(email);
  await check(page, "public-forgot-password");
  await page.getByRole("button", { name: "Send me a reset link" }).click();
  await expect(page.getByText(/a reset link is on its way/)).toBeVisible();

  // The link as mailed, read from the administrators' mailbox API.
  const login = await request.post("/api/identity/login", {
    data: { email: ADMIN, password: ADMIN_PASSWORD },
  });
  const { access_token } = await login.json();
  let link = "";
  await expect(async () => {
    const mail = await request.get(
      `/api/common/mailbox?recipient=${encodeURIComponent(email)}&template=password_reset`,
      {
        headers: { authorization: `Bearer ${access_token}` },
      },
    );
    const { items } = await mail.json();
    link = items[0]?.text.match(/https?:\/\/\S+\/reset-password\?token=\S+/)?.[0] ?? "";
    expect(link).not.toBe("");
  }).toPass({ timeout: 30_000 });

  await page.goto(link);
  await page.getByLabel("New password", { exact: true }).fill("second-password-2");
  await page.getByLabel("Repeat the new password").fill("second-password-2");
  await check(page, "public-reset-password");
  await page.getByRole("button", { name: "Set the new password" }).click();
  await expect(page.getByText("Your password is changed.", { exact: false })).toBeVisible();

  await signIn(page, email, "second-password-2");
  await expect(page).toHaveURL(/\/home$/);
});

test("the tokens stay out of script reach: nothing token-like in web storage, the refresh cookie HttpOnly", async ({
  page,
  context,
}) => {
  await signIn(page, CUSTOMER);
  await page.reload();
  // The session survives a reload: refreshed from the cookie, not from storage.
  await expect(page.getByRole("button", { name: "Sign out" })).toBeVisible();
  const stored = await page.evaluate(() => {
    const dump = (s: Storage) =>
      Object.fromEntries(Object.keys(s).map((k) => [k, s.getItem(k) ?? ""]));
    return { local: dump(localStorage), session: dump(sessionStorage), cookie: document.cookie };
  });
  for (const [key, value] of [...Object.entries(stored.local), ...Object.entries(stored.session)]) {
    expect(key.toLowerCase()).not.toContain("token");
    expect(value).not.toMatch(JWT);
    expect(value.length).toBeLessThan(20);
  }
  expect(stored.cookie).not.toContain("clearway_refresh");
  const cookies = await context.cookies();
  const refresh = cookies.find((c) => c.name === "clearway_refresh");
  expect(refresh?.httpOnly).toBe(true);
  expect(refresh?.sameSite).toBe("Strict");
  expect(refresh?.path).toBe("/api/identity");

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByRole("banner").getByRole("link", { name: "Sign in" })).toBeVisible();
  expect((await context.cookies()).find((c) => c.name === "clearway_refresh")).toBeUndefined();
});

test("signing out while the page still loads ends its calls quietly, none refused after the revocation", async ({
  page,
  request,
}) => {
  await signIn(page, CUSTOMER);
  // Hold the start page's calls until the gateway refuses the ended session: on a busy machine
  // they can still be on their way when a quick user has signed out.
  let release = () => {};
  const refused = new Promise<void>((resolve) => {
    release = resolve;
  });
  const held: Promise<void>[] = [];
  let bearer = "";
  await page.route(/\/api\/(orders|rules)\//, (route) => {
    bearer = route.request().headers().authorization ?? bearer;
    held.push(refused.then(() => route.continue()).catch(() => {}));
  });
  await page.goto("/home");
  await expect.poll(() => held.length).toBeGreaterThan(0);
  expect(bearer).toMatch(/^Bearer /);

  const logout = page.waitForResponse("**/api/identity/logout");
  await page.getByRole("button", { name: "Sign out" }).click();
  expect((await logout).status()).toBe(204);
  await expect
    .poll(async () =>
      (await request.get("/api/identity/me", { headers: { authorization: bearer } })).status(),
    )
    .toBe(401);
  release();
  await Promise.all(held);
  await expect(page.getByRole("banner").getByRole("link", { name: "Sign in" })).toBeVisible();
  await expect(page).toHaveURL(/\/$/);
});

test("a customer opening an administrator's page is refused and pointed home", async ({ page }) => {
  await signIn(page, CUSTOMER);
  await page.goto("/admin/users");
  await expect(page.getByRole("alert")).toContainText("This page is not for your role");
  await expect(page.getByRole("link", { name: "Back to the start page" })).toBeVisible();
  await check(page, "customer-admin-refused");
});

test("the app speaks Simplified Chinese when chosen, and fits a phone", async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto("/");
  await check(page, "phone-landing");
  await page.getByLabel("Language").selectOption("zh-CN");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(
    "您的产品进入目标市场需要满足哪些要求？",
  );
  await expect(page.locator("html")).toHaveAttribute("lang", "zh-CN");
  await check(page, "phone-landing-zh");
  await page.getByRole("button", { name: "打开菜单" }).click();
  await expect(page.getByRole("link", { name: "验证证书" }).last()).toBeVisible();
});
