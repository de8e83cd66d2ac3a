import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { render } from '../../../src/render.js';
import { routeFor } from '../../../src/meshtest/route.js';
import type { TestCase } from '../../../src/meshtest/types.js';
import type { ResolvedMesh, ResolvedRoute, StringMatch } from '../../../src/model/types.js';
import { accessDecision, callerIdentity } from '../../../src/smartstack/index.js';
import { toYaml } from '../../../src/yaml/writer.js';
import yaml from 'js-yaml';
import { EXAMPLES, ROOT, exampleMesh, meshFrom } from '../../support/meshes.js';
import { seededRandom } from '../../support/random.js';
import { matchHttp, matchTcp, pick, type HttpRequest, type Router } from './rule-interpreter.js';

/**
 * For requests generated from each mesh's own matches (and random mixes of their parts), the router
 * an interpreter of Traefik's rules and priorities picks belongs to the route the mesh's first-match
 * order picks (none: 404 on both), and denies exactly when the mesh's access rules do.
 */
const FEATURES = fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'traefik', 'features.yaml'), 'utf8');
const SEED = Number(process.env.MESHGEN_SEED ?? 20261205);
const RANDOM_PER_PARENT = 400;

interface Dynamic {
  http?: { routers?: Record<string, Router> };
  tcp?: { routers?: Record<string, Router> };
}

function dynamicOf(mesh: ResolvedMesh): Dynamic {
  const out = render(mesh, { targets: ['traefik'] }).outputs[0]!.files.find((f) => f.path === 'dynamic.yml')!;
  return yaml.load(out.contents) as Dynamic;
}

/** Values that exercise a string match: equal, longer, shorter, and a few that regexes take. */
function samples(m: StringMatch | { kind: 'exact' | 'prefix' | 'regex'; value: string }): string[] {
  if (m.kind === 'present') return ['', 'x'];
  const v = m.value;
  return [v, `${v}x`, `${v}/y`, v.slice(0, -1), 'v1', 'v1.2', 'ab', 'a', '/items/42', '/items/x'];
}

interface Parent {
  readonly ep: string;
  readonly kind: 'frontend' | 'backend';
  readonly name: string;
  readonly routes: readonly ResolvedRoute[];
  readonly hosts: readonly string[];
}

function parents(mesh: ResolvedMesh, tcp: boolean): Parent[] {
  const out: Parent[] = [];
  const hostsOf = (hs: readonly string[]) =>
    hs.flatMap((h) =>
      h === '*'
        ? ['any.example']
        : h.startsWith('*.')
          ? [`x${h.slice(1)}`, `x.y${h.slice(1)}`, h.slice(2)]
          : [h],
    );
  for (const f of mesh.frontends) {
    const isTcp = f.protocol === 'tcp' || f.protocol === 'tls-passthrough';
    if (isTcp !== tcp) continue;
    const routeHosts = f.routes.flatMap((r) => (r.parent.kind === 'frontend' ? r.parent.hosts : []));
    out.push({
      ep: `fe-${f.name}`,
      kind: 'frontend',
      name: f.name,
      routes: f.routes,
      hosts: [
        ...new Set([...hostsOf(f.hosts), ...hostsOf(routeHosts), 'other.invalid', f.hosts[0]!.toUpperCase()]),
      ],
    });
  }
  for (const b of mesh.backends)
    if ((b.protocol === 'tcp') === tcp)
      out.push({ ep: `ew-${b.name}`, kind: 'backend', name: b.name, routes: b.routes, hosts: [b.name] });
  return out;
}

interface Req {
  host: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  query: Record<string, string>;
}

