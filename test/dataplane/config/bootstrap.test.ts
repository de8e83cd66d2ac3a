import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { convertBootstrap, parseBootstrap } from '../../../src/dataplane/config/bootstrap.js';
import { main } from '../../../src/cli.js';
import { cluster, httpBootstrap, type Obj } from '../helpers.js';

const vh = (routes: Obj[]) => [{ name: 'v', domains: ['*'], routes }];
const base = () =>
  httpBootstrap(10000, vh([{ match: { prefix: '/' }, route: { cluster: 'a' } }]), [cluster('a', [8080])]);

describe('bootstrap conversion', () => {
  it('accepts a minimal bootstrap and converts it', () => {
    const r = convertBootstrap(base());
    expect(r.errors).toEqual([]);
    const l = r.config!.listeners[0]!;
    expect(l.address).toEqual({ host: '127.0.0.1', port: 10000 });
    expect(l.chains[0]!.network.kind).toBe('http');
    expect(r.config!.clusters[0]!.connectTimeoutMs).toBe(500);
  });

  it('rejects an unknown field with its path (as Envoy does)', () => {
    const b = base();
    b.static_resources.clusters[0].conect_timeout = '1s';
    const r = convertBootstrap(b);
    expect(r.config).toBeUndefined();
    expect(r.errors).toContainEqual({
      path: '/static_resources/clusters/0/conect_timeout',
      message: expect.stringContaining('unknown field'),
    });
  });

  it('rejects a field Envoy knows but the proxy does not implement, naming path and message type', () => {
    const b = base();
    b.static_resources.clusters[0].upstream_connection_options = {};
    const r = convertBootstrap(b);
    expect(r.errors).toEqual([
      {
        path: '/static_resources/clusters/0/upstream_connection_options',
        message:
          'field upstream_connection_options of envoy.config.cluster.v3.Cluster is not implemented by meshgen proxy',
      },
    ]);
  });

  it('rejects an unimplemented filter by its @type and an unimplemented enum value', () => {
    const b = base();
    b.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters.unshift({
      name: 'envoy.filters.http.grpc_web',
      typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.grpc_web.v3.GrpcWeb' },
    });
    b.static_resources.clusters[0].lb_policy = 'MAGLEV';
    const r = convertBootstrap(b);
    const paths = r.errors.map((e) => e.path);
    expect(paths).toContain(
      '/static_resources/listeners/0/filter_chains/0/filters/0/typed_config/http_filters/0/typed_config/@type',
    );
    expect(r.errors.find((e) => e.path === '/static_resources/clusters/0/lb_policy')?.message).toMatch(
      /MAGLEV .* not implemented/,
    );
  });

  it('rejects a route to a cluster that does not exist', () => {
    const b = httpBootstrap(10000, vh([{ match: { prefix: '/' }, route: { cluster: 'nope' } }]), [
      cluster('a', [8080]),
    ]);
    expect(convertBootstrap(b).errors[0]!.message).toMatch(/unknown cluster 'nope'/);
  });

  it('reads camelCase JSON names and YAML', () => {
    const r = parseBootstrap(`
staticResources:
  clusters:
  - name: a
    connectTimeout: 2s
    loadAssignment: { clusterName: a, endpoints: [{ lbEndpoints: [{ endpoint: { address: { socketAddress: { address: 127.0.0.1, portValue: 1 } } } }] }] }
`);
    expect(r.errors).toEqual([]);
    expect(r.config!.clusters[0]!.connectTimeoutMs).toBe(2000);
  });

  it('reports YAML syntax errors as data', () => {
    const r = parseBootstrap('static_resources: [', 'x.yaml');
    expect(r.config).toBeUndefined();
    expect(r.errors[0]!.message).toMatch(/x\.yaml/);
  });

  it('defaults as Envoy: route timeout 15s, one retry when a retry policy is present', () => {
    const b = httpBootstrap(
      10000,
      vh([{ match: { prefix: '/' }, route: { cluster: 'a', retry_policy: { retry_on: '5xx' } } }]),
      [cluster('a', [1])],
    );
    const c = convertBootstrap(b).config!;
    const hcm =
      c.listeners[0]!.chains[0]!.network.kind === 'http' ? c.listeners[0]!.chains[0]!.network.hcm : undefined;
    const a = hcm!.routes.vhosts[0]!.routes[0]!.action;
    expect(a.kind === 'route' && a.timeoutMs).toBe(15_000);
    expect(a.kind === 'route' && a.retry?.numRetries).toBe(1);
  });
});

describe('meshgen proxy --mode validate', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshgen-validate-'));
  const run = async (name: string, text: string) => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, text);
    const writes: string[] = [];
    const orig = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((s: string) => (writes.push(String(s)), true)) as typeof process.stderr.write;
    try {
      const code = await main(['node', 'meshgen', 'proxy', '-c', f, '--mode', 'validate']);
      return { code, err: writes.join('') };
    } finally {
      process.stderr.write = orig;
      process.exitCode = 0;
    }
  };

  it('exits 0 for a valid bootstrap', async () => {
    const r = await run('ok.json', JSON.stringify(base()));
    expect(r).toEqual({ code: 0, err: expect.stringContaining('OK') });
  });

  it('exits 1 and names the field for an unimplemented one, without a stack trace', async () => {
    const b = base();
    b.layered_runtime = { layers: [] };
    const r = await run('bad.json', JSON.stringify(b));
    expect(r.code).toBe(1);
    expect(r.err).toContain(
      '/layered_runtime: field layered_runtime of envoy.config.bootstrap.v3.Bootstrap is not implemented by meshgen proxy',
    );
    expect(r.err).not.toMatch(/\n\s+at /);
  });
});
