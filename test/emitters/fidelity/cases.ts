/**
 * Seeded cases for the fidelity property test: header names and values, hosts, paths and regexes
 * drawn from the alphabets the mesh schema allows (RFC 9110 tokens for names; visible characters,
 * spaces, tabs and non-ASCII for values; RFC 3986 path characters; DNS names), each
 * with the request that must reach its route. Many cases share one mesh (one route each), so that a
 * real proxy checks and serves a batch per start.
 */
import yaml from 'js-yaml';
import { escapeRegex } from '../../../src/model/regex.js';

const TCHAR = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-.^_`|~";
/** Characters that the targets' syntaxes give a meaning to, drawn more often than the others. */
const SYNTAX = [
  '%',
  '$',
  '"',
  '\\',
  ';',
  '{',
  '}',
  '#',
  "'",
  '`',
  '(',
  ')',
  ',',
  '=',
  '*',
  '[',
  ']',
  '&',
  '|',
];
const VISIBLE = Array.from({ length: 94 }, (_, i) => String.fromCharCode(33 + i)).join('');
const NON_ASCII = ['é', 'ü', '€', '日', '本', 'ß', 'ñ', '\u00a0', '😀'];
const FRAGMENTS = [
  '%%',
  '%[src]',
  '%{+Q}o',
  '$host',
  '${VAR}',
  '$1',
  '%START_TIME%',
  '%s',
  '\\"',
  '; ',
  '# x',
  '{}',
];
const PCHAR = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@";
const LOWER = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** Request headers no case may name: the proxies and HTTP itself give them a meaning. */
const RESERVED = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'upgrade',
  'expect',
  'via',
  'forwarded',
  'cookie',
  'x-request-id',
]);

export interface Case {
  readonly id: number;
  /** The request must carry this header (exact value) to match. */
  readonly match: { readonly name: string; readonly value: string };
  /** The route sets this request header; the backend must receive exactly this value. */
  readonly set: { readonly name: string; readonly value: string };
  /** The route's host (its frontend serves every host), or none. */
  readonly host?: string;
  readonly path: { readonly kind: 'exact' | 'prefix' | 'regex'; readonly value: string };
  /** The path the request is sent to. */
  readonly sample: string;
}

type Rand = () => number;

function pick<T = string>(rand: Rand, list: readonly T[] | string): T {
  return list[Math.floor(rand() * list.length)] as T;
}

function run(rand: Rand, min: number, max: number, draw: () => string): string {
  const n = min + Math.floor(rand() * (max - min + 1));
  let s = '';
  for (let i = 0; i < n; i++) s += draw();
  return s;
}

function token(rand: Rand): string {
  for (;;) {
    const name = `x${run(rand, 1, 12, () => (rand() < 0.3 ? pick(rand, ".!#$%&'*+^_`|~-") : pick(rand, TCHAR)))}`;
    if (!RESERVED.has(name.toLowerCase()) && !/^x-(forwarded|envoy|b3|real-ip)/i.test(name)) return name;
  }
}

/** A header value: no leading or trailing space or tab (the schema refuses them), maybe empty. */
function value(rand: Rand, allowEmpty: boolean): string {
  if (allowEmpty && rand() < 0.05) return '';
  const inner = run(rand, 0, 24, () => {
    const r = rand();
    if (r < 0.25) return pick(rand, SYNTAX);
    if (r < 0.35) return pick(rand, FRAGMENTS);
    if (r < 0.45) return pick(rand, NON_ASCII);
    if (r < 0.55) return pick(rand, [' ', ' ', '\t']);
    return pick(rand, VISIBLE);
  });
  const edge = () =>
    rand() < 0.3 ? pick(rand, SYNTAX) : rand() < 0.1 ? pick(rand, NON_ASCII) : pick(rand, VISIBLE);
  return inner.length ? `${edge()}${inner}${edge()}` : edge();
}

/**
 * A path segment of RFC 3986 path characters. No %XX escapes and no `.` or `..` segment: every target
 * normalizes the path before matching (Envoy's normalize_path and merge_slashes, NGINX's $uri,
 * HAProxy's refusal of ambiguous paths), so what a match path holding them means differs by design.
 */
