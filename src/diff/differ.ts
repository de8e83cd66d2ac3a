import type { ResolvedMesh } from '../model/types.js';
import { sameScope, scopeOf, type AccessRow } from './access.js';
import { byString, same, sortedSet } from './canonical.js';
import { buildTrafficTable, type ParentRow, type RouteRow, type TrafficTable } from './traffic-table.js';
import type { Change, ParentKey, RoutePolicy } from './types.js';

/**
 * The semantic diff of two resolved meshes: what changes in behaviour, as typed records in a stable
 * order. Reordering lists, formatting and comments change nothing; reordering the routes of one
 * parent does (first match wins). Linear: every lookup goes through Maps keyed by name.
 */
export function diffMeshes(a: ResolvedMesh, b: ResolvedMesh): Change[] {
  return diffTables(buildTrafficTable(a), buildTrafficTable(b));
}

/** The order records come out in: by kind of change, then by subject. */
const RANK: Record<Change['kind'], number> = {
  'mesh-changed': 0,
  'mtls-changed': 1,
  'backend-added': 2,
  'backend-removed': 2,
  'backend-changed': 3,
  'version-added': 4,
  'version-removed': 4,
  'version-labels-changed': 5,
  'endpoint-added': 6,
  'endpoint-removed': 6,
  'frontend-added': 7,
  'frontend-removed': 7,
  'frontend-changed': 8,
  'route-added': 9,
  'route-removed': 9,
  'route-order-changed': 9,
  'match-changed': 9,
  'traffic-shifted': 9,
  'route-policy-changed': 9,
  'access-gained': 10,
  'access-lost': 10,
  'access-changed': 10,
};

function diffTables(a: TrafficTable, b: TrafficTable): Change[] {
  const out: { change: Change; key: string }[] = [];
  const push = (change: Change, key: string) => out.push({ change, key });

  for (const field of ['name', 'namespace', 'trustDomain', 'defaultAccess'] as const)
    if (a.mesh[field] !== b.mesh[field])
      push({ kind: 'mesh-changed', field, before: a.mesh[field], after: b.mesh[field] }, field);
  if (a.mtlsMode !== b.mtlsMode)
    push({ kind: 'mtls-changed', scope: 'mesh', before: a.mtlsMode, after: b.mtlsMode }, '');

  // backends, versions, endpoints, mTLS
  for (const [name, old] of a.backends)
    if (!b.backends.has(name))
      push(
        { kind: 'backend-removed', backend: name, versions: [...old.versions.keys()].sort(byString) },
        name,
      );
  for (const [name, now] of b.backends) {
    const old = a.backends.get(name);
    if (!old) {
      push({ kind: 'backend-added', backend: name, versions: [...now.versions.keys()].sort(byString) }, name);
      continue;
    }
    if (old.signature === now.signature) continue;
    for (const field of sortedSet([...Object.keys(old.settings), ...Object.keys(now.settings)])) {
      const before = old.settings[field] ?? null;
      const after = now.settings[field] ?? null;
      if (!same(before, after))
        push({ kind: 'backend-changed', backend: name, field, before, after }, `${name}\0${field}`);
    }
    // a backend that follows the mesh's mode on both sides is covered by the mesh's record
    const inherits = old.mtlsMode === a.mtlsMode && now.mtlsMode === b.mtlsMode;
    if (old.mtlsMode !== now.mtlsMode && !(inherits && a.mtlsMode !== b.mtlsMode))
      push(
        { kind: 'mtls-changed', scope: 'backend', backend: name, before: old.mtlsMode, after: now.mtlsMode },
        name,
      );
    for (const v of old.versions.keys())
      if (!now.versions.has(v)) push({ kind: 'version-removed', backend: name, version: v }, `${name}\0${v}`);
    for (const [v, nv] of now.versions) {
      const ov = old.versions.get(v);
      if (!ov) {
        push({ kind: 'version-added', backend: name, version: v }, `${name}\0${v}`);
        continue;
      }
      if (!same(ov.labels, nv.labels))
        push(
          { kind: 'version-labels-changed', backend: name, version: v, before: ov.labels, after: nv.labels },
          `${name}\0${v}`,
        );
      for (const e of ov.endpoints)
        if (!nv.endpoints.has(e))
          push({ kind: 'endpoint-removed', backend: name, version: v, endpoint: e }, `${name}\0${v}\0${e}`);
      for (const e of nv.endpoints)
        if (!ov.endpoints.has(e))
          push({ kind: 'endpoint-added', backend: name, version: v, endpoint: e }, `${name}\0${v}\0${e}`);
    }
  }

  // frontends
  for (const name of a.frontends.keys())
    if (!b.frontends.has(name)) push({ kind: 'frontend-removed', frontend: name }, name);
  for (const [name, now] of b.frontends) {
    const old = a.frontends.get(name);
    if (!old) {
      push({ kind: 'frontend-added', frontend: name }, name);
      continue;
    }
    for (const field of sortedSet([...Object.keys(old.settings), ...Object.keys(now.settings)])) {
      const before = old.settings[field] ?? null;
      const after = now.settings[field] ?? null;
      if (!same(before, after))
        push({ kind: 'frontend-changed', frontend: name, field, before, after }, `${name}\0${field}`);
    }
  }

  // routes, parent by parent
  const empty = (parent: ParentKey): ParentRow => ({ parent, routes: [], byKey: new Map() });
  for (const [key, old] of a.parents) if (!b.parents.has(key)) diffParent(old, empty(key), push);
  for (const [key, now] of b.parents) diffParent(a.parents.get(key) ?? empty(key), now, push);

  // reachability: a backend that does not exist is reachable by nobody
  const nobody: AccessRow = { others: null, named: new Map(), signature: 'nobody' };
  for (const [backend, old] of a.access) if (!b.access.has(backend)) diffAccess(backend, old, nobody, push);
  for (const [backend, now] of b.access) diffAccess(backend, a.access.get(backend) ?? nobody, now, push);

  return out
    .sort(
      (x, y) =>
        RANK[x.change.kind] - RANK[y.change.kind] ||
        byString(x.key, y.key) ||
        byString(x.change.kind, y.change.kind),
    )
    .map((x) => x.change);
}

