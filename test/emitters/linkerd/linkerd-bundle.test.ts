import fs from 'node:fs';
import path from 'node:path';
import AjvModule from 'ajv';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { EXAMPLES, ROOT, exampleMesh, meshFrom } from '../../support/meshes.js';
import { KITCHEN_SINK } from './kitchen-sink.js';
import { renderLinkerd } from './support.js';

/**
 * Linkerd can install the Gateway API HTTPRoute CRD itself (v1.1.1, experimental channel, vendored
 * in test/crds/linkerd-crds/); the HTTPRoutes Linkerd reads (those on Services) must fit that older
 * schema too, with unknown fields rejected as in test/support/crds.ts.
 */
type Schema = Record<string, unknown>;
function strictify(s: unknown, root = true): unknown {
  if (!s || typeof s !== 'object') return s;
  if (Array.isArray(s)) return s.map((x) => strictify(x, false));
  const o: Schema = Object.fromEntries(Object.entries(s).map(([k, v]) => [k, strictify(v, false)]));
  if (o.properties && o.additionalProperties === undefined && !o['x-kubernetes-preserve-unknown-fields']) {
    if (root) o.properties = { apiVersion: {}, kind: {}, metadata: {}, ...(o.properties as Schema) };
    o.additionalProperties = false;
  }
  return o;
}

const crd = parse(
  fs.readFileSync(
    path.join(ROOT, 'test/crds/linkerd-crds/gateway.networking.k8s.io_httproutes.yaml'),
    'utf8',
  ),
) as { spec: { versions: { name: string; schema: { openAPIV3Schema: Schema } }[] } };
const Ajv = ((AjvModule as unknown as { default?: typeof AjvModule }).default ??
  AjvModule) as unknown as new (o: object) => {
  compile(s: unknown): ((d: unknown) => boolean) & { errors?: unknown };
};
const validate = new Ajv({ strict: false, allErrors: true, validateFormats: false }).compile(
  strictify(crd.spec.versions.find((v) => v.name === 'v1')!.schema.openAPIV3Schema),
);

describe('linkerd: HTTPRoutes on Services against the Gateway API CRD Linkerd ships', () => {
  const meshes = [...EXAMPLES.map((e) => exampleMesh(e)), meshFrom(KITCHEN_SINK)];
  it('validates every HTTPRoute attached to a Service', () => {
    let checked = 0;
    for (const mesh of meshes)
      for (const o of renderLinkerd(mesh).objects) {
        if (o.kind !== 'HTTPRoute' || o.apiVersion !== 'gateway.networking.k8s.io/v1') continue;
        if (o.spec!.parentRefs![0]!.kind !== 'Service') continue;
        checked++;
        expect(validate(o), `${o.metadata.name}: ${JSON.stringify(validate.errors)}`).toBe(true);
      }
    expect(checked).toBeGreaterThan(4);
  });

  it('rejects a field that schema does not know', () => {
    const route = renderLinkerd(exampleMesh('shop')).objects.find((o) => o.metadata.name === 'catalog')!;
    const bad = structuredClone(route);
    (bad.spec!.rules![0] as Record<string, unknown>).retry = { attempts: 1 };
    expect(validate(bad)).toBe(false);
  });
});
