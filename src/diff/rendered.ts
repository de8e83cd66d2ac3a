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
  for (const target of targetNames(targets)) yield diffTarget(a, b, target);
}

/** The targets a rendered diff covers, in order: the registry's for `all`. */
export function targetNames(targets: readonly string[] | 'all'): string[] {
  return [...new Set(targets === 'all' ? emitters.map((e) => e.target) : targets)];
}

/** Renders both meshes to one target and compares the output. */
export function diffTarget(a: ResolvedMesh, b: ResolvedMesh, target: string): TargetDiff {
  const before = render(a, { targets: [target] });
  const after = render(b, { targets: [target] });
  const errors = {
    before: before.diagnostics.filter((d) => d.severity === 'error'),
    after: after.diagnostics.filter((d) => d.severity === 'error'),
  };
  if (errors.before.length || errors.after.length) return { target, changes: [], errors };
  return {
    target,
    changes: diffFiles(before.outputs[0]?.files ?? [], after.outputs[0]?.files ?? [], target),
  };
}

/**
 * Compares two renders of a target object by object. A file with the same contents on both sides
 * holds the same objects, so only the files that differ are split.
 */
export function diffFiles(
  before: readonly OutputFile[],
  after: readonly OutputFile[],
  target?: string,
): ObjectChange[] {
  const old = new Map(before.map((f) => [f.path, f]));
  const out: ObjectChange[] = [];
  const add = (changes: readonly ObjectChange[]) => {
    for (const c of changes) out.push(c);
  };
  for (const file of after) {
    const was = old.get(file.path);
    old.delete(file.path);
    if (was?.contents === file.contents) continue;
    add(diffObjects(was ? splitFile(was, target) : [], splitFile(file, target)));
  }
  for (const was of old.values()) add(diffObjects(splitFile(was, target), []));
  return out.sort(byFileAndObject);
}

const byFileAndObject = (x: ObjectChange, y: ObjectChange) =>
  byString(x.file, y.file) || byString(x.object, y.object);

/**
 * Compares objects matched by file and name. Objects listed in the same order on both sides (the
 * usual case) are compared in step, without a lookup; from the first that differs in name on, they
 * are matched by name.
 */
export function diffObjects(
  before: readonly RenderedObject[],
  after: readonly RenderedObject[],
): ObjectChange[] {
  const out: ObjectChange[] = [];
  const changed = (was: RenderedObject, o: RenderedObject) => {
    if (was.text !== o.text)
      out.push({
        status: 'changed',
        file: o.file,
        object: o.object,
        diff: unifiedDiff(was.text, o.text, o.file),
      });
  };
  let same = 0;
  for (const n = Math.min(before.length, after.length); same < n; same++) {
    const was = before[same]!;
    const o = after[same]!;
    if (was.object !== o.object || was.file !== o.file) break;
    changed(was, o);
  }
  const key = (o: RenderedObject) => `${o.file}\0${o.object}`;
  const old = new Map(before.slice(same).map((o) => [key(o), o]));
  const now = new Map(after.slice(same).map((o) => [key(o), o]));
  for (const [k, o] of old) if (!now.has(k)) out.push({ status: 'removed', file: o.file, object: o.object });
  for (const [k, o] of now) {
    const was = old.get(k);
    if (!was) out.push({ status: 'added', file: o.file, object: o.object });
    else changed(was, o);
  }
  return out.sort(byFileAndObject);
}

export function splitFiles(files: readonly OutputFile[], target?: string): RenderedObject[] {
  return files.flatMap((f) => splitFile(f, target));
}

