/**
 * Places strings into small base meshes at a schema field found by test/support/schema-fields.ts,
 * one value per mesh or many per mesh (a batch), so that every string field can be fed hostile
 * text without a hand-written case per field.
 */
import type { Step, StringField } from '../../support/schema-fields.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

/** A small HTTP mesh: the header operations and matches, where most free text goes. */
const SMALL: Obj = {
  apiVersion: 'meshgen.io/v1alpha1',
  kind: 'Mesh',
  metadata: { name: 'mesh-one' },
  spec: {
    mtls: { mode: 'disabled' },
    backends: [
      { name: 'bk-one', port: 8080, versions: [{ name: 'ver-one', endpoints: ['127.0.0.1:18001'] }] },
    ],
    frontends: [{ name: 'fe-one', address: '127.0.0.1', port: 18080, protocol: 'http' }],
    routes: [
      {
        name: 'rt-one',
        parent: { frontend: 'fe-one' },
        match: [
          {
            path: { prefix: '/prefix-one' },
            headers: {
              'x-hdr-one': { exact: 'hdr-exact' },
              'x-hdr-two': { prefix: 'hdr-prefix' },
              'x-hdr-three': { regex: 'hdr-re[a-z]+' },
            },
            queryParams: {
              'qp-one': { exact: 'qp-exact' },
              'qp-two': { prefix: 'qp-prefix' },
              'qp-three': { regex: 'qp-re[0-9]+' },
            },
          },
        ],
        to: [{ backend: 'bk-one' }],
        rewrite: { pathPrefix: '/rewrite-one', host: 'rewrite-host.one' },
        headers: {
          request: {
            set: { 'x-rq-set': 'rq-set-value' },
            add: { 'x-rq-add': 'rq-add-value' },
            remove: ['x-rq-remove'],
          },
          response: {
            set: { 'x-rs-set': 'rs-set-value' },
            add: { 'x-rs-add': 'rs-add-value' },
            remove: ['x-rs-remove'],
          },
        },
      },
    ],
  },
};

/** A mesh using every other field, each with a value of its own (shared values are references). */
const FULL: Obj = {
  apiVersion: 'meshgen.io/v1alpha1',
  kind: 'Mesh',
  metadata: { name: 'mesh-two', labels: { 'lbl-key': 'lbl-value' } },
  spec: {
    namespace: 'ns-one',
    trustDomain: 'td.one',
    mtls: { mode: 'strict' },
    backends: [
      {
        name: 'bk-one',
        namespace: 'ns-two',
        serviceAccount: 'sa-one',
        port: 8080,
        versions: [
          { name: 'ver-one', labels: { 'vl-key': 'vl-value' }, endpoints: ['127.0.0.1:18001'] },
          { name: 'ver-two', endpoints: ['127.0.0.2:18002'] },
        ],
        loadBalancer: 'ring-hash',
        hashOn: { header: 'x-hash' },
        healthCheck: { path: '/healthz-one', interval: '2s', timeout: '500ms' },
        outlierDetection: { interval: '10s', baseEjectionTime: '30s' },
      },
      {
        name: 'bk-two',
        port: 8081,
        versions: [{ name: 'ver-three', endpoints: ['127.0.0.1:18003'] }],
        loadBalancer: 'ring-hash',
        hashOn: { cookie: 'cookie-one' },
      },
    ],
    frontends: [
      { name: 'fe-one', port: 18080, protocol: 'http', hosts: ['h-one.example.com'] },
      {
        name: 'fe-two',
        port: 18443,
        protocol: 'https',
        tls: {
          certificate: 'certs/site.crt',
          key: 'certs/site.key',
          secretName: 'secret-one',
          clientCa: 'certs/clients-ca.crt',
        },
      },
    ],
    routes: [
      {
        name: 'rt-one',
        parent: { frontend: 'fe-one', hosts: ['h-one.example.com'] },
        match: [{ path: { prefix: '/prefix-two' } }],
        to: [
          { backend: 'bk-one', version: 'ver-one', weight: 80 },
          { backend: 'bk-one', version: 'ver-two', weight: 20 },
        ],
        timeout: '5s',
        retries: { attempts: 2, perTryTimeout: '1s', on: ['503'] },
        fault: { delay: { duration: '1500ms', percent: 1 } },
        mirror: { backend: 'bk-two', version: 'ver-three', percent: 10 },
      },
      {
        name: 'rt-two',
        parent: { backend: 'bk-two' },
        match: [{ path: { exact: '/exact-one' } }, { path: { regex: '/regex-one/[0-9]+' } }],
        to: [{ backend: 'bk-two' }],
      },
      { name: 'rt-three', parent: { frontend: 'fe-two' }, to: [{ backend: 'bk-one' }] },
    ],
    access: [
      { backend: 'bk-two', allow: [{ from: ['fe-one', 'bk-one'], paths: ['/allow-one'], methods: ['GET'] }] },
    ],
  },
};

