import { canonical } from '../diff/canonical.js';
import { diffMeshes } from '../diff/differ.js';
import type { Change } from '../diff/types.js';
import { normalizeMesh } from '../model/normalize.js';
import type { MeshDocument } from '../model/types.js';
import { validateMesh } from '../model/validate.js';

/**
 * What a target's objects do not carry, so that `meshgen import` of a render gives back the mesh
 * rendered. `meshgen render` imports its own output, diffs the result against the mesh (the traffic
 * table of `meshgen diff`) and writes, for each difference, the mesh's value and the value the import
 * read (`read`) into the ConfigMap `meshgen-carried`. `meshgen import` puts the mesh's value back
 * where its own reading still equals `read` (the objects were not edited since the render), reporting
 * each (MG7015), and keeps its own reading where they differ (MG7016).
 */
export interface CarriedEntry {
  /** `mesh`, `backend/<name>`, `frontend/<name>`, `routes/<parent>`, `route/<parent>/<index>`, `access/<backend>`. */
  readonly at: string;
  /** The field inside it, dotted (`versions`, `parent.hosts`, `headers.request`); '' for the whole element. */
  readonly field: string;
  /** The mesh's value; absent when the mesh has none. */
  readonly value?: unknown;
  /** What the import read from the objects; absent when it read none. */
  readonly read?: unknown;
}

/** The name of the ConfigMap, and of its file in the output. */
export const CARRIED_NAME = 'meshgen-carried';

type Spec = MeshDocument['spec'];
type RouteDoc = NonNullable<Spec['routes']>[number];

const parentKey = (p: RouteDoc['parent']) =>
  p.backend !== undefined ? `backend/${p.backend}` : `frontend/${p.frontend}`;

const clone = <T>(v: T): T => (v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T));

function routesOf(doc: MeshDocument): Map<string, RouteDoc[]> {
  return indexOf(doc).routes;
}

type BackendDoc = Spec['backends'][number];
type FrontendDoc = NonNullable<Spec['frontends']>[number];
type AccessDoc = NonNullable<Spec['access']>[number];

interface DocIndex {
  readonly backends: Map<string, BackendDoc>;
  readonly frontends: Map<string, FrontendDoc>;
  readonly routes: Map<string, RouteDoc[]>;
  readonly access: Map<string, AccessDoc[]>;
}

/**
 * Each document's elements by name, built once and again after an element is added, removed or
 * replaced: an entry is found without scanning the lists (a mesh has thousands of entries).
 */
const indexes = new WeakMap<MeshDocument, DocIndex>();

function indexOf(doc: MeshDocument): DocIndex {
  let index = indexes.get(doc);
  if (index) return index;
  const group = <T>(list: readonly T[], key: (t: T) => string) => {
    const out = new Map<string, T[]>();
    for (const t of list) {
      const k = key(t);
      let l = out.get(k);
      if (!l) out.set(k, (l = []));
      l.push(t);
    }
    return out;
  };
  index = {
    backends: new Map(doc.spec.backends.map((b) => [b.name, b])),
    frontends: new Map((doc.spec.frontends ?? []).map((f) => [f.name, f])),
    routes: group(doc.spec.routes ?? [], (r) => parentKey(r.parent)),
    access: group(doc.spec.access ?? [], (a) => a.backend),
  };
  indexes.set(doc, index);
  return index;
}

function getField(o: unknown, field: string): unknown {
  if (field === '') return o;
  let cur = o;
  for (const part of field.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function setField(o: Record<string, unknown>, field: string, value: unknown): void {
  const parts = field.split('.');
  let cur = o;
  for (const part of parts.slice(0, -1)) {
    if (cur[part] === undefined || typeof cur[part] !== 'object') cur[part] = {};
    cur = cur[part] as Record<string, unknown>;
  }
  const last = parts[parts.length - 1]!;
  if (value === undefined) delete cur[last];
  else cur[last] = clone(value);
}

const equal = (a: unknown, b: unknown) => JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));

const ROUTE_POLICY_FIELD: Record<string, string> = {
  hosts: 'parent.hosts',
  timeout: 'timeout',
  retries: 'retries',
  fault: 'fault',
  mirror: 'mirror',
  rewrite: 'rewrite',
  'request-headers': 'headers.request',
  'response-headers': 'headers.response',
};