/**
 * Splits one output file into objects, by the format its target writes: YAML documents by their
 * Kubernetes kind and name, Envoy discovery files by resource (`cluster X`, `listener Y`,
 * `route_config Z`), an Envoy bootstrap into its listeners and clusters, a Traefik dynamic
 * configuration into its routers, services, middlewares and transports, haproxy.cfg by section
 * (`frontend x`, `backend y`), httpd configs by `<VirtualHost>` and `<Proxy>` section,
 * iptables-restore files by table and chain, brace-structured configs (NGINX, nft) by block;
 * anything else stays one object. Without a target, the format is told from the file's name and
 * contents.
 *
 * YAML is cut at the entries of the text as meshgen's writer lays it out (block style, two spaces a
 * level), without parsing it: an object's text is its lines as the file has them. A YAML document
 * laid out otherwise, and JSON, are parsed and their objects re-serialised.
 */
export function splitFile(file: OutputFile, target?: string): RenderedObject[] {
  const path = file.path;
  const text = file.contents;
  if (path.endsWith('.json')) return splitParsed(path, [text]);
  if (/\.ya?ml$/.test(path)) return splitYaml(path, text);
  const base = path.slice(path.lastIndexOf('/') + 1);
  const format = (target && TARGET_FORMATS[target]?.(base)) || sniff(base, text);
  switch (format) {
    case 'haproxy':
      return lineSections(path, text, haproxySections);
    case 'iptables':
      return lineSections(path, text, iptablesSections);
    case 'httpd':
      return lineSections(path, text, httpdSections);
    case 'brace':
      return lineSections(path, text, braceSections);
    default:
      return [{ file: path, object: path, text }];
  }
}

function lineSections(
  path: string,
  text: string,
  sections: (lines: string[]) => Section[],
): RenderedObject[] {
  const lines = text.split('\n');
  return named(path, text, lines, sections(lines));
}

type TextFormat = 'haproxy' | 'iptables' | 'httpd' | 'brace' | 'whole';

/** The format of each file a target writes (other than YAML and JSON), by its name. */
const TARGET_FORMATS: Record<string, (base: string) => TextFormat> = {
  haproxy: (base) => (base.endsWith('.cfg') ? 'haproxy' : 'whole'),
  nginx: (base) => (base.endsWith('.conf') ? 'brace' : 'whole'),
  apache: (base) => (base.endsWith('.conf') ? 'httpd' : 'whole'),
  iptables: (base) => (base.endsWith('.nft') ? 'brace' : base.endsWith('.iptables') ? 'iptables' : 'whole'),
};

/** The format of a file of no known target, from its name and contents. */
function sniff(base: string, text: string): TextFormat {
  if (base === 'haproxy.cfg') return 'haproxy';
  if (/^\*\w+$/m.test(text) && /^COMMIT$/m.test(text)) return 'iptables';
  if (/^<(VirtualHost|Proxy)\b[^>]*>$/m.test(text)) return 'httpd';
  if (/[{}]\s*$/m.test(text)) return 'brace';
  // sections that start at a line without indentation, as haproxy.cfg's
  if (/^\s+\S/m.test(text)) return 'haproxy';
  return 'whole';
}

/** A section of a text file: its lines, by index, in order. */
interface Section {
  name: string;
  lines: number[];
}

/**
 * The objects of a text file's sections, each its lines as the file has them (runs of consecutive
 * lines are slices of the file's text), named `name #2`... when a name repeats.
 */
function named(file: string, text: string, lines: string[], sections: Section[]): RenderedObject[] {
  const starts = new Array<number>(lines.length);
  for (let i = 0, at = 0; i < lines.length; i++) {
    starts[i] = at;
    at += lines[i]!.length + 1;
  }
  const upTo = (i: number) => Math.min(starts[i]! + lines[i]!.length + 1, text.length);
  const seen = new Map<string, number>();
  return sections.map((s) => {
    const n = (seen.get(s.name) ?? 0) + 1;
    seen.set(s.name, n);
    let body = '';
    for (let k = 0; k < s.lines.length;) {
      const from = s.lines[k]!;
      let to = from;
      while (k + 1 < s.lines.length && s.lines[k + 1] === to + 1) to = s.lines[++k]!;
      k++;
      body += text.slice(starts[from]!, upTo(to));
    }
    return { file, object: n > 1 ? `${s.name} #${n}` : s.name, text: body };
  });
}

