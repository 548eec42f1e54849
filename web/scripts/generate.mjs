// `npm run generate`: the gateway's OpenAPI document -> openapi.json -> src/api/generated.
// Run it after any change to a route or a response model, and commit both.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { openapiDocument } from "./clearway.mjs";

writeFileSync(new URL("../openapi.json", import.meta.url), openapiDocument());
execFileSync("npx", ["openapi-ts"], { stdio: "inherit", cwd: new URL("..", import.meta.url) });
