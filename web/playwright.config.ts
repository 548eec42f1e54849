import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defineConfig } from "@playwright/test";

// A live `clearway up --demo` on a free port with a throwaway data directory.
const port =
  Number(process.env.CLEARWAY_E2E_PORT) ||
  Number(
    execFileSync(process.execPath, [
      "-e",
      "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})",
    ]).toString(),
  );
// Workers load this file again: they must reuse the port the server was started on.
process.env.CLEARWAY_E2E_PORT = String(port);
const baseURL = `http://127.0.0.1:${port}`;
const venv = join(import.meta.dirname, "..", ".venv", "bin", "clearway");
const clearway = process.env.CLEARWAY_BIN ?? (existsSync(venv) ? venv : "clearway");
export const ADMIN_PASSWORD = "e2e-admin-password-1";

export default defineConfig({
  testDir: "e2e",
  outputDir: "test-results/artifacts",
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 120_000,
  expect: { timeout: 20_000 },
  reporter: [["list"], ["./e2e/failures-last.ts"]],
  use: {
    baseURL,
    trace: "retain-on-failure",
    // Mantine then skips its transitions: pages settle at once for screenshots and axe.
    reducedMotion: "reduce",
    launchOptions: {
      // Debian's chromium: no browser download, ever.
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  webServer: {
    command: `"${clearway}" up --port ${port} --demo`,
    url: `${baseURL}/readyz`,
    timeout: 180_000,
    reuseExistingServer: false,
    stdout: "ignore",
    stderr: "pipe",
    env: {
      CLEARWAY_DATA_DIR: mkdtempSync(join(tmpdir(), "clearway-e2e-")),
      CLEARWAY_PUBLIC_URL: baseURL,
      CLEARWAY_ADMIN_PASSWORD: ADMIN_PASSWORD,
      CLEARWAY_LOG_LEVEL: "WARNING",
      // One browser signs in many times from 127.0.0.1: lift the per-address limits.
      CLEARWAY_RATELIMIT_AUTH_PER_SECOND: "100",
      CLEARWAY_RATELIMIT_AUTH_BURST: "1000",
      CLEARWAY_RATELIMIT_ADDRESS_PER_SECOND: "1000",
      CLEARWAY_RATELIMIT_ADDRESS_BURST: "2000",
    },
  },
});