/** Names objects that share a name `name #2`, `name #3`... in order. */
function numbered(objects: RenderedObject[]): RenderedObject[] {
  const seen = new Map<string, number>();
  return objects.map((o) => {
    const n = (seen.get(o.object) ?? 0) + 1;
    seen.set(o.object, n);
    return n > 1 ? { ...o, object: `${o.object} #${n}` } : o;
  });
}

/** A run of a text's lines: [start, end) in characters. */
interface Span {
  readonly start: number;
  readonly end: number;
}

/** An entry of a block mapping or sequence: its lines, and where its first line ends. */
interface Entry extends Span {
  readonly lineEnd: number;
}

/** A line at column 0 of a document the writer laid out: `key:` or `key: value`, the key plain or quoted. */
const TOP_KEY =
  /^(?:"(?:[^"\\\n]|\\.)*"|'(?:[^'\n]|'')*'|[^\s#'"{}[\],&*!|>%@`?:-][^\n]*?|-\S[^\n]*?):(?: |$)/;

/**
 * The entries at one indentation within a span: the lines that start with exactly `indent` spaces
 * and then a key or `- ` (not a comment), each entry running to the next. Undefined when a line at
 * column 0 is not a `key:` (text the writer did not lay out).
 */
function entries(text: string, span: Span, indent: number): Entry[] | undefined {
  const starts: number[] = [];
  const pad = ' '.repeat(indent);
  for (let pos = span.start; pos < span.end;) {
    const end = lineEnd(text, pos, span.end);
    const c = text.charCodeAt(pos + indent);
    // exactly `indent` spaces, then neither a space, a comment nor the line's end
    if (
      pos + indent < end &&
      c !== 32 &&
      c !== 35 &&
      (indent === 0 || (text.charCodeAt(pos + indent - 1) === 32 && text.startsWith(pad, pos)))
    ) {
      if (indent === 0 && !TOP_KEY.test(text.slice(pos, end))) return undefined;
      starts.push(pos);
    }
    pos = end + 1;
  }
  return starts.map((start, i) => ({
    start,
    end: i + 1 < starts.length ? starts[i + 1]! : span.end,
    lineEnd: lineEnd(text, start, span.end),
  }));
}

function lineEnd(text: string, from: number, limit: number): number {
  const nl = text.indexOf('\n', from);
  return nl < 0 || nl > limit ? limit : nl;
}

/** An entry's first line, without its indentation and `- `. */
function firstLine(text: string, e: Entry): string {
  return text.slice(e.start, e.lineEnd).trimStart().replace(/^- /, '');
}

/** The key of an entry's first line (`key:` or `key: value`), unquoted. */
function keyOf(line: string): string {
  const c = line.charCodeAt(0);
  if (c !== 34 && c !== 39) {
    const colon = line.indexOf(': ');
    return (colon < 0 ? line.replace(/:\s*$/, '') : line.slice(0, colon)).trim();
  }
  // a quoted key: read by js-yaml, as a one-key mapping
  const close = c === 34 ? /^"(?:[^"\\]|\\.)*"/.exec(line) : /^'(?:[^']|'')*'/.exec(line);
  const k = close ? scalar(close[0]) : line;
  return k;
}

/** The value of a `key: value` line, unquoted (js-yaml reads a quoted one: it is small). */
function valueOf(line: string): string {
  const c = line.charCodeAt(0);
  const close = c === 34 ? /^"(?:[^"\\]|\\.)*"/.exec(line) : c === 39 ? /^'(?:[^']|'')*'/.exec(line) : null;
  const after = close ? close[0].length : 0;
  const colon = line.indexOf(': ', after);
  return colon < 0 ? '' : scalar(line.slice(colon + 2));
}

function scalar(written: string): string {
  const v = written.trim();
  const c = v.charCodeAt(0);
  if (c !== 34 && c !== 39) return v;
  try {
    const s: unknown = jsyaml.load(v);
    return typeof s === 'string' ? s : v;
  } catch {
    return v;
  }
}

/**
 * The value of the one-line `name: value` of a mapping entry whose keys sit at `indent` (the
 * entry's own line counts when it is `- name: value`); undefined when there is none.
 */
function field(text: string, e: Entry, indent: number, name: string): string | undefined {
  const first = firstLine(text, e);
  if (first.startsWith(`${name}: `)) return valueOf(first);
  const needle = `\n${' '.repeat(indent)}${name}: `;
  const at = text.indexOf(needle, e.start);
  if (at < 0 || at >= e.end) return undefined;
  return valueOf(text.slice(at + 1 + indent, lineEnd(text, at + 1, e.end)));
}

/** The YAML documents of a text, split at `---` lines. */
function documents(text: string): Span[] {
  if (!text.startsWith('---') && !text.includes('\n---')) return [{ start: 0, end: text.length }];
  const out: Span[] = [];
  const re = /^---[ \t]*(?:\n|$)/gm;
  let start = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    out.push({ start, end: m.index });
    start = m.index + m[0].length;
  }
  out.push({ start, end: text.length });
  return out.filter((d) => text.slice(d.start, d.end).trim() !== '');
}

function splitYaml(file: string, text: string): RenderedObject[] {
  const docs = documents(text);
  if (docs.length === 1) return splitDocument(file, text, docs[0]!, file);
  return numbered(docs.flatMap((doc, i) => splitDocument(file, text, doc, `${file} document ${i + 1}`)));
}

/**
 * One YAML document's objects. Their names are unique: a mapping's keys are, and so are the names of
 * Envoy resources of a type; a bootstrap's are numbered.
 */
function splitDocument(file: string, text: string, doc: Span, whole: string): RenderedObject[] {
  return cutDocument(file, text, doc, whole) ?? parsedDocument(file, text.slice(doc.start, doc.end), whole);
}

/**
 * One YAML document as the writer lays it out, cut into its objects; undefined when it is not laid
 * out so (then it is parsed).
 */
function cutDocument(file: string, text: string, doc: Span, whole: string): RenderedObject[] | undefined {
  const top = entries(text, doc, 0);
  if (!top) return undefined;
  const keys = new Map(top.map((e) => [keyOf(firstLine(text, e)), e]));
  const piece = (object: string, s: Span): RenderedObject => ({
    file,
    object,
    text: text.slice(s.start, s.end),
  });
  const all = piece(whole, doc);
  const kind = keys.get('kind');
  const metadata = keys.get('metadata');
  if (kind && metadata) {
    const k = valueOf(firstLine(text, kind));
    const meta = entries(text, { start: metadata.lineEnd, end: metadata.end }, 2);
    if (!k || !meta?.length) return undefined;
    const fields = new Map(meta.map((e) => [keyOf(firstLine(text, e)), e]));
    const name = fields.get('name');
    const ns = fields.get('namespace');
    if (!name) return undefined;
    const n = valueOf(firstLine(text, name));
    return [{ ...all, object: `${k} ${ns ? `${valueOf(firstLine(text, ns))}/` : ''}${n}` }];
  }
  const resources = keys.get('resources');
  if (resources && keys.size === 1) return discoveryResources(file, text, resources);
  const bootstrap = keys.get('static_resources');
  if (bootstrap) return bootstrapResources(file, text, doc, bootstrap);
  if ([...keys.keys()].every((k) => TRAEFIK_SECTIONS.has(k))) return traefikItems(file, text, keys);
  return [all];
}

/**
 * An Envoy discovery file (`resources:` and a list of resources, as xDS serves them): each
 * resource by its type and name (`cluster X`, `listener Y`, `route_config Z`).
 */
function discoveryResources(file: string, text: string, resources: Entry): RenderedObject[] | undefined {
  const items = entries(text, { start: resources.lineEnd + 1, end: resources.end }, 2);
  if (!items) return undefined;
  const out: RenderedObject[] = [];
  for (const item of items) {
    if (!text.startsWith('- ', item.start + 2)) return undefined;
    const type = field(text, item, 4, '"@type"') ?? field(text, item, 4, "'@type'") ?? '';
    const name = field(text, item, 4, 'name') ?? `#${out.length + 1}`;
    out.push({ file, object: `${resourceKind(type)} ${name}`, text: text.slice(item.start, item.end) });
  }
  return out;
}

