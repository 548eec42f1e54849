import { ADMIN, ADMIN_PASSWORD, check, expect, signIn, test } from "./fixtures";

// One new rule, written as an administrator would: the dry run must list it as a creation.
const RULE_FILE = `format: clearway-rules/1
rules:
  - code: GB-E2E-LABEL
    market: GB
    title: Battery labelling for the end-to-end walk
    legal_reference: The Batteries and Accumulators Regulations 2009
    authority: Office for Product Safety and Standards
    evidence_type: labelling
    issuers: [Manufacturer]
    hs_codes: ["8507"]
`;

test("an administrator edits and publishes a rule, previews an import, verifies the audit trail, and checks dead letters and keys", async ({
  page,
}) => {
  await signIn(page, ADMIN, ADMIN_PASSWORD);

  // Providers, as the marketplace lists them.
  await page.goto("/admin/providers");
  await expect(page.getByRole("heading", { name: "Providers", level: 1 })).toBeVisible();
  await expect(page.getByRole("table")).toBeVisible();
  await check(page, "admin-providers");

  // Rules: filter, open one, change its draft, publish it now.
  await page
    .getByRole("navigation", { name: "Operations" })
    .getByRole("link", { name: "Rules" })
    .click();
  await page.getByLabel("Search rules").fill("radio equipment");
  await page.getByRole("link", { name: "EU-RED", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Rule EU-RED" })).toBeVisible();
  await check(page, "admin-rule");
  const notes = page.getByLabel("Notes");
  await notes.fill("Checked in the end-to-end walk.");
  await page.getByRole("button", { name: "Save draft" }).click();
  await expect(page.getByRole("heading", { name: /Edit draft version 2/ })).toBeVisible();
  await page.getByRole("button", { name: "Publish version 2" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Published." })).toBeVisible();
  await expect(page.getByText(/no draft to publish/)).toBeVisible();
  // The comparison of version 1 with version 2 names the note that changed.
  const compare = page.getByRole("region", { name: "Compare versions" });
  await expect(compare.getByRole("table", { name: "Differences" })).toContainText(
    "Checked in the end-to-end walk.",
  );
  await expect(page.getByRole("region", { name: "History", exact: true })).toContainText(
    /Publish · version 2/,
  );
  await check(page, "admin-rule-published");

  // A second draft, published at a later date.
  await notes.fill("To be in force next year.");
  await page.getByRole("button", { name: "Save draft" }).click();
  await expect(page.getByRole("heading", { name: /Edit draft version 3/ })).toBeVisible();
  await page.getByLabel("At a date").check();
  await page.getByLabel("In force from").fill(`${new Date().getFullYear() + 1}-01-01T00:00`);
  await page.getByRole("button", { name: "Publish version 3" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Published." })).toBeVisible();
  const versions = page.getByRole("region", { name: "Versions", exact: true }).first();
  await expect(versions.getByRole("row")).toHaveCount(4);

  // Import: the dry run lists every change and writes nothing until it is applied.
  await page.getByRole("link", { name: "Import and export" }).click();
  await page.locator("input[type=file]").setInputFiles({
    name: "e2e.yaml",
    mimeType: "application/yaml",
    buffer: Buffer.from(RULE_FILE),
  });
  await page.getByRole("button", { name: "Preview changes (dry run)" }).click();
  await expect(page.getByText("Dry run: nothing has been written")).toBeVisible();
  const plan = page.getByRole("table", { name: "Changes the file makes" });
  await expect(plan.getByRole("row", { name: /GB-E2E-LABEL/ })).toContainText("Create");
  await expect(plan.getByRole("row", { name: /GB-E2E-LABEL/ })).toContainText("e2e.yaml:3");
  await check(page, "admin-import-dry-run");
  await page.getByRole("button", { name: "Apply 1 change" }).click();
  await expect(page.getByText("e2e.yaml: 1 change applied.")).toBeVisible();
  await check(page, "admin-import-applied");

  // Audit trail: the verdict is unmistakable, and the rule changes are in it.
  await page.getByRole("link", { name: "Audit trail" }).click();
  await expect(page.locator("[data-verdict=intact]")).toContainText("The audit trail is intact");
  await expect(page.getByRole("table")).toBeVisible();
  await check(page, "admin-audit");

  // Dead letters: the page renders its list (empty on a healthy platform).
  await page.getByRole("link", { name: "Dead letters" }).click();
  await expect(page.getByRole("heading", { name: "Dead letters", level: 1 })).toBeVisible();
  await expect(page.getByText("No dead letters.").or(page.getByRole("table"))).toBeVisible();
  await check(page, "admin-dead-letters");

  // Keys: rotate, confirmed first; the new version is the active one.
  await page.getByRole("link", { name: "Keys" }).click();
  await expect(page.getByRole("row")).not.toHaveCount(0);
  const before = await page.getByRole("row").count();
  await page.getByRole("button", { name: "Rotate the master key" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Rotate the master key" }).click();
  await expect(page.getByRole("status").filter({ hasText: /is now active/ })).toBeVisible();
  await expect(page.getByRole("row")).toHaveCount(before + 1);
  await check(page, "admin-keys");
});

test("the rule editor at a phone's width, in Chinese", async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await signIn(page, ADMIN, ADMIN_PASSWORD);
  await page.goto("/admin/rules/EU-EMC");
  await page.getByLabel("Language").selectOption("zh-CN");
  await expect(page.getByRole("heading", { name: "规则 EU-EMC" })).toBeVisible();
  await expect(page.getByRole("button", { name: "保存草稿" })).toBeVisible();
  await check(page, "phone-admin-rule-zh");
});
