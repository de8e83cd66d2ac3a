import { describe, expect, it } from 'vitest';
import { simulators } from '../../../src/meshtest/simulate/index.js';
import type { SimCase } from '../../../src/meshtest/simulate/types.js';
import type { ResolvedMatch, ResolvedMesh, ResolvedRoute } from '../../../src/model/types.js';
import { EXAMPLES, exampleMesh } from '../../support/meshes.js';
import { filesFor, simCase } from './support.js';

/** A request that the route's first match accepts (regex paths are left out: no sample path). */
function caseFor(mesh: ResolvedMesh, r: ResolvedRoute): SimCase | undefined {
  const m: ResolvedMatch | undefined = r.matches[0];
  if (m?.path?.kind === 'regex') return undefined;
  const headers: Record<string, string> = {};
  for (const h of m?.headers ?? [])
    if (h.match.kind !== 'regex')
      headers[h.name.toLowerCase()] = h.match.kind === 'present' ? 'x' : h.match.value;
  const query: Record<string, string> = {};
  for (const q of m?.queryParams ?? [])
    if (q.match.kind !== 'regex') query[q.name] = q.match.kind === 'present' ? 'x' : q.match.value;
  const path = m?.path
    ? m.path.kind === 'exact'
      ? m.path.value
      : `${m.path.value.replace(/\/$/, '')}/sample`
    : '/sample';
  const base = { path, headers, query, method: m?.method ?? 'GET' };
  if (r.parent.kind === 'frontend') {
    const f = mesh.frontendsByName.get(r.parent.name)!;
    const host = (r.parent.hosts[0] ?? f.hosts[0] ?? 'example.com').replace('*', 'any');
    return simCase({
      ...base,
      entry: { frontend: f.name },
      host,
      scheme: f.protocol === 'https' ? 'https' : 'http',
    });
  }
  const caller = mesh.backends.find((b) => b.name !== r.parent.name && b.protocol !== 'tcp');
  return caller && simCase({ ...base, entry: { caller: caller.name }, host: r.parent.name });
}

describe('simulators', () => {
  it('are registered for istio, linkerd and consul', () => {
    expect(Object.keys(simulators).sort()).toEqual(['consul', 'istio', 'linkerd']);
  });

  for (const example of EXAMPLES)
    it(`answer every route of examples/${example}.yaml with an observation or a reason`, () => {
      const mesh = exampleMesh(example);
      for (const [target, simulate] of Object.entries(simulators)) {
        const files = filesFor(mesh, target);
        for (const r of mesh.routes) {
          const c = caseFor(mesh, r);
          if (!c) continue;
          const result = simulate(files, c);
          if (result.kind === 'unsupported') {
            expect(result.reason, `${target} ${r.name}`).toMatch(/\w+ \w+/);
            continue;
          }
          // a TCP route is never answered as HTTP
          expect(r.protocol, `${target} ${r.name}`).toBe('http');
          expect([200, 403, 404, 503]).toContain(result.status);
        }
      }
    });

  it('differ where the systems differ from the mesh: a request no catalog route accepts', () => {
    const mesh = exampleMesh('shop');
    const c = simCase({ entry: { caller: 'web' }, host: 'catalog', path: '/api' });
    const status = Object.fromEntries(
      Object.entries(simulators).map(([t, s]) => {
        const r = s(filesFor(mesh, t), c);
        return [t, r.kind === 'observed' ? r.status : r.kind];
      }),
    );
    // the mesh: "/api/" is a plain string prefix, so /api matches no route: 404. Linkerd's
    // PathPrefix matches whole segments and Consul's default route takes what no route matches.
    expect(status).toEqual({ istio: 404, linkerd: 200, consul: 200 });
  });
  it('hold the table of differences in docs/simulated-targets.md', () => {
    const mesh = exampleMesh('shop');
    const outcome = (c: SimCase) =>
      Object.fromEntries(
        Object.entries(simulators).map(([t, s]) => {
          const r = s(filesFor(mesh, t), c);
          return [t, r.kind === 'observed' ? `${r.status} ${r.path ?? ''}`.trim() : r.kind];
        }),
      );
    expect(outcome(simCase({ entry: { caller: 'web' }, host: 'catalog', path: '/other' }))).toEqual({
      istio: '404',
      linkerd: '404',
      consul: '200 /other',
    });
    expect(outcome(simCase({ entry: { caller: 'web' }, host: 'catalog', path: '/api/x' }))).toEqual({
      istio: '200 /v1/x',
      linkerd: '200 /api/x',
      consul: '200 /v1/x',
    });
    const slow = simCase({
      entry: { caller: 'checkout' },
      host: 'web',
      backends: { web: { delayMs: 20_000 } },
    });
    expect(outcome(slow)).toEqual({ istio: '200 /', linkerd: '200 /', consul: '504' });
  });
});