/** `cluster` for `type.googleapis.com/envoy.config.cluster.v3.Cluster`, `route_config`... */
function resourceKind(type: string): string {
  const last = type.slice(type.lastIndexOf('.') + 1);
  if (!last) return 'resource';
  const snake = last.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
  return snake.replace(/route_configuration$/, 'route_config');
}

/** An Envoy bootstrap: each static listener and cluster by name, and the rest as `bootstrap`. */
function bootstrapResources(
  file: string,
  text: string,
  doc: Span,
  resources: Entry,
): RenderedObject[] | undefined {
  const sections = entries(text, { start: resources.lineEnd + 1, end: resources.end }, 2);
  if (!sections) return undefined;
  const out: RenderedObject[] = [];
  const cut: Span[] = [];
  for (const s of sections) {
    const key = keyOf(firstLine(text, s));
    if (key !== 'listeners' && key !== 'clusters') continue;
    const items = entries(text, { start: s.lineEnd + 1, end: s.end }, 4);
    if (!items) return undefined;
    for (const item of items) {
      if (!text.startsWith('- ', item.start + 4)) return undefined;
      const name = field(text, item, 6, 'name') ?? `#${out.length + 1}`;
      out.push({ file, object: `${key.slice(0, -1)} ${name}`, text: text.slice(item.start, item.end) });
      cut.push(item);
    }
  }
  let rest = '';
  let at = doc.start;
  for (const c of cut) {
    rest += text.slice(at, c.start);
    at = c.end;
  }
  rest += text.slice(at, doc.end);
  return numbered([{ file, object: 'bootstrap', text: rest }, ...out]);
}

