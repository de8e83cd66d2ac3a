import jsyaml from 'js-yaml';
import { toYaml } from '../yaml/writer.js';
import type { ResolvedMesh } from '../model/types.js';
import { render } from '../render.js';
import { emitters } from '../emitters/index.js';
import type { OutputFile } from '../emitters/types.js';
import type { Diagnostic } from '../model/diagnostics.js';
import { byString } from './canonical.js';
import { unifiedDiff } from './unified.js';

/** One object of a target's output: a Kubernetes object, a config section, or a whole file. */
export interface RenderedObject {
  readonly file: string;
  /** `VirtualService shop/catalog`, `backend svc-1`, `cluster catalog-v1`, or the file's path. */
  readonly object: string;
  readonly text: string;
}

export interface ObjectChange {
  readonly status: 'added' | 'removed' | 'changed';
  readonly file: string;
  readonly object: string;
  /** Unified diff of the object's text, for changed objects. */
  readonly diff?: string;
}

export interface TargetDiff {
  readonly target: string;
  readonly changes: readonly ObjectChange[];
  /**
   * The error diagnostics of a side whose render failed (pointers into that side's mesh): the
   * target's output is then not compared, and `changes` is empty.
   */
  readonly errors?: { readonly before: readonly Diagnostic[]; readonly after: readonly Diagnostic[] };
}

/**
 * Renders both meshes to each target (through the registry and `render`) and compares the output
 * object by object. Fidelity warnings are not part of it (`meshgen render` reports them); a render
 * that fails is, in `errors`.
 */
export function diffRendered(
  a: ResolvedMesh,
  b: ResolvedMesh,
  targets: readonly string[] | 'all',
): TargetDiff[] {
  return [...diffTargets(a, b, targets)];
}

/**
 * `diffRendered` one target at a time: only one target's two renders are held at once, and each
 * target's differences can be shown before the next renders.
 */
export function* diffTargets(
  a: ResolvedMesh,
  b: ResolvedMesh,
  targets: readonly string[] | 'all',
): Generator<TargetDiff> {
  const names = [...new Set(targets === 'all' ? emitters.map((e) => e.target) : targets)];
  for (const target of names) {
    const before = render(a, { targets: [target] });
    const after = render(b, { targets: [target] });
    const errors = {
      before: before.diagnostics.filter((d) => d.severity === 'error'),
      after: after.diagnostics.filter((d) => d.severity === 'error'),
    };
    if (errors.before.length || errors.after.length) yield { target, changes: [], errors };
    else yield { target, changes: diffFiles(before.outputs[0]?.files ?? [], after.outputs[0]?.files ?? []) };
  }
}

/**
 * Compares two renders of a target object by object. A file with the same contents on both sides
 * holds the same objects, so only the files that differ are split.
 */
function diffFiles(before: readonly OutputFile[], after: readonly OutputFile[]): ObjectChange[] {
  const old = new Map(before.map((f) => [f.path, f]));
  const out: ObjectChange[] = [];
  const add = (changes: readonly ObjectChange[]) => {
    for (const c of changes) out.push(c);
  };
  for (const file of after) {
    const was = old.get(file.path);
    old.delete(file.path);
    if (was?.contents === file.contents) continue;
    add(diffObjects(was ? splitFile(was) : [], splitFile(file)));
  }
  for (const was of old.values()) add(diffObjects(splitFile(was), []));
  return out.sort(byFileAndObject);
}

const byFileAndObject = (x: ObjectChange, y: ObjectChange) =>
  byString(x.file, y.file) || byString(x.object, y.object);

/** Compares objects matched by file and name. */
export function diffObjects(
  before: readonly RenderedObject[],
  after: readonly RenderedObject[],
): ObjectChange[] {
  const key = (o: RenderedObject) => `${o.file}\0${o.object}`;
  const old = new Map(before.map((o) => [key(o), o]));
  const now = new Map(after.map((o) => [key(o), o]));
  const out: ObjectChange[] = [];
  for (const [k, o] of old) if (!now.has(k)) out.push({ status: 'removed', file: o.file, object: o.object });
  for (const [k, o] of now) {
    const was = old.get(k);
    if (!was) out.push({ status: 'added', file: o.file, object: o.object });
    else if (was.text !== o.text)
      out.push({
        status: 'changed',
        file: o.file,
        object: o.object,
        diff: unifiedDiff(was.text, o.text, o.file),
      });
  }
  return out.sort(byFileAndObject);
}

export function splitFiles(files: readonly OutputFile[]): RenderedObject[] {
  return files.flatMap(splitFile);
}

/**
 * Splits one output file into objects: YAML and JSON documents by Kubernetes kind and name (an
 * Envoy bootstrap into its listeners and clusters, a Traefik dynamic configuration into its routers,
 * services, middlewares and transports), iptables-restore files by table and chain, httpd configs
 * by `<VirtualHost>` and `<Proxy>` section, brace-structured configs (NGINX, HCL, nft) by block,
 * indented configs (HAProxy) by section;
 * anything else stays one object.
 */
