// Reports the gzipped JavaScript of the landing page (the entry chunk and what it imports
// statically) and of every lazy chunk, and fails when the landing page is over budget.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const BUDGET_KB = 250;
const dist = new URL("../dist/", import.meta.url).pathname;
const manifest = JSON.parse(readFileSync(join(dist, ".vite/manifest.json"), "utf8"));
const gz = (file) => gzipSync(readFileSync(join(dist, file)), { level: 9 }).length / 1024;

const entryKey = Object.keys(manifest).find((k) => manifest[k].isEntry);
const landing = new Set();
const walk = (key) => {
  const chunk = manifest[key];
  if (!chunk || landing.has(chunk.file)) return;
  landing.add(chunk.file);
  for (const next of chunk.imports ?? []) walk(next);
};
walk(entryKey);

const js = [...new Set(Object.values(manifest).map((c) => c.file))].filter((f) =>
  f.endsWith(".js"),
);
const landingKb = [...landing].reduce((sum, f) => sum + gz(f), 0);
const css = Object.values(manifest).flatMap((c) => c.css ?? []);
console.log(
  `landing page JS: ${landingKb.toFixed(1)} kB gzipped (budget ${BUDGET_KB} kB) in ${landing.size} file(s)`,
);
console.log(`CSS: ${[...new Set(css)].map((f) => `${f} ${gz(f).toFixed(1)} kB`).join(", ")}`);
console.log(`lazy chunks: ${js.length - landing.size}`);
for (const f of js
  .filter((f) => !landing.has(f))
  .sort((a, b) => gz(b) - gz(a))
  .slice(0, 8)) {
  console.log(`  ${f} ${gz(f).toFixed(1)} kB`);
}
if (landingKb > BUDGET_KB) {
  console.error(
    `over budget: the landing page's JavaScript is ${landingKb.toFixed(1)} kB > ${BUDGET_KB} kB`,
  );
  process.exit(1);
}