const TRAEFIK_SECTIONS = new Set(['http', 'tcp', 'udp', 'tls']);

/**
 * A Traefik file-provider dynamic configuration (only `http`, `tcp`, `udp` and `tls` at the top):
 * each router, service, middleware and transport by name; `tls` whole.
 */
function traefikItems(file: string, text: string, keys: Map<string, Entry>): RenderedObject[] | undefined {
  const out: RenderedObject[] = [];
  for (const [protocol, section] of keys) {
    if (protocol === 'tls') {
      out.push({ file, object: 'tls', text: text.slice(section.start, section.end) });
      continue;
    }
    const kinds = entries(text, { start: section.lineEnd + 1, end: section.end }, 2);
    if (!kinds) return undefined;
    for (const k of kinds) {
      const kind = keyOf(firstLine(text, k)).replace(/s$/, '');
      const items = entries(text, { start: k.lineEnd + 1, end: k.end }, 4);
      if (!items) return undefined;
      for (const item of items)
        out.push({
          file,
          object: `${protocol} ${kind} ${keyOf(firstLine(text, item))}`,
          text: text.slice(item.start, item.end),
        });
    }
  }
  return out;
}

/** JSON, and YAML the writer did not lay out: parsed, and its objects re-serialised. */
function splitParsed(file: string, docs: string[]): RenderedObject[] {
  return numbered(
    docs.flatMap((doc, i) => parsedDocument(file, doc, docs.length > 1 ? `${file} document ${i + 1}` : file)),
  );
}

