import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import { convertBootstrap, loadBootstrap, parseBootstrap } from '../../../src/dataplane/config/bootstrap.js';
import { sourcePointer } from '../../../src/dataplane/config/diagnostics.js';
import { cluster, httpBootstrap, type Obj } from '../helpers.js';

const vh = (routes: Obj[]) => [{ name: 'v', domains: ['*'], routes }];
const base = () =>
  httpBootstrap(10000, vh([{ match: { prefix: '/' }, route: { cluster: 'a' } }]), [cluster('a', [8080])]);
const HCM = '/static_resources/listeners/0/filter_chains/0/filters/0/typed_config';

/** code, pointer and the message after the path, of each diagnostic. */
const brief = (r: { diagnostics: { code: string; pointer?: string; message: string }[] }) =>
  r.diagnostics.map((d) => [d.code, d.pointer, d.message.replace(`${d.pointer}: `, '')]);

describe('bootstrap diagnostics: every step in one pass', () => {
  it("reports Envoy's API errors and what is not implemented together, each with its code and pointer", () => {
    const b = base();
    b.static_resources.clusters[0].conect_timeout = '1s'; // not in Envoy's API
    b.static_resources.clusters[0].lb_policy = 'RING_HASHH'; // no such enum value
    b.static_resources.clusters[0].upstream_connection_options = {}; // Envoy's, not implemented
    b.layered_runtime = { layers: [] }; // Envoy's, not implemented
    const r = convertBootstrap(b);
    expect(r.config).toBeUndefined();
    expect(brief(r)).toEqual([
      ['MG5002', '/static_resources/clusters/0/conect_timeout', expect.stringMatching(/^unknown field/)],
      [
        'MG5002',
        '/static_resources/clusters/0/lb_policy',
        expect.stringMatching(/^unknown enum value RING_HASHH/),
      ],
      [
        'MG5003',
        '/static_resources/clusters/0/upstream_connection_options',
        'field upstream_connection_options of envoy.config.cluster.v3.Cluster is not implemented by meshgen proxy',
      ],
      [
        'MG5003',
        '/layered_runtime',
        'field layered_runtime of envoy.config.bootstrap.v3.Bootstrap is not implemented by meshgen proxy',
      ],
    ]);
    expect(r.diagnostics.every((d) => d.severity === 'error')).toBe(true);
    // the path leads the message, as in Envoy's errors
    expect(r.diagnostics[0]!.message).toBe(
      '/static_resources/clusters/0/conect_timeout: unknown field "conect_timeout" in envoy.config.cluster.v3.Cluster',
    );
    expect(r.errors.map((e) => e.path)).toEqual(r.diagnostics.map((d) => d.pointer));
  });

  it('reports a value refused by both checks once, as not in the API', () => {
    const b = base();
    b.static_resources.clusters[0].lb_policy = 'MAGLEVV';
    expect(brief(convertBootstrap(b)).map(([code, p]) => [code, p])).toEqual([
      ['MG5002', '/static_resources/clusters/0/lb_policy'],
    ]);
  });

  it("reports the conversion's errors beside what is not implemented, leaving out what a field left out explains", () => {
    const b = httpBootstrap(
      10000,
      vh([
        { match: { prefix: '/a' }, route: { cluster: 'nope' } },
        // a mirror naming its cluster in a header: without cluster_header it names none
        {
          match: { prefix: '/' },
          route: { cluster: 'a', request_mirror_policies: [{ cluster_header: 'x' }] },
        },
      ]),
      [cluster('a', [1]), cluster('a', [2])],
    );
    b.static_resources.clusters[1].upstream_connection_options = {};
    const r = convertBootstrap(b);
    expect(r.config).toBeUndefined();
    const routes = `${HCM}/route_config/virtual_hosts/0/routes`;
    expect(brief(r)).toEqual([
      ['MG5003', `${routes}/1/route/request_mirror_policies/0/cluster_header`, expect.any(String)],
      ['MG5003', '/static_resources/clusters/1/upstream_connection_options', expect.any(String)],
      ['MG5004', `${routes}/0/route`, "route: unknown cluster 'nope'"],
    ]);
  });

  it('converts nothing when the API check fails (the conversion assumes its types)', () => {
    const b = httpBootstrap(10000, vh([{ match: { prefix: '/' }, route: { cluster: 'nope' } }]), [
      cluster('a', [1]),
    ]);
    b.static_resources.clusters[0].connect_timeout = 'soon';
    expect(brief(convertBootstrap(b)).map(([code]) => code)).toEqual(['MG5002']);
  });

  it("gives Envoy's warnings as MG5005 and still converts", () => {
    const b = base();
    b.static_resources.clusters[0].lb_policy = 'round_robin';
    const r = convertBootstrap(b);
    expect(r.config).toBeDefined();
    expect(r.diagnostics).toEqual([
      expect.objectContaining({
        code: 'MG5005',
        severity: 'warning',
        pointer: '/static_resources/clusters/0/lb_policy',
      }),
    ]);
  });
});

