import type { Browser, Page } from "@playwright/test";
import type { RequirementOut } from "../src/api/generated/types.gen";
import { decide } from "../src/pages/public/decide";
import { CUSTOMER, check, expect, PROVIDER, signIn, test } from "./fixtures";

// Customer search → self-check → checklist → provider → order with an attachment → message;
// provider quote → accept → report → clearance → public verification, each step in the UI.
test.describe.configure({ mode: "serial" });

// A wooden toy train for the EU: made for children's play and for consumers; no battery, no
// current, no radio, no network, no biocide. Every other deciding question is answered "No".
const YES = new Set(["for_children", "consumer"]);
// What applies follows from the shipped rule base, decided the way the app decides it.
let APPLIES: string[] = [];
let QUESTIONS: { id: string; text: string }[] = [];

test.beforeAll(async ({ request }) => {
  const answer = await request.get("/api/rules/self-check?market=EU&category=toys");
  expect(answer.ok()).toBeTruthy();
  const body = (await answer.json()) as {
    questions: { id: string; text: string }[];
    requirements: RequirementOut[];
  };
  QUESTIONS = body.questions;
  const answers = Object.fromEntries(QUESTIONS.map((q) => [q.id, YES.has(q.id)]));
  APPLIES = body.requirements.filter((r) => decide(r, answers) === "applies").map((r) => r.code);
  expect(APPLIES).toContain("EU-TOYS");
});

let orderUrl = "";
let clearanceId = "";

async function pick(page: Page, label: string, typed: string, option: RegExp) {
  await page.getByRole("textbox", { name: label }).click();
  await page.getByRole("textbox", { name: label }).fill(typed);
  await page.getByRole("option", { name: option }).first().click();
}

async function answerAll(page: Page) {
  const count = QUESTIONS.length;
  for (let i = 0; i < count; i++) {
    await expect(page.getByText(`Question ${i + 1} of ${count}`)).toBeVisible();
    const group = page.getByRole("radiogroup");
    const text = (await page.getByRole("heading", { level: 2 }).textContent()) ?? "";
    const question = QUESTIONS.find((q) => q.text === text);
    expect(question, text).toBeDefined();
    await group.getByLabel(question && YES.has(question.id) ? "Yes" : "No").check();
    await page.getByRole("button", { name: "Next" }).click();
  }
}

async function as(browser: Browser, email: string | null) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(String(e)));
  if (email) await signIn(page, email);
  return { page, errors, close: () => context.close() };
}

test("a provider describes what it offers", async ({ page }) => {
  await signIn(page, PROVIDER);
  await expect(page).toHaveURL(/\/provider$/);
  await page.getByRole("link", { name: "Profile" }).first().click();
  await page.getByLabel("Display name").fill("Demo Test Lab");
  await page.getByLabel("Description").fill("EN 71 toy safety and REACH testing.");
  // Start from no market: the demo profile lists some, and picking one listed would drop it.
  // Backspace in the empty field takes the last market off; there are fewer than 20 markets.
  const markets = page.getByRole("textbox", { name: "Markets" });
  await markets.click();
  for (let i = 0; i < 20; i++) await markets.press("Backspace");
  await pick(page, "Markets", "Europe", /European Union/);
  await page.keyboard.press("Escape");
  const codes = page.getByRole("textbox", { name: "Requirements covered" });
  for (const code of APPLIES) {
    await codes.fill(code);
    await codes.press("Enter");
  }
  await page.getByLabel("Turnaround (days)").fill("10");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByText("Saved.")).toBeVisible();
  await check(page, "provider-profile");
});