const BASES: readonly Obj[] = [SMALL, FULL];

const clone = <T>(v: T): T => structuredClone(v);

/** Where a field sits in one base mesh: the path of keys/indices to its first instance. */
export interface Site {
  readonly base: Obj;
  readonly path: readonly (string | number)[];
  /** For a map key: the key's path is the map's, plus the key. */
  readonly isKey: boolean;
  readonly benign: string;
  readonly steps: readonly Step[];
}

function findSite(base: Obj, steps: readonly Step[]): Omit<Site, 'steps'> | undefined {
  const path: (string | number)[] = [];
  let cur: Json = base;
  for (const [n, s] of steps.entries()) {
    if (cur === null || typeof cur !== 'object') return undefined;
    if ('prop' in s) {
      if (Array.isArray(cur) || !(s.prop in cur)) return undefined;
      path.push(s.prop);
      cur = cur[s.prop]!;
    } else if ('item' in s) {
      if (!Array.isArray(cur) || !cur.length) return undefined;
      // a later step may need a particular element (the route with headers, say): try each
      for (let i = 0; i < cur.length; i++) {
        const rest = findSite({ x: cur[i]! } as Obj, [{ prop: 'x' }, ...steps.slice(n + 1)]);
        if (rest) return { ...rest, base, path: [...path, i, ...rest.path.slice(1)] };
      }
      return undefined;
    } else {
      if (Array.isArray(cur)) return undefined;
      const keys = Object.keys(cur);
      if (!keys.length) return undefined;
      if ('key' in s) {
        if (n !== steps.length - 1) return undefined;
        return { base, path: [...path, keys[0]!], isKey: true, benign: keys[0]! };
      }
      for (const k of keys) {
        const rest = findSite({ x: cur[k]! } as Obj, [{ prop: 'x' }, ...steps.slice(n + 1)]);
        if (rest) return { ...rest, base, path: [...path, k, ...rest.path.slice(1)] };
      }
      return undefined;
    }
  }
  return typeof cur === 'string' ? { base, path, isKey: false, benign: cur } : undefined;
}

/** The first base mesh holding the field, or undefined: the harness cannot place it. */
export function siteOf(field: StringField): Site | undefined {
  for (const base of BASES) {
    const site = findSite(base, field.steps);
    if (site) return { ...site, steps: field.steps };
  }
  return undefined;
}

function get(o: Json, path: readonly (string | number)[]): Json {
  return path.reduce<Json>((c, k) => (c as Record<string | number, Json>)[k]!, o);
}

function setAt(o: Json, path: readonly (string | number)[], isKey: boolean, value: string): void {
  const parent = get(o, path.slice(0, -1)) as Record<string | number, Json>;
  const last = path[path.length - 1]!;
  if (!isKey) {
    parent[last] = value;
    return;
  }
  // rename the key in place, keeping the map's order
  const entries = Object.entries(parent);
  for (const k of Object.keys(parent)) delete parent[k];
  for (const [k, v] of entries) parent[k === last ? value : k] = v;
}

function replaceStrings(o: Json, from: string, to: string): Json {
  if (typeof o === 'string') return o === from ? to : o;
  if (Array.isArray(o)) return o.map((x) => replaceStrings(x, from, to));
  if (o && typeof o === 'object') {
    const out: Obj = {};
    for (const [k, v] of Object.entries(o)) out[k] = replaceStrings(v, from, to);
    return out;
  }
  return o;
}

