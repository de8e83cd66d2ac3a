// Compiles the mesh JSON Schema into a standalone ajv validator module at build time, so the CLI does
// not pay ajv's compile step (about 0.2 s) on every run. src/model/schema.ts loads it when present and
// compiles the schema itself otherwise (as under vitest, which runs the sources).
import fs from 'node:fs';
import Ajv2020 from 'ajv/dist/2020.js';
import standaloneCode from 'ajv/dist/standalone/index.js';

export const AJV_OPTIONS = { allErrors: true, strict: true, allowUnionTypes: true, verbose: true };

const schema = JSON.parse(fs.readFileSync('schemas/mesh.schema.json', 'utf8'));
const ajv = new (Ajv2020.default ?? Ajv2020)({ ...AJV_OPTIONS, code: { source: true, esm: true } });
const validate = ajv.compile(schema);
const code = (standaloneCode.default ?? standaloneCode)(ajv, validate);
fs.mkdirSync('dist/model', { recursive: true });
// the esm output still require()s ajv's runtime helpers
const header =
  "// Generated from schemas/mesh.schema.json by scripts/build-validator.mjs\nimport { createRequire } from 'node:module';\nconst require = createRequire(import.meta.url);\n";
fs.writeFileSync('dist/model/mesh-validator.js', header + code);
