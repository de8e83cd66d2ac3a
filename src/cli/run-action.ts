import type { MeshResult } from '../model/load.js';
import { hasErrors, sortDiagnostics } from '../model/diagnostics.js';
import { render } from '../render.js';
import { parseBootstrap, type ProxyConfig } from '../dataplane/config/bootstrap.js';
import { readRenderedFiles } from '../dataplane/config/discovery.js';
import { Proxy } from '../dataplane/server.js';
import { serveUntilStopped } from './serve.js';
import { colours, formatDiagnostic } from './format.js';
import { parseSettings } from './settings.js';
import { checkSettings } from '../emitters/settings.js';
import { envoy } from '../emitters/envoy/index.js';
import { etcdOptions, loadEither, unreadableInput, wantsTls, type SourceCliOptions } from './source.js';

export interface RunCliOptions extends SourceCliOptions {
  as: string;
  set: string[];
  drainTime: string;
  watch: boolean;
}

/** A configuration, or why not; `unreadable`: the mesh could not be read as named (exit 2). */
type Built = { config: ProxyConfig } | { error: string; unreadable?: boolean };

/**
 * Loads the mesh, renders it to envoy in memory and converts the bootstrap of `name`: a backend's
 * sidecar, or the gateway reduced to the frontend's listener and its own clusters.
 */
async function buildFor(
  load: () => Promise<MeshResult>,
  file: string,
  name: string,
  settings: Record<string, string>,
): Promise<Built> {
  const loaded = await load();
  const c = colours(process.stderr);
  const shown = sortDiagnostics(loaded.diagnostics).filter((d) => d.severity === 'error');
  for (const d of shown) process.stderr.write(formatDiagnostic(d, loaded.source, c) + '\n');
  if (!loaded.mesh || hasErrors(loaded.diagnostics))
    return { error: `${file} has errors`, unreadable: unreadableInput(loaded.diagnostics) };
  const mesh = loaded.mesh;
  const frontend = mesh.frontends.find((f) => f.name === name);
  const backend = mesh.backends.find((b) => b.name === name);
  if (!frontend && !backend) {
    const names = [...mesh.frontends, ...mesh.backends].map((x) => x.name).join(', ');
    return { error: `no frontend or backend named "${name}" in ${file} (there are: ${names})` };
  }
  if (frontend && backend)
    return { error: `"${name}" names both a frontend and a backend; rename one of them` };
  // only the bootstrap that runs: a backend's own sidecar, or none beside the gateway
  const result = render(mesh, {
    targets: ['envoy'],
    format: 'json',
    settings: { ...settings, sidecars: backend ? name : '' },
  });
  const errors = result.diagnostics.filter((d) => d.severity === 'error');
  for (const d of errors) process.stderr.write(formatDiagnostic(d, loaded.source, c) + '\n');
  if (errors.length) return { error: 'the envoy target reported errors' };
  const wanted = frontend ? 'gateway.json' : `sidecar-${name}.json`;
  const files = result.outputs[0]?.files ?? [];
  const out = files.find((f) => f.path === wanted);
  if (!out) return { error: `the envoy target wrote no ${wanted}` };
  let text = out.contents;
  if (frontend) {
    // the gateway holds every frontend: keep this one's listener and its own clusters
    const boot = JSON.parse(text) as {
      static_resources: { listeners: { name: string }[]; clusters: { name: string }[] };
    };
    const sr = boot.static_resources;
    sr.listeners = sr.listeners.filter((l) => l.name === name);
    sr.clusters = sr.clusters.filter((cl) => cl.name.startsWith(`${name}|`));
    text = JSON.stringify(boot);
  }
  // a sidecar's outbound listeners and clusters: the shared discovery files, read as rendered
  const r = parseBootstrap(text, wanted, { readDiscovery: readRenderedFiles(files) });
  if (!r.config) return { error: r.errors.map((e) => `${wanted}: ${e.path}: ${e.message}`).join('\n') };
  return { config: r.config };
}

