import type { FullResult, Reporter, TestCase, TestResult } from "@playwright/test/reporter";

/**
 * Repeats each failed test's error, briefly, after the summary: logs that keep only the end of
 * a run (CI's) then still say what failed and why, e.g. which console error a page printed.
 */
/** Terminal colour codes, which a CI log shows as noise. */
const COLOURS = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g");

export default class FailuresLast implements Reporter {
  private readonly failures: string[] = [];

  onTestEnd(test: TestCase, result: TestResult): void {
    if (result.status === "passed" || result.status === "skipped") return;
    const message = (result.errors[0]?.message ?? result.status).replace(COLOURS, "");
    const lines = message.split("\n").slice(0, 12).join("\n");
    this.failures.push(`${test.titlePath().slice(1).join(" › ")}\n${lines}`);
  }

  onEnd(_result: FullResult): void {
    if (this.failures.length === 0) return;
    console.log("\nWhat failed, in short:");
    for (const failure of this.failures) console.log(`\n${failure}`);
  }
}
