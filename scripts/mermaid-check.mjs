// Parse every ```mermaid block of Markdown files with Mermaid's own parser, offline, the way GitHub
// would before rendering it. Mermaid needs a DOM even to parse (DOMPurify), so jsdom provides one.
//
//   node scripts/mermaid-check.mjs FILE.md...
//
// Prints `file:line: <diagram type> ok` per diagram, or `file:line: error: ...` and exits 1 when a block
// does not parse; exits 2 when mermaid or jsdom is missing (scripts/install-test-tools.sh installs them).
import { readFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const modules = join(root, ".tools", "node_modules");
for (const name of ["mermaid", "jsdom"]) {
  if (!existsSync(join(modules, name, "package.json"))) {
    console.error(`${name} is not installed in ${modules}; run scripts/install-test-tools.sh`);
    process.exit(2);
  }
}
const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node scripts/mermaid-check.mjs FILE.md...");
  process.exit(64);
}

const require = createRequire(join(modules, "noop.js"));
const { JSDOM } = require("jsdom");
const dom = new JSDOM("<!doctype html><html><body></body></html>");
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const mermaid = (await import(pathToFileURL(require.resolve("mermaid")).href)).default;
mermaid.initialize({ startOnLoad: false, securityLevel: "strict" });

/** Mermaid blocks of a Markdown text: [{line, code}], line being the 1-based line of the opening fence. */
function blocks(text) {
  const found = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() !== "```mermaid") continue;
    const start = i + 1;
    const body = [];
    for (i += 1; i < lines.length && lines[i].trim() !== "```"; i++) body.push(lines[i]);
    found.push({ line: start, code: body.join("\n") });
  }
  return found;
}

let failures = 0;
let diagrams = 0;
for (const file of files) {
  for (const { line, code } of blocks(await readFile(file, "utf8"))) {
    diagrams += 1;
    try {
      const result = await mermaid.parse(code);
      console.log(`${file}:${line}: ${result.diagramType} ok`);
    } catch (error) {
      failures += 1;
      const message = String(error?.message ?? error).split("\n").join(" | ");
      console.log(`${file}:${line}: error: ${message}`);
    }
  }
}
console.log(`${diagrams} diagram(s), ${failures} failed`);
process.exit(failures > 0 ? 1 : 0);
