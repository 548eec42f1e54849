// Fails when the committed API client no longer matches the API: the document differs from
// what the gateway serves, or the generated code differs from what the document gives.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { openapiDocument } from "./clearway.mjs";

const web = fileURLToPath(new URL("..", import.meta.url));
const stale = (why) => {
  console.error(
    `The API client is stale: ${why}.\nRun \`npm run generate\` in web/ and commit the result.`,
  );
  process.exit(1);
};

if (openapiDocument() !== readFileSync(join(web, "openapi.json"), "utf8")) {
  stale("web/openapi.json differs from the gateway's OpenAPI document");
}

const fresh = mkdtempSync(join(tmpdir(), "clearway-client-"));
execFileSync("npx", ["openapi-ts"], {
  cwd: web,
  stdio: ["ignore", "ignore", "inherit"],
  env: { ...process.env, OPENAPI_TS_OUTPUT: fresh },
});
const files = (root) => {
  const out = new Map();
  const walk = (dir) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else out.set(relative(root, path), readFileSync(path, "utf8"));
    }
  };
  walk(root);
  return out;
};
const committed = files(join(web, "src/api/generated"));
const generated = files(fresh);
for (const [name, text] of generated) {
  if (committed.get(name) !== text)
    stale(`src/api/generated/${name} differs from a fresh generation`);
}
for (const name of committed.keys())
  if (!generated.has(name)) stale(`src/api/generated/${name} is not generated any more`);
console.log("The API client matches the API.");
