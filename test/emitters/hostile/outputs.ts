/**
 * Renders a mesh to every target and reduces each output to what a target's parser would see,
 * so a mesh holding hostile strings can be compared with the same mesh holding benign ones.
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import yaml from 'js-yaml';
import { issueCertificates } from '../../../src/certs/issue.js';
import { pemPath } from '../../../src/smartstack/certs.js';
import { render } from '../../../src/render.js';
import type { ResolvedMesh } from '../../../src/model/types.js';
import {
  haproxySkeleton,
  hclSkeleton,
  lexHcl,
  lineSkeleton,
  nginxSkeleton,
} from '../../support/config-lexers.js';
import { forInstalled } from '../../support/installed.js';
import { parseRule, type Rule } from '../traefik/rule-interpreter.js';

/** The targets and settings rendered: Consul twice, as CRDs (the default) and as HCL. */
const RENDERS: readonly { name: string; target: string; settings?: Record<string, string> }[] = [
  { name: 'haproxy', target: 'haproxy' },
  { name: 'nginx', target: 'nginx' },
  { name: 'envoy', target: 'envoy' },
  { name: 'consul', target: 'consul' },
  { name: 'consul-hcl', target: 'consul', settings: { consulFormat: 'hcl' } },
  { name: 'istio', target: 'istio' },
  { name: 'linkerd', target: 'linkerd' },
  { name: 'iptables', target: 'iptables' },
  { name: 'traefik', target: 'traefik' },
];

export interface Rendered {
  /** Render name -> files. */
  readonly files: ReadonlyMap<string, readonly { path: string; contents: string }[]>;
}

export function renderAll(mesh: ResolvedMesh): Rendered {
  const files = new Map<string, readonly { path: string; contents: string }[]>();
  for (const r of RENDERS) {
    const out = render(mesh, { targets: [r.target], settings: forInstalled(r.target, r.settings) });
    files.set(r.name, out.outputs[0]?.files ?? []);
  }
  return { files };
}

/** The routers' rules of a Traefik dynamic configuration, parsed as Traefik does. */
function traefikRules(contents: string): Rule[] {
  const config = yaml.load(contents) as Record<string, { routers?: Record<string, { rule: string }> }>;
  return Object.values(config ?? {}).flatMap((section) =>
    Object.values(section?.routers ?? {}).map((r) => parseRule(r.rule)),
  );
}

/** A rule's shape: its operators and matchers, with each argument's value left out. */
function ruleShape(r: Rule): string {
  // Header and HeaderRegexp (Query, QueryRegexp) are one shape: an empty expected value is a regexp
  if (r.op === 'call') return `${r.name.replace(/Regexp$/, '')}/${r.args.length}`;
  if (r.op === 'not') return `!${ruleShape(r.rule)}`;
  return `(${ruleShape(r.left)} ${r.op} ${ruleShape(r.right)})`;
}

function ruleArgs(r: Rule, out: string[]): string[] {
  if (r.op === 'call') out.push(...r.args);
  else if (r.op === 'not') ruleArgs(r.rule, out);
  else {
    ruleArgs(r.left, out);
    ruleArgs(r.right, out);
  }
  return out;
}

function skeletonOf(file: { path: string; contents: string }): string {
  if (file.path.endsWith('dynamic.yml')) {
    try {
      return traefikRules(file.contents).map(ruleShape).sort().join('\n');
    } catch (e) {
      return `(a rule Traefik refuses: ${(e as Error).message})`;
    }
  }
  if (file.path.endsWith('haproxy.cfg')) return haproxySkeleton(file.contents).join('\n');
  if (file.path.endsWith('nginx.conf')) return nginxSkeleton(file.contents).join('\n');
  if (file.path.endsWith('.hcl')) return hclSkeleton(file.contents).join(' ');
  if (/\.ya?ml$/.test(file.path) || file.path.endsWith('.json')) return '(structured)';
  return lineSkeleton(file.contents).join('\n');
}

