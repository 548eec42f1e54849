import type { Page } from "@playwright/test";
import type { SelfCheckQuestion } from "../src/api/generated/types.gen";
import { check, expect, test } from "./fixtures";

// A visitor's self-check for a camera-less drone in the EU: one deciding question is a
// quantity (the take-off mass, in grams), answered as a number; every other one "No".
const URL = "/self-check?market=EU&category=drones";
const OPERATOR = "Registration of UAS operators";

let QUESTIONS: SelfCheckQuestion[] = [];
const grouped = (n: number | null | undefined) => (n ?? 0).toLocaleString("en");

test.beforeAll(async ({ request }) => {
  const answer = await request.get("/api/rules/self-check?market=EU&category=drones");
  expect(answer.ok()).toBeTruthy();
  QUESTIONS = ((await answer.json()) as { questions: SelfCheckQuestion[] }).questions;
  expect(QUESTIONS.map((q) => q.id)).toContain("takeoff_mass");
});

async function answerAll(page: Page, grams: number) {
  for (let i = 0; i < QUESTIONS.length; i++) {
    await expect(page.getByText(`Question ${i + 1} of ${QUESTIONS.length}`)).toBeVisible();
    const text = (await page.getByRole("heading", { level: 2 }).textContent()) ?? "";
    const question = QUESTIONS.find((q) => q.text === text);
    expect(question, text).toBeDefined();
    if (question?.kind === "number") {
      const field = page.getByRole("textbox", { name: text });
      await expect(
        page.getByText(`A number from ${grouped(question.min)} to ${grouped(question.max)} g`),
      ).toBeVisible();
      await field.fill(String(grams));
      if (grams === 900) await check(page, "public-self-check-quantity");
    } else {
      await page.getByRole("radiogroup").getByLabel("No").check();
    }
    await page.getByRole("button", { name: "Next" }).click();
  }
}

test("a quantity question is answered with a number, and the answer decides what applies", async ({
  page,
}) => {
  await page.goto(URL);
  await answerAll(page, 900);
  const results = page.getByRole("article");
  await expect(results.filter({ hasText: OPERATOR })).toHaveCount(1);
  // Its condition is read as the quantity it names, not as a yes.
  await expect(results.filter({ hasText: OPERATOR })).toContainText("grams? at least 250 g");
  await check(page, "public-self-check-quantity-result");

  await page.getByRole("button", { name: "Start again" }).click();
  await answerAll(page, 200);
  await expect(page.getByRole("heading", { name: /requirements? appl/ })).toBeVisible();
  await expect(results.filter({ hasText: OPERATOR })).toHaveCount(0);
});