/** The element and field of the document a change is about. */
function whereOf(c: Change, imported: MeshDocument): { at: string; field: string } | undefined {
  switch (c.kind) {
    case 'mesh-changed':
      return { at: 'mesh', field: c.field === 'name' ? 'metadata.name' : `spec.${c.field}` };
    case 'mtls-changed':
      return c.scope === 'mesh' || c.backend === undefined
        ? { at: 'mesh', field: 'spec.mtls' }
        : { at: `backend/${c.backend}`, field: 'mtls' };
    case 'backend-added':
    case 'backend-removed':
      return { at: `backend/${c.backend}`, field: '' };
    case 'backend-changed':
      return { at: `backend/${c.backend}`, field: c.field };
    case 'version-added':
    case 'version-removed':
    case 'version-labels-changed':
    case 'endpoint-added':
    case 'endpoint-removed':
      return { at: `backend/${c.backend}`, field: 'versions' };
    case 'frontend-added':
    case 'frontend-removed':
    case 'frontend-changed':
      return { at: `frontend/${c.frontend}`, field: '' };
    case 'route-added':
    case 'route-removed':
    case 'route-order-changed':
      return { at: `routes/${c.parent}`, field: '' };
    case 'match-changed':
    case 'traffic-shifted':
    case 'route-policy-changed': {
      const index = (routesOf(imported).get(c.parent) ?? []).findIndex((r) => r.name === c.route);
      if (index < 0) return { at: `routes/${c.parent}`, field: '' };
      const field =
        c.kind === 'match-changed'
          ? 'match'
          : c.kind === 'traffic-shifted'
            ? 'to'
            : ROUTE_POLICY_FIELD[c.policy]!;
      return { at: `route/${c.parent}/${index}`, field };
    }
    case 'access-gained':
    case 'access-lost':
    case 'access-changed':
      return { at: `access/${c.backend}`, field: '' };
  }
}

/** The value of an element's field in a document (see `CarriedEntry.at`). */
function valueAt(doc: MeshDocument, at: string, field: string): unknown {
  const [kind, ...rest] = at.split('/');
  const name = rest.join('/');
  switch (kind) {
    case 'mesh':
      return getField(doc, field);
    case 'backend':
      return getField(indexOf(doc).backends.get(name), field);
    case 'frontend':
      return getField(indexOf(doc).frontends.get(name), field);
    case 'routes':
      return routesOf(doc).get(name) ?? [];
    case 'route': {
      const i = name.lastIndexOf('/');
      return getField(routesOf(doc).get(name.slice(0, i))?.[Number(name.slice(i + 1))], field);
    }
    case 'access':
      return indexOf(doc).access.get(name) ?? [];
  }
  return undefined;
}

/** Sets an element's field (see `CarriedEntry.at`) in a document, in place. */
function setAt(doc: MeshDocument, at: string, field: string, value: unknown): void {
  const [kind, ...rest] = at.split('/');
  const name = rest.join('/');
  const spec = doc.spec as Spec & Record<string, unknown>;
  // a field is set in place; an element added, removed or replaced changes the lists: index again
  const element = <T extends { name: string }>(list: T[], found: T | undefined): T | undefined => {
    if (field !== '') return found;
    indexes.delete(doc);
    const i = found ? list.indexOf(found) : -1;
    if (value === undefined) {
      if (i >= 0) list.splice(i, 1);
    } else if (i >= 0) list[i] = clone(value) as T;
    else list.push(clone(value) as T);
    return undefined;
  };
  switch (kind) {
    case 'mesh':
      setField(doc as unknown as Record<string, unknown>, field, value);
      return;
    case 'backend': {
      const b = element(spec.backends, indexOf(doc).backends.get(name));
      if (b) setField(b as unknown as Record<string, unknown>, field, value);
      return;
    }
    case 'frontend': {
      const found = indexOf(doc).frontends.get(name);
      spec.frontends ??= [];
      const f = element(spec.frontends, found);
      if (f) setField(f as unknown as Record<string, unknown>, field, value);
      if (!spec.frontends.length) delete spec.frontends;
      return;
    }
    case 'routes': {
      // the parent's routes are replaced where its first route was (or at the end)
      indexes.delete(doc);
      const all = spec.routes ?? [];
      const first = all.findIndex((r) => parentKey(r.parent) === name);
      const kept = all.filter((r) => parentKey(r.parent) !== name);
      const place =
        first < 0 ? kept.length : all.slice(0, first).filter((r) => parentKey(r.parent) !== name).length;
      kept.splice(place, 0, ...(clone(value) as RouteDoc[]));
      if (kept.length) spec.routes = kept as Spec['routes'];
      else delete spec.routes;
      return;
    }
    case 'route': {
      const i = name.lastIndexOf('/');
      const r = routesOf(doc).get(name.slice(0, i))?.[Number(name.slice(i + 1))];
      if (r) setField(r as unknown as Record<string, unknown>, field, value);
      return;
    }
    case 'access': {
      indexes.delete(doc);
      const all = spec.access ?? [];
      const first = all.findIndex((a) => a.backend === name);
      const kept = all.filter((a) => a.backend !== name);
      kept.splice(first < 0 ? kept.length : first, 0, ...((clone(value) as typeof all) ?? []));
      if (kept.length) spec.access = kept;
      else delete spec.access;
      return;
    }
  }
}