export function splitFile(file: OutputFile): RenderedObject[] {
  const path = file.path;
  if (/\.(ya?ml|json)$/.test(path)) return splitStructured(path, file.contents);
  const lines = file.contents.split('\n');
  if (/^\*\w+$/m.test(file.contents) && /^COMMIT$/m.test(file.contents))
    return named(path, iptablesSections(lines));
  if (/^<(VirtualHost|Proxy)\b[^>]*>$/m.test(file.contents)) return named(path, httpdSections(lines));
  if (/[{}]\s*$/m.test(file.contents)) return named(path, braceSections(lines));
  if (lines.some((l) => /^\s+\S/.test(l))) return named(path, indentSections(lines));
  return [{ file: path, object: path, text: file.contents }];
}

function named(file: string, sections: { name: string; lines: string[] }[]): RenderedObject[] {
  const seen = new Map<string, number>();
  return sections.map((s) => {
    const n = (seen.get(s.name) ?? 0) + 1;
    seen.set(s.name, n);
    return { file, object: n > 1 ? `${s.name} #${n}` : s.name, text: s.lines.join('\n') + '\n' };
  });
}

function splitStructured(file: string, text: string): RenderedObject[] {
  const docs = file.endsWith('.json') ? [text] : text.split(/^---[ \t]*$\n?/m).filter((d) => d.trim() !== '');
  const out: RenderedObject[] = [];
  docs.forEach((doc, i) => {
    let value: unknown;
    try {
      value = file.endsWith('.json') ? JSON.parse(doc) : jsyaml.load(doc);
    } catch {
      value = undefined;
    }
    const v = value as {
      kind?: unknown;
      metadata?: { name?: unknown; namespace?: unknown };
      static_resources?: unknown;
    };
    if (v && typeof v.kind === 'string' && v.metadata && typeof v.metadata.name === 'string') {
      const ns = typeof v.metadata.namespace === 'string' ? `${v.metadata.namespace}/` : '';
      out.push({ file, object: `${v.kind} ${ns}${v.metadata.name}`, text: doc });
    } else if (v && typeof v.static_resources === 'object' && v.static_resources) {
      out.push(...bootstrapSections(file, v as Record<string, unknown>));
    } else if (isTraefikDynamic(value)) {
      out.push(...traefikSections(file, value));
    } else {
      out.push({ file, object: docs.length > 1 ? `${file} document ${i + 1}` : file, text: doc });
    }
  });
  return out;
}

type Sections = Record<string, Record<string, unknown>>;

/** A Traefik file-provider dynamic configuration: only `http`, `tcp`, `udp` and `tls` at the top. */
function isTraefikDynamic(v: unknown): v is Record<string, Sections> {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return false;
  const keys = Object.keys(v);
  return keys.length > 0 && keys.every((k) => ['http', 'tcp', 'udp', 'tls'].includes(k));
}

/** Traefik's dynamic configuration: each router, service, middleware and transport by name; tls whole. */
function traefikSections(file: string, config: Record<string, Sections>): RenderedObject[] {
  const out: RenderedObject[] = [];
  for (const [protocol, sections] of Object.entries(config)) {
    if (protocol === 'tls') {
      out.push({ file, object: 'tls', text: toYaml(sections) });
      continue;
    }
    for (const [kind, items] of Object.entries(sections))
      for (const [name, item] of Object.entries(items ?? {}))
        out.push({ file, object: `${protocol} ${kind.replace(/s$/, '')} ${name}`, text: toYaml(item) });
  }
  return out;
}

/** An Envoy bootstrap: each listener and cluster by name, and the rest as one object. */
function bootstrapSections(file: string, bootstrap: Record<string, unknown>): RenderedObject[] {
  const resources = bootstrap.static_resources as Record<string, unknown>;
  const out: RenderedObject[] = [];
  const rest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(resources)) {
    if ((k === 'listeners' || k === 'clusters') && Array.isArray(v)) {
      v.forEach((item: { name?: unknown }, i) => {
        const name = typeof item?.name === 'string' ? item.name : `#${i + 1}`;
        out.push({ file, object: `${k.slice(0, -1)} ${name}`, text: toYaml(item) });
      });
    } else rest[k] = v;
  }
  out.unshift({ file, object: 'bootstrap', text: toYaml({ ...bootstrap, static_resources: rest }) });
  return out;
}

/**
 * Brace blocks: each top-level block, and the blocks inside a top-level block that holds several
 * (`http { upstream a {…} server {…} }`). Lines outside blocks join the section before them.
 */
