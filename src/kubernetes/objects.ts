import type { ResolvedMesh } from '../model/types.js';
import type { OutputFile } from '../emitters/types.js';
import { YamlBuffer, toYamlString, type SpecKeys } from '../yaml/writer.js';

/** A Kubernetes object as plain data: apiVersion, kind and metadata first. */
export interface K8sObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly labels: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
  };
  readonly [field: string]: unknown;
}

/**
 * Builds an object carrying the mesh's labels (`app.kubernetes.io/managed-by: meshgen` and
 * `meshgen.io/mesh: <name>`) plus any of its own.
 */
export function k8sObject(
  mesh: ResolvedMesh,
  apiVersion: string,
  kind: string,
  meta: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  },
  body: Record<string, unknown>,
): K8sObject {
  const annotations = meta.annotations && hasAnyKey(meta.annotations) ? meta.annotations : undefined;
  const metadata = {
    name: meta.name,
    namespace: meta.namespace,
    // objects are plain data that is only read: those without labels of their own share the mesh's
    labels: meta.labels ? { ...mesh.labels, ...meta.labels } : mesh.labels,
    annotations,
  };
  // most bodies are `{ spec }` or empty: a literal of all the keys keeps them in the object (a spread
  // after three keys puts the rest in a separate property array) and gives every kind one layout
  switch (bodyShape(body)) {
    case 'empty':
      return { apiVersion, kind, metadata };
    case 'spec':
      return { apiVersion, kind, metadata, spec: body.spec };
    default:
      return { apiVersion, kind, metadata, ...body };
  }
}

/** What a body holds: no key, only a `spec` of its own (what a spread would copy), or other keys. */
function bodyShape(body: Record<string, unknown>): 'empty' | 'spec' | 'other' {
  let n = 0;
  let spec = false;
  for (const k in body) {
    n++;
    spec = k === 'spec' && Object.hasOwn(body, k);
  }
  return n === 0 ? 'empty' : n === 1 && spec ? 'spec' : 'other';
}

/** Whether a plain object has a key, without listing its keys (every object a target writes asks). */
export function hasAnyKey(o: object): boolean {
  for (const _ in o) return true;
  return false;
}

/**
 * The names taken in one scope (a namespace, say) of `taken`, made on first use: Kubernetes names are
 * unique per kind and namespace, and a set per scope needs no `<scope>/<name>` key for every name.
 */
export function namesIn(taken: Map<string, Set<string>>, scope: string): Set<string> {
  let names = taken.get(scope);
  if (names === undefined) taken.set(scope, (names = new Set()));
  return names;
}

/** Where emitters put objects: an array, or a sink that serialises each one as it arrives. */
export interface ObjectCollector {
  push(...objects: K8sObject[]): unknown;
}

const lowerKinds = new Map<string, string>();

/** A kind in lower case, kept: every file's path starts with it. */
function lowerKind(kind: string): string {
  let lower = lowerKinds.get(kind);
  if (lower === undefined) {
    lower = kind.toLowerCase();
    if (lowerKinds.size < 100) lowerKinds.set(kind, lower);
  }
  return lower;
}

/**
 * Marks the arrays of files an ObjectFileSink returns (a property that is not enumerable: comparisons
 * and copies of the array do not see it, and a copy is not marked).
 */
const OBJECT_FILES = Symbol('meshgen.objectFiles');

/**
 * True when `files` is an array an ObjectFileSink returned and holds a file: one Kubernetes object
 * per `.yaml` file, each starting with `apiVersion` (what `k8sObject` builds), known without reading
 * the text of a hundred thousand files; undefined when the array does not say.
 */
export function objectFilesMark(files: readonly OutputFile[]): boolean | undefined {
  return (files as { [OBJECT_FILES]?: true })[OBJECT_FILES] ? files.length > 0 : undefined;
}

/** How much YAML text a sink gathers before it makes one string of it (see ObjectFileSink). */
const CHUNK = 1 << 18;

/**
 * Serialises each object as it is pushed, so a large render keeps text instead of every object graph
 * until the end. Consecutive files are written into one buffer and read back as one string of
 * about 256 KiB, and each file's contents are a slice of it: V8 keeps a string that large out of the
 * young generation and a slice is a small reference into it, so young-generation garbage collection
 * (which dominated large renders) does not copy every file's text as it survives.
 * Files are named `<kind>-<namespace>-<name>.yaml` in lower case.
 */
export class ObjectFileSink implements ObjectCollector {
  private readonly out: { path: string; contents: string }[] = [];
  private readonly buffer = new YamlBuffer(CHUNK + (CHUNK >> 2));
  /** Files whose text is in the buffer: their index in `out` and where their text ends. */
  private pending: number[] = [];
  private ends: number[] = [];

  push(...objects: K8sObject[]): number {
    for (const o of objects) this.add(o);
    return this.out.length;
  }

  /** Adds one object, the keys under its `spec` renamed by `specKeys` when given. */
  add(o: K8sObject, specKeys?: SpecKeys): void {
    const ns = o.metadata.namespace;
    // joined, not a template: join makes one flat string, where a template makes a chain of parts
    // that the sort by path flattens in its comparisons (which took three times as long)
    const kind = lowerKind(o.kind);
    const name = o.metadata.name;
    const path = (ns ? [kind, '-', ns, '-', name, '.yaml'] : [kind, '-', name, '.yaml']).join('');
    if (this.buffer.write(o, specKeys)) {
      this.pending.push(this.out.length);
      this.ends.push(this.buffer.length);
      this.out.push({ path, contents: '' });
      if (this.buffer.length >= CHUNK) this.flush();
    } else this.out.push({ path, contents: toYamlString(specKeys ? renameSpec(o, specKeys) : o) });
  }

  private flush(): void {
    const chunk = this.buffer.text(0, this.buffer.length);
    let start = 0;
    for (let i = 0; i < this.pending.length; i++) {
      const end = this.ends[i]!;
      this.out[this.pending[i]!]!.contents = chunk.slice(start, end);
      start = end;
    }
    this.buffer.reset();
    this.pending = [];
    this.ends = [];
  }

  /** The files, sorted by path. */
  files(): OutputFile[] {
    this.flush();
    this.out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    // two objects for one path sort next to each other (cheaper than a set of every path)
    for (let i = 1; i < this.out.length; i++)
      if (this.out[i]!.path === this.out[i - 1]!.path)
        throw new Error(`bug: two objects would be written to ${this.out[i]!.path}`);
    if (!(OBJECT_FILES in this.out)) Object.defineProperty(this.out, OBJECT_FILES, { value: true });
    return this.out;
  }
}

/** The object with the keys under its `spec` renamed as `YamlBuffer.write` does. */
function renameSpec(o: K8sObject, keys: SpecKeys): K8sObject {
  const rename = (v: unknown, dataMap: boolean): unknown => {
    if (Array.isArray(v)) return v.map((x) => rename(x, false));
    if (v === null || typeof v !== 'object') return v;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (x === undefined) continue;
      out[dataMap ? k : keys.name(k)] = rename(x, !dataMap && keys.isDataMap(k));
    }
    return out;
  };
  return { ...o, spec: o.spec === undefined ? undefined : rename(o.spec, false) };
}

/** One file per object, sorted by path. */
export function objectFiles(objects: readonly K8sObject[]): OutputFile[] {
  const sink = new ObjectFileSink();
  sink.push(...objects);
  return sink.files();
}