/** Requests from the parent's matches: each entry satisfied, then without each of its parts, then mixes. */
function requests(p: Parent, random: () => number): Req[] {
  const paths = new Set(['/', '/other']);
  const headers = new Map<string, Set<string>>();
  const query = new Map<string, Set<string>>();
  const methods = new Set(['GET', 'POST', 'HEAD', 'DELETE']);
  const out: Req[] = [];
  for (const r of p.routes)
    for (const m of r.matches) {
      const base: Req = { host: p.hosts[0]!, method: m.method ?? 'GET', path: '/', headers: {}, query: {} };
      if (m.path) {
        for (const s of samples(m.path)) if (s.startsWith('/')) paths.add(s);
        const ok = [...paths].find((s) =>
          m.path!.kind === 'exact'
            ? s === m.path!.value
            : m.path!.kind === 'prefix'
              ? s.startsWith(m.path!.value)
              : new RegExp(`^(?:${m.path!.value})$`).test(s),
        );
        if (ok) base.path = ok;
      }
      if (m.method) methods.add(m.method);
      const fits = (sm: StringMatch, s: string) =>
        sm.kind === 'present' ||
        (sm.kind === 'exact'
          ? s === sm.value
          : sm.kind === 'prefix'
            ? s.startsWith(sm.value)
            : new RegExp(`^(?:${sm.value})$`).test(s));
      for (const [list, pool, into] of [
        [m.headers, headers, base.headers],
        [m.queryParams, query, base.query],
      ] as const)
        for (const h of list) {
          const values = pool.get(h.name) ?? new Set<string>();
          for (const s of samples(h.match)) values.add(s);
          pool.set(h.name, values);
          const ok = [...values].find((s) => fits(h.match, s));
          if (ok !== undefined) into[h.name] = ok;
        }
      for (const host of p.hosts) out.push({ ...base, host });
      out.push({ ...base, method: 'PUT' }, { ...base, path: '/elsewhere' });
      for (const k of Object.keys(base.headers)) {
        const headersLess = { ...base.headers };
        delete headersLess[k];
        out.push({ ...base, headers: headersLess });
      }
      for (const k of Object.keys(base.query)) {
        const queryLess = { ...base.query };
        delete queryLess[k];
        out.push({ ...base, query: queryLess });
      }
    }
  const one = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
  for (let n = 0; n < RANDOM_PER_PARENT; n++) {
    const req: Req = {
      host: one(p.hosts),
      method: one([...methods]),
      path: one([...paths]),
      headers: {},
      query: {},
    };
    for (const [name, values] of headers) if (random() < 0.6) req.headers[name] = one([...values]);
    for (const [name, values] of query) if (random() < 0.6) req.query[name] = one([...values]);
    out.push(req);
  }
  out.push({ host: p.hosts[0]!, method: 'GET', path: '/', headers: {}, query: {} });
  return out;
}

function meshCase(p: Parent, req: Req): TestCase {
  return {
    name: 'generated',
    file: 'generated',
    pointer: '',
    request: {
      ...(p.kind === 'frontend' ? { frontend: p.name } : { backend: p.name }),
      host: req.host,
      method: req.method,
      path: req.path,
      headers: req.headers,
      query: req.query,
    },
  };
}

/** Whether the mesh's access rules refuse this request on the route that takes it. */
function meshDenies(mesh: ResolvedMesh, route: ResolvedRoute, req: Req): boolean {
  const to = route.to.find((t) => t.weight > 0)!;
  const d = accessDecision(mesh.backendsByName.get(to.backend)!, callerIdentity(mesh, route));
  if (d.kind === 'deny') return true;
  if (d.kind !== 'some') return false;
  return !d.entries.some(
    (e) =>
      (!e.paths ||
        e.paths.some((p) => (p.kind === 'exact' ? req.path === p.value : req.path.startsWith(p.value)))) &&
      (!e.methods || e.methods.includes(req.method as never)),
  );
}

const ROUTER_SUFFIX = /\.\d+(\.denied)?$/;

interface Outcome {
  route?: string;
  denied?: boolean;
}