describe('bootstrap diagnostics: bad input', () => {
  /** Every path to every value of v. */
  const paths = (v: unknown, at: (string | number)[] = []): (string | number)[][] => [
    at,
    ...(Array.isArray(v)
      ? v.flatMap((x, i) => paths(x, [...at, i]))
      : v !== null && typeof v === 'object'
        ? Object.entries(v).flatMap(([k, x]) => paths(x, [...at, k]))
        : []),
  ];
  const OTHERS = [null, 5, 'x', [], {}, [null], [5], true, { '@type': 'x' }, undefined];

  it('never throws: any value replaced by one of another type, or removed, gives a config or a diagnostic', () => {
    const good = () =>
      structuredClone(
        httpBootstrap(
          0,
          vh([{ match: { prefix: '/' }, route: { cluster: 'a', retry_policy: { retry_on: '5xx' } } }]),
          [cluster('a', [1], { health_checks: [{ timeout: '1s', interval: '1s', tcp_health_check: {} }] })],
          { admin: 0 },
        ),
      );
    let cases = 0;
    for (const p of paths(good()).slice(1))
      for (const other of OTHERS) {
        const b = good();
        const parent = p.slice(0, -1).reduce((o: Obj, k) => o[k], b);
        const last = p.at(-1)!;
        if (other === undefined && Array.isArray(parent)) parent.splice(Number(last), 1);
        else if (other === undefined) delete parent[last];
        else parent[last] = structuredClone(other);
        const r = convertBootstrap(b);
        expect(
          r.config !== undefined || r.diagnostics.length > 0,
          `${p.join('/')} = ${JSON.stringify(other)}`,
        ).toBe(true);
        cases++;
      }
    expect(cases).toBeGreaterThan(500);
  });
});

describe('bootstrap diagnostics: located in the text', () => {
  const yaml = (b: Obj) => YAML.stringify(b, { indentSeq: false });

  it('points an unknown or unimplemented field at its key, a bad value at the value', () => {
    const b = base();
    b.static_resources.clusters[0].conect_timeout = '1s';
    b.static_resources.clusters[0].upstream_connection_options = {};
    b.static_resources.clusters[0].lb_policy = 'MAGLEV';
    const text = yaml(b);
    const r = parseBootstrap(text, 'b.yaml');
    const lines = text.split('\n');
    const at = (d: (typeof r.diagnostics)[number]) =>
      lines[d.line! - 1]!.slice(d.column! - 1, d.endLine === d.line ? d.endColumn! - 1 : undefined);
    const byLine = [...r.diagnostics].sort((x, y) => x.line! - y.line!);
    expect(byLine.map((d) => [d.code, d.file, at(d)])).toEqual([
      ['MG5002', 'b.yaml', 'conect_timeout'],
      ['MG5003', 'b.yaml', 'upstream_connection_options'],
      ['MG5003', 'b.yaml', 'MAGLEV'],
    ]);
    expect(r.source?.text).toBe(text);
  });

  it("points the conversion's errors into a camelCase document and at a repeated field given one value", () => {
    const text = `staticResources:
  clusters:
  - name: a
    connectTimeout: 1s
  - name: a
    connectTimeout: 1s
`;
    const r = parseBootstrap(text, 'c.yaml');
    expect(r.diagnostics).toEqual([
      expect.objectContaining({
        code: 'MG5004',
        pointer: '/staticResources/clusters/1/name',
        message: '/staticResources/clusters/1/name: duplicate cluster name a',
        line: 5,
        column: 11,
      }),
    ]);
    expect(sourcePointer({ a_b: { c: 1 } }, '/a_b/0/c')).toBe('/a_b/c');
    expect(sourcePointer({ aB: [{ 'x/y': 1 }] }, '/a_b/0/x/y')).toBe('/aB/0/x~1y');
  });

  it('reports every YAML syntax error, each at its line and column', () => {
    const r = parseBootstrap('node: { id: a, id: b }\nstatic_resources:\n  clusters: [\n', 'bad.yaml');
    expect(r.config).toBeUndefined();
    expect(r.diagnostics.length).toBeGreaterThanOrEqual(2);
    expect(r.diagnostics.every((d) => d.code === 'MG5001' && d.file === 'bad.yaml')).toBe(true);
    expect(r.diagnostics[0]).toMatchObject({ line: 1, column: 16, message: expect.stringMatching(/unique/) });
    // the unclosed bracket: just after it, not on the empty line at the end
    expect(r.diagnostics[1]).toMatchObject({ line: 3, column: 14 });
    expect(r.errors.map((e) => e.message)[0]).toMatch(/^bad\.yaml:1:16: /);
  });

  it('says so for a file of several YAML documents, and for one that is not text', async () => {
    const two = parseBootstrap('node: {}\n---\nnode: {}\n', 'two.yaml');
    expect(two.diagnostics).toEqual([
      expect.objectContaining({
        code: 'MG5001',
        message: 'syntax error: the file holds more than one YAML document; a bootstrap is one',
        line: 2,
      }),
    ]);
    const bin = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'meshgen-bin-')), 'b.yaml');
    fs.writeFileSync(bin, Buffer.from([0x6e, 0x3a, 0x20, 0xff, 0xfe, 0x00, 0x0a]));
    const r = await loadBootstrap(bin);
    expect(r.config).toBeUndefined();
    expect(r.diagnostics).toEqual([
      expect.objectContaining({
        code: 'MG5001',
        message: 'the file is not UTF-8 text (YAML or JSON)',
        line: 1,
      }),
    ]);
    expect(r.source).toBeUndefined();
  });

  it('reports a file that cannot be read as MG4001', async () => {
    const missing = path.join(os.tmpdir(), `meshgen-none-${process.pid}.yaml`);
    expect(fs.existsSync(missing)).toBe(false);
    const r = await loadBootstrap(missing);
    expect(r.diagnostics).toEqual([
      expect.objectContaining({
        code: 'MG4001',
        file: missing,
        message: expect.stringContaining('cannot read'),
      }),
    ]);
  });
});
