// Runs `clearway openapi`: the repository's virtualenv first, then CLEARWAY_BIN, then PATH.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const venv = fileURLToPath(new URL("../../.venv/bin/clearway", import.meta.url));
const bin = process.env.CLEARWAY_BIN ?? (existsSync(venv) ? venv : "clearway");

export function openapiDocument() {
  return execFileSync(bin, ["openapi"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
}