/**
 * With `--source etcd://...`: calls `changed` (debounced) on every put or delete under the prefix,
 * and after a lost watch connection; returns how to stop watching. A file source needs none.
 */
async function watchStore(opts: RunCliOptions, changed: () => void): Promise<(() => void) | undefined> {
  const { parseSource } = await import('../live/source.js');
  const { connectEtcd } = await import('../live/etcd.js');
  const source = parseSource(opts.source!, { tls: wantsTls(opts) });
  if ('code' in source || source.kind !== 'etcd') return undefined;
  const client = connectEtcd(source, etcdOptions(opts));
  if ('code' in client) return undefined;
  let timer: NodeJS.Timeout | undefined;
  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(changed, 100);
  };
  const w = await client
    .watch()
    .prefix(`${source.prefix}/`)
    .create()
    .catch((e: unknown) => {
      process.stderr.write(`meshgen run: cannot watch ${opts.source}: ${(e as Error)?.message ?? e}\n`);
      return undefined;
    });
  w?.on('put', schedule);
  w?.on('delete', schedule);
  let connections = 0;
  w?.on('connected', () => connections++ > 0 && schedule());
  w?.on('error', (e) => process.stderr.write(`meshgen run: etcd watch: ${e.message}\n`));
  return () => {
    clearTimeout(timer);
    void (w?.cancel() ?? Promise.resolve()).catch(() => undefined).then(() => client.close());
  };
}

/** Runs `meshgen run`; resolves with the exit code once stopped (SIGTERM/SIGINT). */
export async function runCommand(fileArg: string | undefined, opts: RunCliOptions): Promise<number> {
  const file = opts.source ?? fileArg ?? '';
  const load = () => loadEither(fileArg, opts);
  const settings = parseSettings(opts.set);
  if (typeof settings === 'string') {
    process.stderr.write(`meshgen run: ${settings}\n`);
    return 2;
  }
  // the envoy target's settings, checked before the mesh is read (`sidecars` is the run's own)
  const refused = checkSettings([envoy], [envoy], settings);
  if (refused.length || 'sidecars' in settings) {
    const c = colours(process.stderr);
    for (const d of refused) process.stderr.write(formatDiagnostic(d, undefined, c) + '\n');
    if ('sidecars' in settings)
      process.stderr.write('meshgen run: --set sidecars: --as chooses the sidecar\n');
    return 2;
  }
  const first = await buildFor(load, file, opts.as, settings);
  if ('error' in first) {
    process.stderr.write(`meshgen run: ${first.error}\n`);
    // as validate and render: a mesh that cannot be read as named is a usage error
    return first.unreadable ? 2 : 1;
  }
  const drainTimeS = Number.isFinite(Number(opts.drainTime)) ? Number(opts.drainTime) : 5;
  const proxy = new Proxy(first.config, { drainTimeS, log: (l) => process.stderr.write(`${l}\n`) });
  try {
    await proxy.start();
  } catch (e) {
    process.stderr.write(`meshgen run: cannot start: ${(e as Error).message}\n`);
    await proxy.stop().catch(() => {});
    return 1;
  }
  const ports = proxy
    .listeners()
    .map((l) => `${l.host}:${l.port}`)
    .join(', ');
  process.stderr.write(`meshgen run: serving ${opts.as} from ${file} on ${ports}\n`);
  const store = opts.source !== undefined && opts.watch;
  await serveUntilStopped(proxy, {
    name: 'meshgen run',
    file,
    watch: Boolean(opts.watch) && opts.source === undefined,
    triggers: store ? (reload) => watchStore(opts, reload) : undefined,
    reloaded: `re-rendered ${file} and reloaded`,
    async next() {
      const next = await buildFor(load, file, opts.as, settings);
      if (!('error' in next)) return next.config;
      process.stderr.write(`meshgen run: ${next.error}; still serving the previous configuration\n`);
      return undefined;
    },
  });
  return 0;
}