function braceSections(lines: string[]): { name: string; lines: string[] }[] {
  const sections: { name: string; lines: string[] }[] = [];
  // first pass: depth before each line
  const depth = new Int32Array(lines.length);
  let d = 0;
  for (let i = 0; i < lines.length; i++) {
    depth[i] = d;
    const line = lines[i]!;
    // braces before a comment
    const hash = line.indexOf('#');
    const end = hash < 0 ? line.length : hash;
    for (let k = 0; k < end; k++) {
      const ch = line.charCodeAt(k);
      if (ch === 123) d++;
      else if (ch === 125) d--;
    }
  }
  const opens = (i: number) => lines[i]!.includes('{') && /\{\s*(#.*)?$/.test(lines[i]!);
  const header = (i: number) => lines[i]!.replace(/\{\s*(#.*)?$/, '').trim();
  const containers = new Set<number>();
  for (let i = 0; i < lines.length; i++) {
    if (depth[i] !== 0 || !opens(i)) continue;
    let inner = 0;
    for (let j = i + 1; j < lines.length && depth[j]! > 0; j++) if (depth[j] === 1 && opens(j)) inner++;
    if (inner > 1) containers.add(i);
  }
  let container: { name: string; lines: string[] } | undefined;
  let current: { name: string; lines: string[] } = { name: '(top)', lines: [] };
  sections.push(current);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (depth[i] === 0 && opens(i)) {
      current = { name: header(i), lines: [] };
      container = containers.has(i) ? current : undefined;
      sections.push(current);
    } else if (container && depth[i] === 1) {
      if (opens(i)) {
        // name a nameless block (`server {`) by its first directive
        let next = i + 1;
        while (next < lines.length && lines[next]!.trim() === '') next++;
        const first = lines[next];
        const h = header(i);
        const name = h.includes(' ') ? h : `${h} ${first?.trim().replace(/;$/, '') ?? ''}`.trim();
        current = { name: `${container.name} > ${name}`, lines: [] };
        sections.push(current);
      } else {
        // the container's own directives and closing brace
        container.lines.push(line);
        continue;
      }
    }
    current.lines.push(line);
  }
  return sections.filter((s) => s.lines.some((l) => l.trim() !== '' && l.trim() !== '}'));
}

/**
 * httpd.conf: each top-level `<VirtualHost ...>` and `<Proxy ...>` section, named by its opening
 * tag, with the comments just above it; the directives outside them are `(top)`.
 */
function httpdSections(lines: string[]): { name: string; lines: string[] }[] {
  const top: { name: string; lines: string[] } = { name: '(top)', lines: [] };
  const sections = [top];
  let current = top;
  let depth = 0;
  let pending: string[] = [];
  for (const line of lines) {
    if (depth > 0) {
      current.lines.push(line);
      if (/^\s*<\//.test(line)) depth--;
      else if (/^\s*<[A-Za-z]/.test(line)) depth++;
      continue;
    }
    const open = /^<([A-Za-z]+)\s*([^>]*)>\s*$/.exec(line);
    if (open) {
      current = { name: `${open[1]} ${open[2]}`.trim(), lines: [...pending, line] };
      pending = [];
      sections.push(current);
      depth = 1;
    } else if (/^\s*(#|$)/.test(line)) pending.push(line);
    else {
      top.lines.push(...pending, line);
      pending = [];
    }
  }
  top.lines.push(...pending);
  return sections.filter((s) => s.lines.some((l) => l.trim() !== '' && !l.startsWith('#')));
}

/** Sections that start at a line without indentation (`frontend x`, `backend y`). */
function indentSections(lines: string[]): { name: string; lines: string[] }[] {
  const sections: { name: string; lines: string[] }[] = [];
  let current: { name: string; lines: string[] } = { name: '(top)', lines: [] };
  sections.push(current);
  for (const line of lines) {
    if (/^\S/.test(line) && !line.startsWith('#')) {
      current = { name: line.trim(), lines: [] };
      sections.push(current);
    }
    current.lines.push(line);
  }
  return sections.filter((s) => s.lines.some((l) => l.trim() !== ''));
}

/**
 * iptables-restore input: per table its header (`*nat`, chain declarations, COMMIT), and the rules
 * of each chain (`-A CHAIN ...`) as one section `<table> <chain>`.
 */
function iptablesSections(lines: string[]): { name: string; lines: string[] }[] {
  const sections = new Map<string, { name: string; lines: string[] }>();
  const add = (name: string, line: string) => {
    let s = sections.get(name);
    if (!s) sections.set(name, (s = { name, lines: [] }));
    s.lines.push(line);
  };
  let table = '(top)';
  for (const line of lines) {
    const t = /^\*(\w+)$/.exec(line);
    if (t) table = t[1]!;
    const rule = /^-[AI]\s+(\S+)/.exec(line);
    add(rule ? `${table} ${rule[1]}` : table, line);
  }
  return [...sections.values()].filter((s) => s.lines.some((l) => l.trim() !== ''));
}
