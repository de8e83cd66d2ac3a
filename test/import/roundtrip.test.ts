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

/** The target whose output each source reads: no target writes plain Gateway API; linkerd's HTTPRoutes are. */
const TARGET_OF: Record<string, string> = {
  istio: 'istio',
  'gateway-api': 'linkerd',
  linkerd: 'linkerd',
  consul: 'consul',
};

/** Kinds of Linkerd's that carry access and mTLS, which the Gateway API source does not read (MG7003). */
const POLICY_KINDS = ['Server', 'AuthorizationPolicy', 'MeshTLSAuthentication'];

async function roundTrip(file: string, from: string, withDocument = false) {
  const target = TARGET_OF[from]!;
  const loaded = await loadMesh(file);
  const rendered = render(loaded.mesh!, {
    targets: [target],
    ...(withDocument ? { document: loaded.document! } : {}),
  });
  const inputs = rendered.outputs[0]!.files.map((f) => ({ file: `${target}/${f.path}`, text: f.contents }));
  const imported = importMesh(inputs, { from });
  return { loaded, rendered, imported, inputs };
}

describe.each(['istio', 'gateway-api', 'linkerd', 'consul'])(
  'import --from %s of every example rendered to it, from the objects alone',
  (from) => {
    const target = TARGET_OF[from]!;
    it.each(examples)('%s', async (file) => {
      const { loaded, rendered, imported } = await roundTrip(file, from);
      if (from === 'gateway-api') {
        // Linkerd's policy objects are not Gateway API: each kind is named as ignored
        const ignored = imported.diagnostics.filter((d) => d.code === 'MG7003').map((d) => d.message);
        const written = new Set(
          rendered.outputs[0]!.files.map((f) => /^kind: (\w+)$/m.exec(f.contents)?.[1]),
        );
        for (const kind of POLICY_KINDS.filter((k) => written.has(k)))
          expect(ignored.some((m) => m.includes(` ${kind} object`))).toBe(true);
      }
      expect(imported.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
      expect(imported.yaml).toBeDefined();
      const back = parseMesh(imported.yaml!, { file: 'imported.yaml' });
      expect(back.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
      if (from === 'istio') {
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
        from === 'istio' ? back.mesh! : withNames(back.document!, loaded.document!),
      ).filter(
        (c) =>
          TRAFFIC.has(c.kind) &&
          !(c.kind === 'route-policy-changed' && lost.includes(`${c.route}/${c.policy}`)) &&
          !(c.kind === 'match-changed' && lost.includes(`${c.route}/match`)) &&
          !(c.kind === 'traffic-shifted' && lost.includes(`${c.route}/to`)) &&
          !(c.kind === 'mtls-changed' && from === 'linkerd' && deniedByServer(loaded.mesh!, c)) &&
          // access and mTLS are in the policy objects checked above as ignored
          !(from === 'gateway-api' && (c.kind === 'mtls-changed' || c.kind.startsWith('access-'))),
      );
      expect(withoutRenames(traffic)).toEqual([]);
    });
  },
);

describe.each(['istio', 'gateway-api', 'linkerd', 'consul'])(
  'import --from %s of every example rendered with its document (meshgen-carried)',
  (from) => {
    it.each(examples)('%s is the same mesh by meshgen diff', async (file) => {
      const { loaded, rendered, imported } = await roundTrip(file, from, true);
      expect(
        rendered.diagnostics.filter((d) => d.code === 'MG3005' && /meshgen-carried|differs/.test(d.message)),
      ).toEqual([]);
      // the import's own warnings (what the objects do not carry) stay; no entry is stale
      expect(imported.diagnostics.filter((d) => d.severity === 'error' || d.code === 'MG7016')).toEqual([]);
      const back = parseMesh(imported.yaml!, { file: 'imported.yaml' });
      expect(diffMeshes(loaded.mesh!, back.mesh!)).toEqual([]);
      // every field put back is listed by the import
      expect(imported.diagnostics.some((d) => d.code === 'MG7015')).toBe(true);
    });
  },
);

describe('meshgen-carried after the objects were edited', () => {
  it('keeps what the objects now say (MG7016) and puts back the rest', async () => {
    const { inputs } = await roundTrip('examples/shop.yaml', 'linkerd', true);
    // the route's retry annotation edited after the render: the entry for its retries is stale
    const edited = inputs.map((i) =>
      i.text.includes('retry.linkerd.io/limit')
        ? { ...i, text: i.text.replace(/retry\.linkerd\.io\/limit: "?\d+"?/, 'retry.linkerd.io/limit: "7"') }
        : i,
    );
    expect(edited.filter((i, n) => i !== inputs[n])).toHaveLength(1);
    const imported = importMesh(edited, { from: 'linkerd' });
    const stale = imported.diagnostics.filter((d) => d.code === 'MG7016');
    expect(stale.map((d) => d.message)).toEqual([
      expect.stringMatching(/^route\/\S+ retries: the objects now say otherwise/),
    ]);
    expect(stale[0]!.file).toMatch(/configmap-shop-meshgen-carried-shop\.yaml$/);
    const back = parseMesh(imported.yaml!, { file: 'imported.yaml' });
    const shop = (await loadMesh('examples/shop.yaml')).mesh!;
    // the edit shows in the diff, and nothing else: the other entries were put back
    const changes = diffMeshes(shop, back.mesh!);
    expect(changes.map((c) => [c.kind, 'policy' in c ? c.policy : undefined])).toEqual([
      ['route-policy-changed', 'retries'],
    ]);
  });

  it('refuses a ConfigMap whose entries are not a list, at its field (MG7001)', async () => {
    const { inputs } = await roundTrip('examples/hello.yaml', 'istio', true);
    const broken = inputs.map((i) =>
      i.file.includes('meshgen-carried') ? { ...i, text: i.text.replace(/istio: .*/, 'istio: "{nope"') } : i,
    );
    const imported = importMesh(broken, { from: 'istio' });
    expect(
      imported.diagnostics.filter((d) => d.code === 'MG7001').map((d) => [d.message.slice(0, 40), d.line]),
    ).toEqual([['data.istio of meshgen-carried is not a l', 10]]);
  });
});

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