function strings(v: unknown, out: string[] = []): string[] {
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) for (const x of v) strings(x, out);
  else if (v && typeof v === 'object')
    for (const [k, x] of Object.entries(v)) {
      out.push(k);
      strings(x, out);
    }
  return out;
}

/** Every string (keys too) of the structured files of a render: YAML documents and JSON. */
function structuredStrings(
  files: readonly { path: string; contents: string }[],
  problems: string[],
): string[] {
  const out: string[] = [];
  for (const f of files) {
    try {
      if (/\.ya?ml$/.test(f.path)) for (const d of yaml.loadAll(f.contents)) strings(d, out);
      // a Traefik rule holds the mesh's values as Go string literals: the values as Traefik reads them
      if (f.path.endsWith('dynamic.yml')) for (const r of traefikRules(f.contents)) ruleArgs(r, out);
      else if (f.path.endsWith('.json')) strings(JSON.parse(f.contents), out);
    } catch (e) {
      problems.push(`${f.path} does not load: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  return out;
}

/** A benign render is compared with many hostile ones: its loaded strings are read once. */
const benignCache = new WeakMap<readonly { path: string; contents: string }[], string[]>();
function benignStrings(files: readonly { path: string; contents: string }[]): string[] {
  let got = benignCache.get(files);
  if (!got) benignCache.set(files, (got = structuredStrings(files, [])));
  return got;
}

/**
 * What differs between a render of hostile values and one of benign values in the same places.
 * Per render: the same number of files; the same skeleton per file (as multisets: file names may
 * hold the values); no HCL template sequence in a string; every structured file loads; and where
 * the benign value appears verbatim in a loaded string, the hostile one does too.
 */
export function compareRenders(
  hostile: Rendered,
  benign: Rendered,
  values: readonly string[],
  benignValues: readonly string[],
): string[] {
  const problems: string[] = [];
  for (const { name } of RENDERS) {
    const h = hostile.files.get(name)!;
    const b = benign.files.get(name)!;
    for (const f of h)
      if (path.isAbsolute(f.path) || f.path.split('/').includes('..') || /[\0\n\r]/.test(f.path))
        problems.push(`${name}: file path ${JSON.stringify(f.path)} leaves the output folder`);
    if (h.length !== b.length) {
      problems.push(`${name}: ${h.length} files, benign ${b.length}`);
      continue;
    }
    const hs = h.map(skeletonOf).sort();
    const bs = b.map(skeletonOf).sort();
    for (let i = 0; i < hs.length; i++)
      if (hs[i] !== bs[i]) {
        problems.push(
          `${name}: parsed shape differs from the benign render:\n${firstDifference(hs[i]!, bs[i]!)}`,
        );
        break;
      }
    for (const f of h)
      if (f.path.endsWith('.hcl')) {
        try {
          for (const t of lexHcl(f.contents))
            if (t.templates) problems.push(`${name}: ${f.path}: template sequence in ${t.text}`);
        } catch (e) {
          problems.push(`${name}: ${f.path}: ${(e as Error).message}`);
        }
      }
    const hStrings = structuredStrings(h, problems);
    if (!hStrings.length) continue;
    const bStrings = benignStrings(b);
    const lower = hStrings.map((s) => s.toLowerCase());
    values.forEach((v, j) => {
      const bv = benignValues[j]!;
      if (bv.length < 4 || !bStrings.some((s) => s.includes(bv))) return;
      // header names are case-insensitive, match values may be written as a regex, Envoy writes
      // header values with % doubled, an access path's trailing * is a prefix, and a Go regexp
      // replacement (Traefik's path rewrite) doubles $: the value must appear in one of those forms
      const forms = [
        v,
        v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
        v.replace(/[^A-Za-z0-9]/g, '\\$&'),
        v.replace(/%/g, '%%'),
        v.replace(/\*+$/, ''),
        v.replace(/\$/g, '$$$$'),
      ].map((f) => f.toLowerCase());
      // a duration may be written in another unit (Traefik's `46620s` for `777m`)
      const ms = durationMs(v);
      if (ms !== undefined && hStrings.some((s) => durationMs(s) === ms)) return;
      if (!forms.some((f) => lower.some((s) => s.includes(f))))
        problems.push(`${name}: value ${JSON.stringify(v)} does not appear verbatim in the loaded YAML/JSON`);
    });
  }
  return problems;
}

function durationMs(s: string): number | undefined {
  const m = /^(\d+)(ms|s|m|h)$/.exec(s);
  return m ? Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms'] : undefined;
}

function firstDifference(a: string, b: string): string {
  const al = a.split('\n');
  const bl = b.split('\n');
  for (let i = 0; i < Math.max(al.length, bl.length); i++)
    if (al[i] !== bl[i])
      return `  line ${i + 1}: got ${JSON.stringify(al[i])}, benign ${JSON.stringify(bl[i])}`;
  return '  (same lines)';
}

let certCache: Map<string, string> | undefined;

/**
 * Writes a rendered proxy config into dir with the certificate files it names (any valid pair: the
 * config checks load them, they do not verify whose they are). Returns false when the mesh names a
 * certificate file outside dir, which is then not written.
 */
export async function writeForCheck(
  mesh: ResolvedMesh,
  files: readonly { path: string; contents: string }[],
  dir: string,
  sample: ResolvedMesh,
): Promise<boolean> {
  certCache ??= new Map((await issueCertificates(sample)).map((f) => [f.path, f.contents]));
  const crt = [...certCache.entries()].find(
    ([p]) => p.endsWith('.crt') && p !== 'ca.crt' && !p.includes('/'),
  )!;
  const key = certCache.get(crt[0].replace(/\.crt$/, '.key'))!;
  const ca = certCache.get('ca.crt')!;
  const write = (rel: string, contents: string): boolean => {
    const full = path.resolve(dir, rel);
    // a path that normalizes to another (a `..` or `.` segment) names another file than written
    if (
      !full.startsWith(dir + path.sep) ||
      full.includes('\0') ||
      rel.endsWith('/') ||
      path.posix.normalize(rel) !== rel
    )
      return false;
    try {
      fs.mkdirSync(path.dirname(full), { recursive: true });
      fs.writeFileSync(full, contents);
      return true;
    } catch {
      // one named file is another's folder (`a.pem` and `a.pem/b`): no config check for this one
      return false;
    }
  };
  for (const f of files) write(f.path, f.contents);
  write('certs/ca.crt', ca);
  let inside = true;
  const pair = (stem: string) => {
    write(`certs/${stem}.crt`, crt[1]);
    write(`certs/${stem}.key`, key);
    write(`certs/${stem}.pem`, crt[1] + key);
  };
  for (const b of mesh.backends) pair(b.name);
  for (const f of mesh.frontends) {
    pair(`frontends/${f.name}`);
    if (f.tls?.certificate) {
      inside = write(f.tls.certificate, crt[1]) && inside;
      inside = write(pemPath(f.tls.certificate), crt[1] + key) && inside;
    }
    if (f.tls?.key) inside = write(f.tls.key, key) && inside;
    if (f.tls?.clientCa) inside = write(f.tls.clientCa, ca) && inside;
  }
  return inside;
}

export function runCheck(target: 'haproxy' | 'nginx', dir: string): { ok: boolean; output: string } {
  const args =
    target === 'haproxy'
      ? ['haproxy', '-c', '-f', 'haproxy.cfg']
      : ['nginx', '-t', '-q', '-p', dir, '-c', path.join(dir, 'nginx.conf')];
  const r = spawnSync(args[0]!, args.slice(1), { cwd: dir, encoding: 'utf8' });
  const output = `${r.stdout}${r.stderr}`.trim();
  // nginx -t opens its listening sockets: an address this machine does not have is not a config error
  const unassignable = /bind\(\) to .* failed \(99: Cannot assign requested address\)/.test(output);
  return { ok: r.status === 0 || unassignable, output };
}