function parsedDocument(file: string, doc: string, whole: string): RenderedObject[] {
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
    resources?: unknown;
  };
  if (v && typeof v.kind === 'string' && v.metadata && typeof v.metadata.name === 'string') {
    const ns = typeof v.metadata.namespace === 'string' ? `${v.metadata.namespace}/` : '';
    return [{ file, object: `${v.kind} ${ns}${v.metadata.name}`, text: doc }];
  }
  if (v && typeof v.static_resources === 'object' && v.static_resources)
    return bootstrapSections(file, v as Record<string, unknown>);
  if (v && Array.isArray(v.resources) && Object.keys(v).length === 1)
    return v.resources.map((r: { '@type'?: unknown; name?: unknown }, i) => ({
      file,
      object: `${resourceKind(typeof r?.['@type'] === 'string' ? r['@type'] : '')} ${typeof r?.name === 'string' ? r.name : `#${i + 1}`}`,
      text: toYaml(r),
    }));
  if (isTraefikDynamic(value)) return traefikSections(file, value);
  return [{ file, object: whole, text: doc }];
}

type Sections = Record<string, Record<string, unknown>>;

/** A Traefik file-provider dynamic configuration: only `http`, `tcp`, `udp` and `tls` at the top. */
function isTraefikDynamic(v: unknown): v is Record<string, Sections> {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return false;
  const keys = Object.keys(v);
  return keys.length > 0 && keys.every((k) => TRAEFIK_SECTIONS.has(k));
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
  return numbered(out);
}

/**
 * Brace blocks: each top-level block, and the blocks inside a top-level block that holds several
 * (`http { upstream a {…} server {…} }`), each with the comments and blank lines just above it.
 * Other lines outside blocks join the section before them; a container's own directives and its
 * closing brace are the container's section.
 */
