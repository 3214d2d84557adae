// Validate documents against JSON Schemas with ajv (draft 2020-12) and ajv-formats, in strict mode with formats
// asserted: the validator behind many editors and CI tools, set as strictly as it goes. A schema that uses a format
// ajv does not know, or a keyword out of place, does not even compile.
//
//   node scripts/schema-check.mjs INPUT.json
//
// INPUT is {"schemas": {"<name>": <schema>, ...}, "documents": [{"schema": "<name>", "data": <document>}, ...]}.
// Prints a JSON array with one {"valid": true|false, "errors": ["<path> <message>", ...]} per document, in order.
// Exits 2 when ajv or ajv-formats is missing (scripts/install-test-tools.sh installs them into .tools/), 3 when a
// schema does not compile (the message says why).
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
// .tools/node_modules first; NODE_PATH after it, as Node resolves
const require = createRequire(join(root, ".tools", "node_modules", "noop.js"));
let Ajv2020, addFormats;
try {
  Ajv2020 = require("ajv/dist/2020.js").default;
  addFormats = require("ajv-formats").default;
} catch (error) {
  console.error(`ajv or ajv-formats is not installed (${error.code}); run scripts/install-test-tools.sh`);
  process.exit(2);
}
if (process.argv.length !== 3) {
  console.error("usage: node scripts/schema-check.mjs INPUT.json");
  process.exit(64);
}

const input = JSON.parse(await readFile(process.argv[2], "utf8"));
const ajv = new Ajv2020({ strict: true, validateFormats: true, allErrors: true });
addFormats(ajv);
const validators = {};
for (const [name, schema] of Object.entries(input.schemas)) {
  try {
    validators[name] = ajv.compile(schema);
  } catch (error) {
    console.error(`${name}: ${error.message}`);
    process.exit(3);
  }
}
const results = input.documents.map(({ schema, data }) => {
  const validate = validators[schema];
  const valid = validate(data);
  return { valid, errors: valid ? [] : validate.errors.map((e) => `${e.instancePath || "/"} ${e.message}`) };
});
console.log(JSON.stringify(results));