function segment(rand: Rand): string {
  const s = run(rand, 1, 10, () => pick(rand, PCHAR));
  return /^\.+$/.test(s) ? `a${s}` : s;
}

/** A regex over path characters, with a path it matches: literal chunks escaped, and a few constructs. */
function regex(rand: Rand): { pattern: string; sample: string } {
  // a letter first, so that the sample's segment is never `.` or `..`
  let pattern = 'z';
  let sample = 'z';
  const parts = 1 + Math.floor(rand() * 4);
  for (let i = 0; i < parts; i++) {
    const r = rand();
    if (r < 0.45) {
      const lit = run(rand, 1, 6, () => pick(rand, PCHAR));
      pattern += escapeRegex(lit);
      sample += lit;
    } else {
      const [p, s] = pick(rand, [
        ['[a-z]+', 'abc'],
        ['\\d{2,3}', '42'],
        ['(foo|bar)', 'bar'],
        ['[^/]*', 'seg'],
        ['\\.', '.'],
        ['(?:a|b)?', ''],
        ['[$+*]', '$'],
        ['.', '~'],
        ['x{0,2}', 'xx'],
      ] as const);
      pattern += p;
      sample += s;
    }
  }
  return { pattern, sample };
}

function host(rand: Rand): string {
  const label = () => {
    const inner = run(rand, 0, 8, () => (rand() < 0.1 ? '-' : pick(rand, LOWER)));
    return `${pick(rand, LOWER)}${inner}${inner ? pick(rand, LOWER) : ''}`;
  };
  const name = run(rand, 2, 4, () => `${label()}.`).slice(0, -1);
  return rand() < 0.2 ? `*.${name}` : name;
}

/** `count` cases from the generator. */
export function makeCases(rand: Rand, count: number, first = 0): Case[] {
  const out: Case[] = [];
  for (let id = first; id < first + count; id++) {
    const base = `/c${id}/`;
    const kind = pick(rand, ['exact', 'prefix', 'regex'] as const);
    let path: Case['path'];
    let sample: string;
    if (kind === 'regex') {
      const r = regex(rand);
      path = { kind, value: `${escapeRegex(base)}${r.pattern}` };
      sample = base + r.sample;
    } else {
      const p = base + run(rand, 1, 3, () => `${segment(rand)}/`).slice(0, -1);
      path = { kind, value: p };
      sample = kind === 'exact' ? p : `${p}tail`;
    }
    const h = rand() < 0.3 ? host(rand) : undefined;
    out.push({
      id,
      match: { name: token(rand), value: value(rand, false) },
      set: { name: token(rand), value: value(rand, true) },
      host: h,
      path,
      sample,
    });
  }
  return out;
}

/** The Host a request for a case carries: its host, with a label for a wildcard. */
export function requestHost(c: Case): string {
  return c.host ? c.host.replace(/^\*\./, 'w.') : 'any.example';
}

/** The mesh of a batch: one backend, one frontend serving every host, one route per case. */
export function batchMesh(
  cases: readonly Case[],
  endpoint: string,
  ports: { frontend: number; backend: number },
): string {
  return yaml.dump(
    {
      apiVersion: 'meshgen.io/v1alpha1',
      kind: 'Mesh',
      metadata: { name: 'fidelity' },
      spec: {
        namespace: 'fidelity',
        mtls: { mode: 'disabled' },
        backends: [{ name: 'echo', port: ports.backend, versions: [{ name: 'v1', endpoints: [endpoint] }] }],
        frontends: [{ name: 'web', address: '127.0.0.1', port: ports.frontend, protocol: 'http' }],
        routes: cases.map((c) => ({
          name: `r${c.id}`,
          parent: { frontend: 'web', ...(c.host ? { hosts: [c.host] } : {}) },
          match: [
            { path: { [c.path.kind]: c.path.value }, headers: { [c.match.name]: { exact: c.match.value } } },
          ],
          to: [{ backend: 'echo' }],
          headers: { request: { set: { [c.set.name]: c.set.value } } },
        })),
      },
    },
    { lineWidth: -1 },
  );
}
