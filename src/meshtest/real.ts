/**
 * The runnable targets: HAProxy and NGINX as processes, the Envoy bootstraps in the bundled data
 * plane (in this process). Each target gets its own stub backends and, per entry point (the
 * frontends, or one caller's outbound side), its own rendering of the mesh on free ports of
 * 127.0.0.1, with every endpoint pointed at a stub.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseBootstrap } from '../dataplane/config/bootstrap.js';
import { readRenderedFiles } from '../dataplane/config/discovery.js';
import { Proxy } from '../dataplane/server.js';
import { callersUseTls } from '../emitters/envoy/tls.js';
import type { OutputFile } from '../emitters/types.js';
import type { Diagnostic } from '../model/diagnostics.js';
import { normalizeMesh } from '../model/normalize.js';
import type { MeshDocument, ResolvedBackend, ResolvedMesh } from '../model/types.js';
import { render } from '../render.js';
import { upstreamMtls } from '../smartstack/index.js';
import { forInstalled } from './installed.js';
import { freePorts, startOnFreePorts, startProcess, type Started } from './processes.js';
import { startStub, StubState, type Stub } from './stubs.js';

/** The targets `meshgen test` runs for real. */
export const RUNNABLE = ['haproxy', 'nginx', 'apache', 'envoy'] as const;

/** Rewrites a target's rendered files before it starts (seeded bugs, hand edits under test). */
export type PostProcess = (target: string, files: readonly OutputFile[]) => readonly OutputFile[];

/** Where one entry point of a started target listens. */
interface Instance {
  readonly frontendPorts: ReadonlyMap<string, number>;
  readonly backendPorts: ReadonlyMap<string, number>;
  /** The render's diagnostics (fidelity). */
  readonly diagnostics: readonly Diagnostic[];
}

export interface StartedTarget {
  readonly state: StubState;
  readonly certDir: string;
  /** By entry: '' for the frontends, else the caller's name. */
  readonly instances: ReadonlyMap<string, Instance>;
  stop(): Promise<void>;
}

interface Context {
  readonly target: string;
  readonly document: MeshDocument;
  readonly mesh: ResolvedMesh;
  /** Folder holding the certificates `meshgen certs` would write for the mesh. */
  readonly certDir: string;
  readonly workDir: string;
  readonly entries: readonly string[];
  readonly postProcess?: PostProcess;
}

/** Whether a target's calls to a backend's endpoints are TLS, and where its endpoints are reached. */
function endpointPlan(target: string, b: ResolvedBackend): { tlsStub: boolean; host: string } {
  // Envoy: callers speak mTLS to the backend's sidecar, whose inbound listener (access rules) runs
  // here on 127.0.0.2 in front of the plain stub, on the stub's port (the stand-in for interception).
  if (target === 'envoy') return { tlsStub: false, host: callersUseTls(b) ? '127.0.0.2' : '127.0.0.1' };
  return { tlsStub: upstreamMtls(b), host: '127.0.0.1' };
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The mesh document with its listeners on the given ports and its endpoints at the stubs. */
function localize(
  ctx: Context,
  ports: readonly number[],
  endpoints: ReadonlyMap<string, string[]>,
): { document: MeshDocument; frontendPorts: Map<string, number>; backendPorts: Map<string, number> } {
  const d = structuredClone(ctx.document) as Json;
  const frontendPorts = new Map<string, number>();
  const backendPorts = new Map<string, number>();
  let i = 0;
  for (const f of (d.spec.frontends ?? []) as Json[]) {
    f.address = '127.0.0.1';
    f.port = ports[i++];
    frontendPorts.set(f.name as string, f.port as number);
    if (f.tls)
      for (const k of ['certificate', 'key', 'clientCa'])
        if (typeof f.tls[k] === 'string')
          f.tls[k] = path.join(ctx.certDir, path.posix.basename(f.tls[k] as string));
  }
  for (const b of d.spec.backends as Json[]) {
    b.port = ports[i++];
    backendPorts.set(b.name as string, b.port as number);
    for (const v of b.versions as Json[]) v.endpoints = endpoints.get(`${b.name}/${v.name}`);
  }
  return { document: d as MeshDocument, frontendPorts, backendPorts };
}

function renderFor(ctx: Context, document: MeshDocument, settings: Record<string, string>) {
  const mesh = normalizeMesh(document);
  const result = render(mesh, { targets: [ctx.target], settings: forInstalled(ctx.target, settings) });
  const errors = result.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length)
    throw new Error(
      `${ctx.target} cannot render the mesh: ${errors.map((e) => `${e.code} ${e.message}`).join('; ')}`,
    );
  let files = result.outputs[0]?.files ?? [];
  if (ctx.postProcess) files = ctx.postProcess(ctx.target, files);
  return { files, diagnostics: result.diagnostics };
}

function writeFiles(dir: string, files: readonly OutputFile[]): void {
  for (const f of files) {
    const file = path.join(dir, f.path);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, f.contents);
  }
}

/** A bootstrap of the rendered files, read by the data plane; fails with its errors. */
function bootstrap(files: readonly OutputFile[], name: string) {
  const file = files.find((f) => f.path === name);
  if (!file) throw new Error(`the envoy render has no ${name}`);
  const r = parseBootstrap(file.contents, name, { readDiscovery: readRenderedFiles(files) });
  if (!r.config) throw new Error(`${name}: ${r.errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`);
  return r.config;
}