function braceSections(lines: string[]): Section[] {
  const n = lines.length;
  // depth before each line, and whether the line opens a block (`... {`, maybe with a comment)
  const depth = new Int32Array(n);
  const opens = new Uint8Array(n);
  // top-level blocks that hold more than one block
  const containers = new Set<number>();
  let d = 0;
  let block = -1;
  let inner = 0;
  for (let i = 0; i < n; i++) {
    depth[i] = d;
    const line = lines[i]!;
    if (!line.includes('{') && !line.includes('}')) continue;
    // braces before a comment
    const hash = line.indexOf('#');
    const end = hash < 0 ? line.length : hash;
    for (let k = 0; k < end; k++) {
      const ch = line.charCodeAt(k);
      if (ch === 123) d++;
      else if (ch === 125) d--;
    }
    if (!(hash < 0 ? line.trimEnd().endsWith('{') : /\{\s*(#.*)?$/.test(line))) continue;
    opens[i] = 1;
    if (depth[i] === 0) {
      block = i;
      inner = 0;
    } else if (depth[i] === 1 && block >= 0 && ++inner === 2) containers.add(block);
  }
  const header = (i: number) => lines[i]!.replace(/\{\s*(#.*)?$/, '').trim();
  const sections: Section[] = [];
  let container: Section | undefined;
  let current: Section = { name: '(top)', lines: [] };
  sections.push(current);
  // comments and blank lines between sections, for the next one
  let pending: number[] = [];
  const between = (i: number) => depth[i] === 0 || (container !== undefined && depth[i] === 1);
  for (let i = 0; i < n; i++) {
    const line = lines[i]!;
    if (between(i) && !opens[i]) {
      const t = line.trimStart();
      if (t === '' || t.charCodeAt(0) === 35) {
        pending.push(i);
        continue;
      }
    }
    if (depth[i] === 0 && opens[i]) {
      current = { name: header(i), lines: pending };
      container = containers.has(i) ? current : undefined;
      sections.push(current);
    } else if (container && depth[i] === 1) {
      if (opens[i]) {
        // name a nameless block (`server {`) by its first directive
        let next = i + 1;
        while (next < n && lines[next]!.trim() === '') next++;
        const first = lines[next];
        const h = header(i);
        const name = h.includes(' ') ? h : `${h} ${first?.trim().replace(/;$/, '') ?? ''}`.trim();
        current = { name: `${container.name} > ${name}`, lines: pending };
        sections.push(current);
      } else {
        // the container's own directives and closing brace
        container.lines.push(...pending, i);
        pending = [];
        continue;
      }
    } else if (pending.length) current.lines.push(...pending);
    pending = [];
    current.lines.push(i);
  }
  current.lines.push(...pending);
  return sections.filter((s) => s.lines.some((k) => lines[k]!.trim() !== '' && lines[k]!.trim() !== '}'));
}

/**
 * httpd.conf: each top-level `<VirtualHost ...>` and `<Proxy ...>` section, named by its opening
 * tag, with the comments just above it; the directives outside them are `(top)`.
 */
function httpdSections(lines: string[]): Section[] {
  const top: Section = { name: '(top)', lines: [] };
  const sections = [top];
  let current = top;
  let depth = 0;
  let pending: number[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (depth > 0) {
      current.lines.push(i);
      // a tag that opens or closes a section, alone at the start of its line
      const lt = line.indexOf('<');
      if (lt < 0 || (lt > 0 && line.slice(0, lt).trim() !== '')) continue;
      const c = line.charCodeAt(lt + 1);
      if (c === 47 /* / */) depth--;
      else if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122)) depth++;
      continue;
    }
    const open = line.charCodeAt(0) === 60 ? /^<([A-Za-z]+)\s*([^>]*)>\s*$/.exec(line) : null;
    if (open) {
      current = { name: `${open[1]} ${open[2]}`.trim(), lines: [...pending, i] };
      pending = [];
      sections.push(current);
      depth = 1;
    } else if (/^\s*(#|$)/.test(line)) pending.push(i);
    else {
      top.lines.push(...pending, i);
      pending = [];
    }
  }
  top.lines.push(...pending);
  return sections.filter((s) => s.lines.some((k) => lines[k]!.trim() !== '' && !lines[k]!.startsWith('#')));
}

/**
 * haproxy.cfg: each section (`global`, `defaults`, `frontend x`, `backend y`...) from its keyword
 * line at column 0, with the comments and blank lines just above it; lines before the first are
 * `(top)`.
 */
function haproxySections(lines: string[]): Section[] {
  const sections: Section[] = [];
  let current: Section = { name: '(top)', lines: [] };
  sections.push(current);
  let pending: number[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const c = line.charCodeAt(0);
    const indented = c === 32 || c === 9;
    if (c === 35 /* # */ || line.trim() === '') pending.push(i);
    else if (indented) {
      current.lines.push(...pending, i);
      pending = [];
    } else {
      current = { name: line.trim(), lines: [...pending, i] };
      sections.push(current);
      pending = [];
    }
  }
  current.lines.push(...pending);
  return sections.filter((s) =>
    s.lines.some((k) => lines[k]!.trim() !== '' && !lines[k]!.trimStart().startsWith('#')),
  );
}

/**
 * iptables-restore input: per table its header (`*nat`, chain declarations, COMMIT), and the rules
 * of each chain (`-A CHAIN ...`) as one section `<table> <chain>`.
 */
function iptablesSections(lines: string[]): Section[] {
  const sections = new Map<string, Section>();
  const add = (name: string, i: number) => {
    let s = sections.get(name);
    if (!s) sections.set(name, (s = { name, lines: [] }));
    s.lines.push(i);
  };
  let table = '(top)';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const t = /^\*(\w+)$/.exec(line);
    if (t) table = t[1]!;
    const rule = /^-[AI]\s+(\S+)/.exec(line);
    add(rule ? `${table} ${rule[1]}` : table, i);
  }
  return [...sections.values()].filter((s) => s.lines.some((k) => lines[k]!.trim() !== ''));
}
