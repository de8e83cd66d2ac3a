// Generates src/model/mesh.generated.ts from schemas/mesh.schema.json: the schema is the one source of
// truth for the shape of a mesh. test/model/schema-types.test.ts fails when the two drift apart.
import fs from 'node:fs';
import { compile } from 'json-schema-to-typescript';

export const OUT = 'src/model/mesh.generated.ts';

export async function generateTypes() {
  const schema = JSON.parse(fs.readFileSync('schemas/mesh.schema.json', 'utf8'));
  return compile(schema, 'Mesh', {
    bannerComment:
      '/* Generated from schemas/mesh.schema.json by `npm run gen:types`: do not edit by hand. */',
    additionalProperties: false,
    unreachableDefinitions: false,
    strictIndexSignatures: false,
    format: true,
    style: { singleQuote: true, printWidth: 110, trailingComma: 'all' },
    cwd: 'schemas',
  });
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop())) {
  fs.writeFileSync(OUT, await generateTypes());
  console.log(`wrote ${OUT}`);
}