/**
 * The names of the imported routes, taken from the mesh's routes at the same place of the same
 * parent, where the parent has as many routes on both sides (Gateway API rules and Consul routes
 * have no names).
 */
function nameEntries(original: MeshDocument, imported: MeshDocument): CarriedEntry[] {
  const a = routesOf(original);
  const entries: CarriedEntry[] = [];
  for (const [parent, routes] of routesOf(imported)) {
    const theirs = a.get(parent);
    if (!theirs || theirs.length !== routes.length) continue;
    routes.forEach((r, i) => {
      if (r.name !== theirs[i]!.name)
        entries.push({ at: `route/${parent}/${i}`, field: 'name', value: theirs[i]!.name, read: r.name });
    });
  }
  return entries;
}

/** Applies entries whose `read` is still what the document holds; returns those that were not. */
export function applyCarried(
  doc: MeshDocument,
  entries: readonly CarriedEntry[],
): { applied: CarriedEntry[]; stale: CarriedEntry[] } {
  const applied: CarriedEntry[] = [];
  const stale: CarriedEntry[] = [];
  // in order: each entry was read after the ones before it were applied (names first)
  for (const e of entries) {
    if (!equal(valueAt(doc, e.at, e.field), e.read)) {
      stale.push(e);
      continue;
    }
    setAt(doc, e.at, e.field, e.value);
    applied.push(e);
  }
  return { applied, stale };
}

/**
 * The entries that make `imported` the same mesh as `original` by `meshgen diff`: route names by
 * place first, then each element or field the diff still reports. `left` is what still differs
 * after them (nothing, unless the document they give does not validate: `invalid`).
 */
export function carriedEntries(
  original: MeshDocument,
  imported: MeshDocument,
): { entries: CarriedEntry[]; left: Change[]; invalid: boolean } {
  const work = clone(imported);
  const entries = nameEntries(original, work);
  applyCarried(work, entries);
  const a = normalizeMesh(original);
  const all = [...entries];
  // a field put back can uncover another (the mesh's mTLS mode put back changes what a backend
  // without its own mode gets): a few rounds, each on the document the one before left
  for (let round = 0; round < 4; round++) {
    if (validateMesh(work).some((d) => d.severity === 'error')) break;
    const changes = diffMeshes(a, normalizeMesh(work));
    if (!changes.length) return { entries: all, left: [], invalid: false };
    const seen = new Set<string>();
    const more: CarriedEntry[] = [];
    for (const c of changes) {
      const where = whereOf(c, work);
      if (!where) continue;
      const key = `${where.at} ${where.field}`;
      if (seen.has(key)) continue;
      seen.add(key);
      more.push({
        ...where,
        ...defined('value', valueAt(original, where.at, where.field)),
        ...defined('read', valueAt(work, where.at, where.field)),
      });
    }
    // a whole parent's routes replace its single-route fields
    const wholeRoutes = new Set(more.filter((e) => e.at.startsWith('routes/')).map((e) => e.at.slice(7)));
    const kept = more.filter(
      (e) => !(e.at.startsWith('route/') && wholeRoutes.has(e.at.slice(6, e.at.lastIndexOf('/')))),
    );
    applyCarried(work, kept);
    all.push(...kept);
  }
  const invalid = validateMesh(work).some((d) => d.severity === 'error');
  return { entries: all, left: invalid ? [] : diffMeshes(a, normalizeMesh(work)), invalid };
}

function defined<K extends string>(key: K, v: unknown): Partial<Record<K, unknown>> {
  return v === undefined ? {} : ({ [key]: clone(v) } as Record<K, unknown>);
}
