import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { diffMeshes } from '../../src/diff/differ.js';
import { importMesh } from '../../src/import/index.js';
import { loadMesh, parseMesh } from '../../src/model/load.js';
import { render } from '../../src/render.js';
import type { MeshDocument, ResolvedMesh } from '../../src/model/types.js';
import { normalizeMesh } from '../../src/model/normalize.js';

const examples = fs
  .readdirSync('examples')
  .filter((f) => f.endsWith('.yaml') && !f.endsWith('.test.yaml'))
  .map((f) => path.join('examples', f));

/** Changes that are about traffic: routes, matches, splits, policies, access and mTLS. */
const TRAFFIC = new Set([
  'route-added',
  'route-removed',
  'route-order-changed',
  'match-changed',
  'traffic-shifted',
  'route-policy-changed',
  'mtls-changed',
  'access-gained',
  'access-lost',
  'access-changed',
]);

async function roundTrip(file: string, target: string) {
  const loaded = await loadMesh(file);
  const rendered = render(loaded.mesh!, { targets: [target] });
  const inputs = rendered.outputs[0]!.files.map((f) => ({ file: `${target}/${f.path}`, text: f.contents }));
  const imported = importMesh(inputs, { from: target });
  return { loaded, rendered, imported };
}

describe.each(['istio', 'linkerd', 'consul'])(
  'import --from %s of every example rendered to it',
  (target) => {
    it.each(examples)('%s', async (file) => {
      const { loaded, rendered, imported } = await roundTrip(file, target);
      expect(imported.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
      expect(imported.yaml).toBeDefined();
      const back = parseMesh(imported.yaml!, { file: 'imported.yaml' });
      expect(back.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
      if (target === 'istio') {
        // Istio carries everything it renders: the re-rendered output is the output imported, file for file
        const again = render(back.mesh!, { targets: [target] });
        const files = (r: typeof rendered) =>
          Object.fromEntries(r.outputs[0]!.files.map((f) => [f.path, f.contents]));
        expect(files(again)).toEqual(files(rendered));
      }
      // the semantic diff finds no traffic difference with the mesh rendered, beyond what the render
      // said the target cannot express or approximates (MG3001, MG3002 on a route's field)
      const lost = rendered.diagnostics
        .filter((d) => (d.code === 'MG3001' || d.code === 'MG3002') && d.pointer)
        .map((d) => {
          const [, i, policy] = /^\/spec\/routes\/(\d+)\/(\w+)/.exec(d.pointer!) ?? [];
          return `${loaded.mesh!.routes[Number(i)]?.name}/${policy}`;
        });
      const traffic = diffMeshes(
        loaded.mesh!,
        target === 'istio' ? back.mesh! : withNames(back.document!, loaded.document!),
      ).filter(
        (c) =>
          TRAFFIC.has(c.kind) &&
          !(c.kind === 'route-policy-changed' && lost.includes(`${c.route}/${c.policy}`)) &&
          !(c.kind === 'match-changed' && lost.includes(`${c.route}/match`)) &&
          !(c.kind === 'traffic-shifted' && lost.includes(`${c.route}/to`)) &&
          !(c.kind === 'mtls-changed' && target === 'linkerd' && deniedByServer(loaded.mesh!, c)),
      );
      expect(withoutRenames(traffic)).toEqual([]);
    });
  },
);

/** A route removed and one added at the same place with the same matches and split: only its name changed. */
function withoutRenames(changes: ReturnType<typeof diffMeshes>) {
  const key = (c: (typeof changes)[number]) =>
    c.kind === 'route-added' || c.kind === 'route-removed'
      ? JSON.stringify([c.parent, c.position, c.matches, c.to])
      : undefined;
  const added = new Set(changes.filter((c) => c.kind === 'route-added').map(key));
  const removed = new Set(changes.filter((c) => c.kind === 'route-removed').map(key));
  return changes.filter((c) => {
    const k = key(c);
    return k === undefined || !(added.has(k) && removed.has(k));
  });
}

/**
 * Gateway API rules have no names in what the linkerd target writes: the imported routes of each
 * parent take the names of the routes at the same place, so the diff compares route with route.
 */
function withNames(imported: MeshDocument, original: MeshDocument): ResolvedMesh {
  const parentKey = (p: { backend?: string; frontend?: string }) => p.backend ?? `frontend/${p.frontend}`;
  const names = new Map<string, string[]>();
  for (const r of original.spec.routes ?? [])
    names.set(parentKey(r.parent), [...(names.get(parentKey(r.parent)) ?? []), r.name]);
  const seen = new Map<string, number>();
  const routes = (imported.spec.routes ?? []).map((r) => {
    const i = seen.get(parentKey(r.parent)) ?? 0;
    seen.set(parentKey(r.parent), i + 1);
    return { ...r, name: names.get(parentKey(r.parent))?.[i] ?? r.name };
  });
  return normalizeMesh({ ...imported, spec: { ...imported.spec, routes } });
}

/**
 * A backend with access rules gets a Server whose accessPolicy is deny on Linkerd, whatever its mTLS
 * mode: the rules admit mesh identities only, so permissive and strict behave alike there.
 */
function deniedByServer(mesh: ResolvedMesh, c: ReturnType<typeof diffMeshes>[number]): boolean {
  if (c.kind !== 'mtls-changed' || !('backend' in c)) return false;
  return mesh.backends.find((b) => b.name === c.backend)?.access.mode === 'rules';
}
