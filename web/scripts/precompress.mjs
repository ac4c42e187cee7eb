// After a build: a gzip copy (level 9) of every text file in dist/, which the API serves to browsers that
// accept gzip (api/static.py). Compressing once here costs the API nothing per request.
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const dist = new URL("../dist/", import.meta.url).pathname;
const TEXT = /\.(js|css|html|svg|json|webmanifest)$/;
let files = 0, before = 0, after = 0;
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (TEXT.test(name)) {
      const raw = readFileSync(path);
      const gz = gzipSync(raw, { level: 9 });
      writeFileSync(`${path}.gz`, gz);
      files += 1; before += raw.length; after += gz.length;
    }
  }
}
walk(dist);
console.log(`precompressed ${files} files: ${(before / 1024).toFixed(0)} KB → ${(after / 1024).toFixed(0)} KB gzip`);