function countStrings(o: Json, s: string): number {
  if (typeof o === 'string') return o === s ? 1 : 0;
  if (Array.isArray(o)) return o.reduce<number>((n, x) => n + countStrings(x, s), 0);
  if (o && typeof o === 'object') return Object.values(o).reduce<number>((n, x) => n + countStrings(x, s), 0);
  return 0;
}

/** One value in the base mesh: the value replaces the field, and every reference to the same name. */
export function placeOne(site: Site, value: string): Obj {
  if (site.isKey) {
    const doc = clone(site.base);
    setAt(doc, site.path, true, value);
    return doc;
  }
  return replaceStrings(site.base, site.benign, value) as Obj;
}

/** A benign value of the same kind as the base's, distinct per index (for batches). */
export function benignVariant(site: Site, j: number): string {
  const b = site.benign;
  if (/^[\d.:[\]]+$/.test(b) || /^\d+(ms|s|m|h)$/.test(b)) return b;
  if (!b.startsWith('/') && !b.includes('/') && b.includes('.')) return b.replace('.', `-b${j}.`);
  return `${b}-b${j}`;
}

const UNITS = ['backends', 'frontends', 'routes', 'access'] as const;

/**
 * Many values in one mesh. A value that other parts of the mesh refer to (a backend's name, a
 * frontend's host) is placed by copying every top-level entity that holds it, renamed; any other
 * value by copying the nearest list item or map entry around it. Returns undefined for fields that
 * exist once per mesh (metadata.name): those are placed one by one.
 */
export function placeBatch(site: Site, values: readonly string[]): Obj | undefined {
  const doc = clone(site.base);
  const spec = doc['spec'] as Obj;
  const linked = !site.isKey && countStrings(site.base, site.benign) > 1;
  if (linked) {
    const group: { unit: (typeof UNITS)[number]; item: Obj }[] = [];
    for (const unit of UNITS)
      for (const item of (spec[unit] as Obj[] | undefined) ?? [])
        if (countStrings(item, site.benign)) group.push({ unit, item });
    if (!group.length) return undefined;
    const names = group.map((g) => g.item['name']).filter((n): n is string => typeof n === 'string');
    values.forEach((v, j) => {
      for (const { unit, item } of group) {
        let copy = replaceStrings(item, site.benign, v) as Obj;
        for (const n of names) if (n !== site.benign) copy = replaceStrings(copy, n, `${n}-c${j}`) as Obj;
        if (unit === 'frontends') copy['port'] = 30000 + j * 10 + (spec['frontends'] as Obj[]).indexOf(item);
        (spec[unit] as Obj[]).push(copy);
      }
    });
    return doc;
  }
  // the nearest list item or map entry around the field
  for (let n = site.path.length; n >= 1; n--) {
    const step = site.steps[n - 1]!;
    if ('prop' in step) continue;
    // the conditions of one match entry share one HAProxy line (at most 64 words): copy the
    // match entry rather than adding conditions to it
    if (!('item' in step) && site.path.slice(0, n - 1).includes('match')) continue;
    const container = get(doc, site.path.slice(0, n - 1)) as Obj | Json[];
    const at = site.path[n - 1]!;
    const inner = site.path.slice(n);
    const original = (container as Record<string | number, Json>)[at]!;
    const frontends = container === spec['frontends'];
    values.forEach((v, j) => {
      let copy: Json = v;
      if (inner.length) {
        copy = clone(original);
        setAt({ x: copy } as Obj, ['x', ...inner], site.isKey, v);
        if (copy && typeof copy === 'object' && !Array.isArray(copy)) {
          const o = copy as Obj;
          if (typeof o['name'] === 'string' && inner.join('.') !== 'name') o['name'] = `${o['name']}-c${j}`;
          if (frontends) o['port'] = 30000 + j;
        }
      } else if ('key' in step) copy = clone(original);
      if (Array.isArray(container)) container.push(copy);
      else if ('key' in step && !inner.length) (container as Obj)[v] = copy;
      else (container as Obj)[`${String(at)}-m${j}`] = copy;
    });
    return doc;
  }
  return undefined;
}