/** Starts HAProxy, NGINX or httpd in the foreground on the files rendered into dir. */
function startProxy(target: string, dir: string, workDir: string): Started {
  if (target === 'haproxy')
    return startProcess('haproxy', ['-db', '-f', path.join(dir, 'haproxy.cfg')], { cwd: dir });
  if (target === 'apache') {
    // run as root, httpd's children take an unprivileged uid and read draw.map: they may pass through
    // the folders (0711), not list them; the parent reads the certificates
    for (const d of [workDir, dir]) fs.chmodSync(d, 0o711);
    return startProcess('apache2', ['-d', dir, '-f', path.join(dir, 'httpd.conf'), '-DFOREGROUND'], {
      cwd: dir,
    });
  }
  return startProcess('nginx', ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-g', 'daemon off;'], {
    cwd: dir,
  });
}

/** Whether the listener at this port index (frontends, then backends) is one the target opens. */
function listens(ctx: Context, index: number): boolean {
  if (ctx.target !== 'apache') return true;
  const f = ctx.mesh.frontends[index];
  if (f) return f.protocol === 'http' || f.protocol === 'https';
  return ctx.mesh.backends[index - ctx.mesh.frontends.length]?.protocol !== 'tcp';
}

const IN_USE = /EADDRINUSE|address already in use/i;

/** Starts a target's stubs and one proxy per entry point; stop() stops everything by pid or handle. */
export async function startTarget(ctx: Context): Promise<StartedTarget> {
  const state = new StubState();
  const stubs: Stub[] = [];
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    await Promise.all(stops.map((s) => s().catch(() => undefined)));
    await Promise.all(stubs.map((s) => s.close()));
  };
  try {
    const endpoints = new Map<string, string[]>();
    const read = (f: string) => fs.readFileSync(path.join(ctx.certDir, f), 'utf8');
    const ca = read('ca.crt');
    for (const b of ctx.mesh.backends) {
      const plan = endpointPlan(ctx.target, b);
      const tls = plan.tlsStub ? { ca, cert: read(`${b.name}.crt`), key: read(`${b.name}.key`) } : undefined;
      for (const v of b.versions) {
        const list: string[] = [];
        for (let n = 0; n < Math.max(1, v.endpoints.length); n++) {
          const stub = await startStub(state, b.name, v.name, tls);
          stubs.push(stub);
          list.push(`${plan.host}:${stub.port}`);
        }
        endpoints.set(`${b.name}/${v.name}`, list);
      }
    }
    const count = ctx.mesh.frontends.length + ctx.mesh.backends.length;
    const instances = new Map<string, Instance>();
    let n = 0;
    for (const entry of ctx.entries) {
      const dir = path.join(ctx.workDir, `${ctx.target}-${n++}`);
      fs.mkdirSync(dir, { recursive: true });
      let instance: Instance | undefined;
      if (ctx.target === 'envoy') {
        for (let attempt = 1; !instance; attempt++) {
          const ports = await freePorts(count + 2);
          const local = localize(ctx, ports, endpoints);
          const { files, diagnostics } = renderFor(ctx, local.document, {
            certDir: ctx.certDir,
            adminPort: String(ports[count]),
            inboundPort: String(ports[count + 1]),
          });
          writeFiles(dir, files);
          const config = bootstrap(files, entry === '' ? 'gateway.yaml' : `sidecar-${entry}.yaml`);
          // the caller's own inbound side is not what its calls go through
          config.listeners = config.listeners.filter((l) => l.name !== 'inbound');
          delete config.admin;
          const proxy = new Proxy(config, { drainTimeS: 0 });
          try {
            await proxy.start();
          } catch (e) {
            await proxy.stop().catch(() => undefined);
            if (attempt < 3 && IN_USE.test(String(e))) continue;
            throw e;
          }
          stops.push(() => proxy.stop());
          instance = { ...local, diagnostics };
          if (n === 1) await startInbound(ctx, files, stops);
        }
      } else {
        let local: ReturnType<typeof localize> | undefined;
        let diagnostics: readonly Diagnostic[] = [];
        const { proc } = await startOnFreePorts(
          count,
          (ports): Started => {
            local = localize(ctx, ports, endpoints);
            const rendered = renderFor(ctx, local.document, {
              certDir: ctx.certDir,
              ...(entry === '' ? {} : { identity: entry }),
            });
            diagnostics = rendered.diagnostics;
            writeFiles(dir, rendered.files);
            return startProxy(ctx.target, dir, ctx.workDir);
          },
          { ready: (ports) => ports.filter((_, i) => listens(ctx, i)) },
        );
        stops.push(() => proc.stop());
        instance = { ...local!, diagnostics };
      }
      instances.set(entry, instance);
    }
    return { state, certDir: ctx.certDir, instances, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/**
 * Envoy: each backend's sidecar inbound listener (mTLS, then the access rules) in front of its stubs.
 * The emitted listener expects interception to restore the port a caller dialled; here it listens
 * on 127.0.0.2 at each endpoint's port, so the port a connection arrives on is that port, and it
 * forwards to the stub on 127.0.0.1 at the same port, as it would to the app.
 */
async function startInbound(
  ctx: Context,
  files: readonly OutputFile[],
  stops: (() => Promise<void>)[],
): Promise<void> {
  for (const b of ctx.mesh.backends) {
    if (!callersUseTls(b)) continue;
    const config = bootstrap(files, `sidecar-${b.name}.yaml`);
    const inbound = config.listeners.find((l) => l.name === 'inbound');
    if (!inbound) continue;
    const ports = new Set<number>();
    for (const c of inbound.chains) if (c.destinationPort !== undefined) ports.add(c.destinationPort);
    config.listeners = [...ports].map((port) => ({
      ...inbound,
      name: `inbound|${port}`,
      address: { ...inbound.address, host: '127.0.0.2', port },
    }));
    delete config.admin;
    const proxy = new Proxy(config, { drainTimeS: 0 });
    await proxy.start();
    stops.push(() => proxy.stop());
  }
}
