// After a build: the gzipped JavaScript and CSS each screen needs on a first visit (the entry, the screen's
// chunk and everything they import statically), from Vite's manifest. The goal for the front desk's intake
// screen is at most 250 KB of gzipped JavaScript (tests/unit/test_web_bundle.py checks it too).
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";

const dist = new URL("../dist/", import.meta.url);
const manifest = JSON.parse(readFileSync(new URL(".vite/manifest.json", dist), "utf8"));
const gz = (file) => gzipSync(readFileSync(new URL(file, dist)), { level: 9 }).length;

function closure(keys) {
  const seen = new Set();
  const walk = (key) => {
    if (seen.has(key)) return;
    seen.add(key);
    for (const next of manifest[key].imports ?? []) walk(next);
  };
  keys.forEach(walk);
  return [...seen];
}

const entry = Object.keys(manifest).find((k) => manifest[k].isEntry);
const rows = Object.keys(manifest)
  .filter((k) => k.startsWith("src/views/"))
  .sort()
  .map((view) => {
    const chunks = closure([entry, view]).map((k) => manifest[k]);
    const js = chunks.reduce((n, c) => n + gz(c.file), 0);
    const css = [...new Set(chunks.flatMap((c) => c.css ?? []))].reduce((n, f) => n + gz(f), 0);
    return { screen: view.replace("src/views/", "").replace("View.vue", ""), js, css };
  });
const kb = (n) => (n / 1024).toFixed(1).padStart(7);
console.log("\nfirst visit of each screen (gzipped KB)   JS      CSS");
for (const r of rows) console.log(`  ${r.screen.padEnd(36)} ${kb(r.js)}  ${kb(r.css)}`);
const intake = rows.find((r) => r.screen === "Intake");
console.log(`intake screen: ${kb(intake.js).trim()} KB of gzipped JavaScript (goal: at most 250 KB)\n`);