test("anyone searches, runs the self-check, and a customer saves the checklist", async ({
  page,
}) => {
  await page.goto("/");
  await check(page, "public-landing");
  const product = page.getByRole("textbox", { name: "Product" });
  await product.fill("toys");
  await page.getByRole("option", { name: "Toys", exact: true }).click();
  await pick(page, "Market", "Europ", /European Union/);
  await page.getByRole("button", { name: "Search" }).click();
  await expect(
    page.getByRole("heading", { name: /European Union: \d+ requirements/ }),
  ).toBeVisible();
  await expect(page.getByRole("heading", { name: /Conditional/ })).toBeVisible();
  await expect(page.getByRole("link", { name: /Directive 2009\/48\/EC/ }).first()).toHaveAttribute(
    "href",
    /^https:\/\//,
  );
  await check(page, "public-search-results");

  await page.getByRole("link", { name: "Check which apply" }).click();
  await answerAll(page);
  await expect(
    page.getByRole("heading", { name: `${APPLIES.length} requirements apply` }),
  ).toBeVisible();
  await check(page, "public-self-check");

  // Signing in brings the visitor back to the self-check.
  await page.getByRole("link", { name: "Sign in to save this checklist" }).click();
  await page.getByLabel("E-mail").fill(CUSTOMER);
  await page.getByLabel("Password", { exact: true }).fill("demo-password-1");
  await page.getByRole("button", { name: "Sign in" }).last().click();
  await expect(page).toHaveURL(/\/self-check\?/);
  await answerAll(page);
  await page.getByRole("button", { name: "Save as checklist" }).click();
  await expect(page).toHaveURL(/\/checklists\/\w+$/);
  for (const code of APPLIES)
    await expect(page.getByRole("cell", { name: code, exact: true })).toBeVisible();
  await expect(page.getByRole("article", { name: "Demo Test Lab" })).toBeVisible();
  await check(page, "customer-checklist");

  await page
    .getByRole("article", { name: "Demo Test Lab" })
    .getByRole("button", { name: "Order an assessment" })
    .click();
  await expect(page).toHaveURL(/\/orders\/new\?/);
  await page.locator("input[type=file]").setInputFiles({
    name: "product-spec.txt",
    mimeType: "text/plain",
    buffer: Buffer.from("Wooden toy train, ages 3+, painted with water-based paint.\n"),
  });
  await expect(page.getByTestId("chosen-files")).toHaveText("product-spec.txt");
  await page.getByLabel("Note to the provider").fill("Please test for EN 71-1/2/3.");
  await check(page, "customer-new-order");
  await page.getByRole("button", { name: "Place the order" }).click();
  await expect(page).toHaveURL(/\/orders\/\w{32}$/);
  orderUrl = new URL(page.url()).pathname;
  await expect(page.getByTestId("attachment-list")).toContainText("product-spec.txt");

  await page.getByLabel("Write a message").fill("When can you start?");
  await page.getByRole("button", { name: "Send" }).click();
  await expect(page.getByTestId("thread")).toContainText("When can you start?");
  await check(page, "customer-order");

  // The list shows the saved checklist by its counts: every requirement decided, none open.
  await page.goto("/checklists");
  const saved = page.getByRole("row").filter({ has: page.getByRole("link", { name: "toys" }) });
  await expect(saved.getByRole("cell").nth(2)).toHaveText(String(APPLIES.length));
  await expect(saved.getByRole("cell").nth(3)).toHaveText("0");
  await check(page, "customer-checklists");
});

test("the provider quotes, the customer accepts, the report arrives, a clearance is issued and verifies", async ({
  browser,
  page,
}) => {
  const provider = await as(browser, PROVIDER);
  await expect(provider.page.getByRole("link", { name: orderUrl.slice(8, 16) })).toBeVisible();
  await check(provider.page, "provider-inbox");
  await provider.page.goto(orderUrl);
  await provider.page.getByLabel("Amount").fill("250");
  await provider.page.getByRole("button", { name: "Send quote" }).click();
  await expect(provider.page.getByTestId("quote")).toContainText("250");

  await signIn(page, CUSTOMER);
  await expect(page.getByTestId("notifications")).toBeVisible();
  await expect(
    page.getByRole("link", { name: new RegExp(`toys · ${APPLIES.length} appl`) }),
  ).toBeVisible();
  await check(page, "customer-home");
  await page.goto(orderUrl);
  await page.getByRole("button", { name: "Accept the quote" }).click();
  await expect(page.locator("[data-state=accepted]").first()).toBeVisible();

  await provider.page.reload();
  await provider.page.getByRole("button", { name: "Start work" }).click();
  await provider.page.getByLabel("Title").fill("EN 71 and REACH test report");
  await provider.page.getByLabel("Reference (optional)").fill("TR-2026-001");
  await provider.page.getByRole("button", { name: "Upload the report" }).click();
  await expect(provider.page.getByTestId("report-list")).toContainText(
    "EN 71 and REACH test report",
  );
  await provider.page.getByRole("button", { name: "Deliver the reports" }).click();
  await expect(provider.page.locator("[data-state=report_delivered]").first()).toBeVisible();
  await check(provider.page, "provider-order");
  expect(provider.errors).toEqual([]);
  await provider.close();

  await page.reload();
  await expect(page.getByTestId("report-list")).toContainText("EN 71 and REACH test report");
  await page.getByRole("link", { name: "Request a clearance" }).click();
  await page.getByRole("button", { name: "Request the clearance" }).click();
  await expect(page).toHaveURL(/\/clearances\/\w+$/);
  clearanceId = page.url().split("/").pop() ?? "";
  await expect(page.getByTestId("standing")).toHaveAttribute("data-standing", "valid");
  await expect(page.getByRole("img", { name: /QR code/ })).toBeVisible();
  await check(page, "customer-clearance");
  await page.emulateMedia({ media: "print" });
  await page.screenshot({
    path: "test-results/screenshots/customer-clearance-print.png",
    fullPage: true,
  });
  await expect(page.getByRole("button", { name: "Print the certificate" })).toBeHidden();
  await page.emulateMedia({ media: "screen" });

  const visitor = await as(browser, null);
  await visitor.page.goto(`/verify/${clearanceId}`);
  await expect(visitor.page.getByTestId("standing")).toHaveAttribute("data-standing", "valid");
  await expect(visitor.page.getByTestId("standing")).toContainText("VALID");
  await check(visitor.page, "public-verify-valid");
  expect(visitor.errors).toEqual([]);
  await visitor.close();
});