/** Runs every generated request through the mesh's order and the interpreter; returns the mismatches. */
function compare(mesh: ResolvedMesh, dyn: Dynamic): { checked: number; mismatches: string[] } {
  const routers = dyn.http?.routers ?? {};
  const mismatches: string[] = [];
  let checked = 0;
  const random = seededRandom(SEED);
  for (const p of parents(mesh, false))
    for (const req of requests(p, random)) {
      const hreq: HttpRequest = {
        host: req.host,
        method: req.method,
        path: req.path,
        headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, [v]])),
        query: Object.fromEntries(Object.entries(req.query).map(([k, v]) => [k, [v]])),
      };
      const route = routeFor(mesh, meshCase(p, req));
      const want: Outcome = route ? { route: route.name, denied: meshDenies(mesh, route, req) } : {};
      const name = pick(routers, p.ep, (rule) => matchHttp(rule, hreq));
      const got: Outcome = name
        ? {
            route: name.slice(p.ep.length + 1).replace(ROUTER_SUFFIX, ''),
            denied: routers[name]!.middlewares?.includes('meshgen-deny') ?? false,
          }
        : {};
      checked++;
      if (JSON.stringify(got) !== JSON.stringify(want))
        mismatches.push(
          `${p.ep} ${JSON.stringify(req)}: mesh ${JSON.stringify(want)}, traefik ${JSON.stringify(got)}`,
        );
    }
  return { checked, mismatches };
}

const meshes = [
  ...EXAMPLES.map((e) => [e, () => exampleMesh(e)] as const),
  ['features fixture', () => meshFrom(FEATURES, 'features.yaml')] as const,
];

describe.each(meshes)('%s', (_name, load) => {
  it('routes every generated HTTP request to the route the mesh picks first (seed ' + SEED + ')', () => {
    const mesh = load();
    const { checked, mismatches } = compare(mesh, dynamicOf(mesh));
    expect(checked).toBeGreaterThan(0);
    expect(mismatches.slice(0, 10)).toEqual([]);
  });

  it('routes every TCP connection by SNI to the route the mesh picks first', () => {
    const mesh = load();
    const routers = dynamicOf(mesh).tcp?.routers ?? {};
    for (const p of parents(mesh, true))
      for (const sni of [...p.hosts, undefined]) {
        const route = routeFor(
          mesh,
          meshCase(p, { host: sni ?? 'none.invalid', method: 'GET', path: '/', headers: {}, query: {} }),
        );
        const passthrough = mesh.frontendsByName.get(p.name)?.protocol === 'tls-passthrough';
        const name = pick(routers, p.ep, (rule) => matchTcp(rule, sni));
        const want = sni === undefined && passthrough ? undefined : route?.name;
        if (sni === undefined && passthrough) {
          // without SNI a HostSNI rule naming a host takes nothing; HostSNI(`*`) takes it
          if (name) expect(routers[name]!.rule).toBe('HostSNI(`*`)');
          continue;
        }
        expect(name === undefined ? undefined : name.slice(p.ep.length + 1), `${p.ep} sni ${sni}`).toBe(want);
      }
  });
});

describe("Traefik's default priorities", () => {
  it('would reorder the routes of the features fixture: a longer rule written later wins', () => {
    const mesh = meshFrom(FEATURES, 'features.yaml');
    const dyn = dynamicOf(mesh);
    const routers = dyn.http!.routers!;
    for (const r of Object.values(routers)) delete (r as { priority?: number }).priority;
    // equal lengths tie without explicit priorities: only the order of unequal rules is compared
    let reordered = 0;
    try {
      reordered = compare(mesh, dyn).mismatches.length;
    } catch (e) {
      reordered = 1;
      expect(String(e)).toMatch(/both match at priority/);
    }
    expect(reordered).toBeGreaterThan(0);
  });

  it('are replaced by explicit ones, distinct per entry point and counting down in mesh order', () => {
    const dyn = dynamicOf(meshFrom(FEATURES, 'features.yaml'));
    const byEp = new Map<string, number[]>();
    for (const r of Object.values(dyn.http!.routers!)) {
      const list = byEp.get(r.entryPoints![0]!) ?? [];
      list.push(r.priority!);
      byEp.set(r.entryPoints![0]!, list);
    }
    for (const [, list] of byEp) {
      expect(new Set(list).size).toBe(list.length);
      expect(list).toEqual([...list].sort((a, b) => b - a));
      expect(Math.min(...list)).toBe(1);
    }
    expect(toYaml(dyn)).toContain('priority');
  });
});
