import { hasErrors, type Diagnostic } from './diagnostics.js';
import { checkSchema } from './schema.js';
import { checkSemantics } from './checks.js';
import type { MeshDocument } from './types.js';

/**
 * Validates a parsed value: the JSON Schema first, then (on a well-formed document) the semantic
 * checks. Returns diagnostics with JSON pointers; never throws on bad input.
 */
export function validateMesh(value: unknown): Diagnostic[] {
  const schema = checkSchema(value);
  if (hasErrors(schema)) return schema;
  return [...schema, ...checkSemantics(value as MeshDocument)];
}