type Push = (change: Change, key: string) => void;

/** Sort key of a route record: parent, then the route's place, so a parent's records stay together. */
const routeKey = (parent: string, position: number, suffix: string) =>
  `${parent}\0${String(position).padStart(6, '0')}\0${suffix}`;

function diffParent(old: ParentRow, now: ParentRow, push: Push): void {
  const parent = now.parent;
  // the common case: the same routes in the same order, compared place by place
  if (old.routes.length === now.routes.length && old.routes.every((r, i) => r.key === now.routes[i]!.key)) {
    old.routes.forEach((r, i) => {
      const n = now.routes[i]!;
      if (r.signature !== n.signature) diffRoute(parent, r, n, push);
    });
    return;
  }
  for (const r of old.routes)
    if (!now.byKey.has(r.key))
      push(
        {
          kind: 'route-removed',
          parent,
          route: r.key,
          position: r.position,
          matches: r.matches,
          to: Object.fromEntries(r.distribution),
        },
        routeKey(parent, r.position, 'removed'),
      );
  for (const r of now.routes) {
    const o = old.byKey.get(r.key);
    if (!o)
      push(
        {
          kind: 'route-added',
          parent,
          route: r.key,
          position: r.position,
          matches: r.matches,
          to: Object.fromEntries(r.distribution),
        },
        routeKey(parent, r.position, 'added'),
      );
    else if (o.signature !== r.signature) diffRoute(parent, o, r, push);
  }
  const before = old.routes.filter((r) => now.byKey.has(r.key)).map((r) => r.key);
  const after = now.routes.filter((r) => old.byKey.has(r.key)).map((r) => r.key);
  if (before.some((k, i) => k !== after[i]))
    push({ kind: 'route-order-changed', parent, before, after }, routeKey(parent, 0, ' order'));
}

const POLICIES: readonly RoutePolicy[] = [
  'hosts',
  'timeout',
  'retries',
  'fault',
  'mirror',
  'rewrite',
  'request-headers',
  'response-headers',
];

function diffRoute(parent: ParentKey, old: RouteRow, now: RouteRow, push: Push): void {
  const route = now.key;
  const key = (what: string) => routeKey(parent, now.position, `${route}\0${what}`);
  const oldMatches = new Set(old.matches);
  const newMatches = new Set(now.matches);
  const added = now.matches.filter((m) => !oldMatches.has(m));
  const removed = old.matches.filter((m) => !newMatches.has(m));
  if (added.length || removed.length)
    push({ kind: 'match-changed', parent, route, added, removed }, key('0match'));

  let shifted = 0;
  let differs = false;
  const destinations = sortedSet([...old.distribution.keys(), ...now.distribution.keys()]).map(
    (destination) => {
      const before = old.distribution.get(destination) ?? 0;
      const after = now.distribution.get(destination) ?? 0;
      shifted += Math.max(0, before - after);
      if (before !== after) differs = true;
      return { destination, before, after };
    },
  );
  if (differs) push({ kind: 'traffic-shifted', parent, route, shifted, destinations }, key('1traffic'));

  POLICIES.forEach((policy, i) => {
    const before = old.policies[policy];
    const after = now.policies[policy];
    if (!same(before, after))
      push({ kind: 'route-policy-changed', parent, route, policy, before, after }, key(`2${i}`));
  });
}

function diffAccess(backend: string, old: AccessRow, now: AccessRow, push: Push): void {
  if (old.signature === now.signature) return;
  const callers = sortedSet([...old.named.keys(), ...now.named.keys()]);
  const record = (
    caller: string,
    before: ReturnType<typeof scopeOf>,
    after: ReturnType<typeof scopeOf>,
    except?: string[],
  ) => {
    if (sameScope(before, after)) return;
    const kind = !before ? 'access-gained' : !after ? 'access-lost' : 'access-changed';
    push(
      { kind, caller, backend, ...(except ? { except } : {}), before, after },
      `${backend}\0${caller === '*' ? '' : caller}`,
    );
  };
  record('*', old.others, now.others, callers);
  for (const caller of callers) record(caller, scopeOf(old, caller), scopeOf(now, caller));
}
