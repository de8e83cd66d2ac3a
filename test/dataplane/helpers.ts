import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import YAML from 'yaml';
import { convertBootstrap, parseBootstrap, type ProxyConfig } from '../../src/dataplane/config/bootstrap.js';
import { readRenderedFiles } from '../../src/dataplane/config/discovery.js';
import { Proxy } from '../../src/dataplane/server.js';
import type { ResolvedMesh } from '../../src/model/types.js';
import { render } from '../../src/render.js';
import type { EmitOptions } from '../../src/emitters/types.js';
import { closedPort } from '../support/processes.js';

export type Obj = Record<string, any>;

/** Envoy's own example bootstraps (test/fixtures/envoy-examples/README.md says where from). */
const EXAMPLES = path.join(import.meta.dirname, '..', 'fixtures', 'envoy-examples');

/** The text of one of Envoy's example bootstraps. */
export function envoyExample(file: string): string {
  return fs.readFileSync(path.join(EXAMPLES, file), 'utf8');
}

/**
 * Points every listener and the admin endpoint at port 0 on 127.0.0.1 (the OS picks: boundPorts
 * reads them back once started) and every endpoint at the test backend.
 */
export function localize(text: string, backendPort: number): { boot: Obj } {
  const boot = YAML.parse(text) as Obj;
  for (const l of boot.static_resources.listeners)
    l.address.socket_address = { ...l.address.socket_address, address: '127.0.0.1', port_value: 0 };
  for (const c of boot.static_resources.clusters)
    for (const e of c.load_assignment.endpoints)
      for (const lb of e.lb_endpoints)
        lb.endpoint.address.socket_address = { address: '127.0.0.1', port_value: backendPort };
  if (boot.admin) boot.admin.address.socket_address = { address: '127.0.0.1', port_value: 0 };
  return { boot };
}

/** The ports a started proxy's listeners are bound to, in the order of its configuration. */
export function boundPorts(p: Proxy): number[] {
  return p.listeners().map((l) => l.port);
}

export const ROUTER = {
  name: 'envoy.filters.http.router',
  typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' },
};
const HCM =
  'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';

export function cluster(name: string, ports: number[], extra: Obj = {}): Obj {
  return {
    name,
    type: 'STATIC',
    connect_timeout: '0.5s',
    load_assignment: {
      cluster_name: name,
      endpoints: [
        {
          lb_endpoints: ports.map((p) => ({
            endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: p } } },
          })),
        },
      ],
    },
    ...extra,
  };
}

/**
 * A bootstrap with one HTTP listener named http on port (0: the OS picks, p.listenerPort('http')
 * reads it), the given virtual hosts, filters and clusters; opts.admin adds the admin endpoint on
 * that port (0 likewise, p.adminPort).
 */
export function httpBootstrap(
  port: number,
  vhosts: Obj[],
  clusters: Obj[],
  opts: { filters?: Obj[]; hcm?: Obj; admin?: number } = {},
): Obj {
  return {
    node: { id: 'test', cluster: 'test' },
    ...(opts.admin !== undefined
      ? { admin: { address: { socket_address: { address: '127.0.0.1', port_value: opts.admin } } } }
      : {}),
    static_resources: {
      listeners: [
        {
          name: 'http',
          address: { socket_address: { address: '127.0.0.1', port_value: port } },
          filter_chains: [
            {
              filters: [
                {
                  name: 'envoy.filters.network.http_connection_manager',
                  typed_config: {
                    '@type': HCM,
                    stat_prefix: 'ingress',
                    route_config: { name: 'local', virtual_hosts: vhosts },
                    http_filters: [...(opts.filters ?? []), ROUTER],
                    ...(opts.hcm ?? {}),
                  },
                },
              ],
            },
          ],
        },
      ],
      clusters,
    },
  };
}

export async function startProxy(bootstrap: Obj): Promise<Proxy> {
  const r = convertBootstrap(bootstrap);
  if (!r.config) throw new Error(r.errors.map((e) => `${e.path}: ${e.message}`).join('\n'));
  const p = new Proxy(r.config, { drainTimeS: 1 });
  await p.start();
  return p;
}

/** One file the envoy target renders for mesh (`gateway.yaml`, `sidecar-<backend>.yaml`, …). */
export function emittedFile(mesh: ResolvedMesh, path: string, options: EmitOptions = {}) {
  return emittedFiles(mesh, path, options).file;
}

/** That file and every file of the render (a sidecar reads the shared discovery files). */
function emittedFiles(mesh: ResolvedMesh, path: string, options: EmitOptions) {
  const result = render(mesh, { ...options, targets: ['envoy'] });
  const files = result.outputs[0]!.files;
  const file = files.find((f) => f.path === path);
  if (!file) {
    const errors = result.diagnostics.filter((d) => d.severity === 'error');
    throw new Error(
      `the envoy target wrote no ${path}${errors.map((d) => `\n${d.code} ${d.pointer ?? ''}: ${d.message}`).join('')}`,
    );
  }
  return { file, files };
}

/** That file as meshgen proxy reads it (an error listing what it refuses otherwise). */
export function emittedConfig(mesh: ResolvedMesh, path: string, options: EmitOptions = {}): ProxyConfig {
  const { file, files } = emittedFiles(mesh, path, options);
  // the sidecars' outbound side: the shared discovery files, read as rendered
  const r = parseBootstrap(file.contents, file.path, { readDiscovery: readRenderedFiles(files) });
  if (!r.config) throw new Error(r.errors.map((e) => `${e.path}: ${e.message}`).join('\n'));
  return r.config;
}

/**
 * meshgen proxy running the gateway the envoy target renders for mesh, with its listeners and admin
 * endpoint moved to port 0 (the envoy target writes the mesh's ports, 1-65535): p.listenerPort(
 * <frontend name>) and p.adminPort read the ports the OS picked.
 */
export async function startEmittedGateway(mesh: ResolvedMesh): Promise<Proxy> {
  const config = emittedConfig(mesh, 'gateway.yaml');
  const anyPort = <T extends { address: { host: string; port: number } }>(x: T): T => ({
    ...x,
    address: { ...x.address, port: 0 },
  });
  for (const l of config.listeners)
    if (l.chains.some((c) => c.destinationPort !== undefined))
      throw new Error(`listener ${l.name} matches its own port: it cannot move to port 0`);
  const p = new Proxy(
    { ...config, listeners: config.listeners.map(anyPort), admin: config.admin && anyPort(config.admin) },
    { drainTimeS: 1 },
  );
  await p.start();
  return p;
}

export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** One request on its own connection (no pooling between test requests). */
export async function request(
  port: number,
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Reply> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method: init.method ?? 'GET',
    headers: { connection: 'close', ...(init.headers ?? {}) },
    body: init.body,
    redirect: 'manual',
  });
  return { status: res.status, headers: Object.fromEntries(res.headers), body: await res.text() };
}

/** Sends raw bytes and returns everything the server wrote until it closed (bounded). */
export function raw(port: number, bytes: string, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let out = '';
    const t = setTimeout(() => {
      s.destroy();
      resolve(out);
    }, timeoutMs);
    s.on('data', (d) => (out += d.toString('latin1')));
    s.on('error', () => {});
    s.on('close', () => {
      clearTimeout(t);
      resolve(out);
    });
    s.write(bytes);
  });
}

export { closedPort };
