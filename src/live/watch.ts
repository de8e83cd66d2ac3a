/**
 * `meshgen watch`, Synapse's and confd's job: on every change of the source (debounced), load the
 * mesh, render one proxy target, check the result with the proxy's own check, swap the output
 * folder in one rename and reload the proxy. A mesh that fails validation, rendering or the check
 * leaves the previous configuration serving; each outcome is counted in `<output>/metrics.prom`.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Etcd3, Watcher as EtcdWatcher } from 'etcd3';
import { spawn, type ChildProcess } from 'node:child_process';
import { diagnostic, hasErrors, type Diagnostic } from '../model/diagnostics.js';
import { loadMesh, type MeshResult } from '../model/load.js';
import { locateDiagnostics, type SourceFile } from '../model/source.js';
import type { ResolvedMesh } from '../model/types.js';
import { render } from '../render.js';
import { diffMeshes } from '../diff/differ.js';
import { describeChange } from '../diff/describe.js';
import { swapTargetOutputs } from '../cli/generations.js';
import { writeFilesAtomically } from '../cli/output.js';
import { connectEtcd, failedLoad, meshOfSnapshot, readStore, type EtcdOptions } from './etcd.js';
import { metricsText, type WatchMetrics } from './metrics.js';
import {
  checkCommand,
  readiness,
  reloadSignal,
  reloadWarnings,
  runCommand,
  runToEnd,
  type Command,
  type LiveTarget,
} from './proxies.js';
import type { MeshSource } from './source.js';
import { haproxySlots } from '../emitters/haproxy/index.js';
import { settingsFor } from '../emitters/settings.js';
import { planRuntime, runtimeCommands, slotStates, type SlotState } from './runtime.js';

/** How long a proxy `--run` started may take to say it serves (src/live/proxies.ts, readiness). */
const START_TIMEOUT_MS = 60_000;

/** The pid a pid file holds, or undefined while it is missing or being written. */
function readPid(file: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export interface WatchOptions {
  readonly source: MeshSource;
  readonly etcd: EtcdOptions;
  readonly target: LiveTarget;
  /** The output folder: `<output>/<target>` is the live configuration, `<output>/metrics.prom` the metrics. */
  readonly output: string;
  readonly settings: Readonly<Record<string, string>>;
  readonly debounceMs: number;
  /** The Envoy bootstrap the data plane checks and runs (`gateway.yaml`, `sidecar-<backend>.yaml`). */
  readonly bootstrap: string;
  /** A shell command run after each swap (with MESHGEN_OUTPUT and MESHGEN_GENERATION set). */
  readonly reloadCmd?: string;
  /** Start the proxy from the live folder and reload it by signal. */
  readonly run: boolean;
  /** How to run meshgen itself (the data plane's check and run). */
  readonly cli: Command;
  /** One line per event. */
  log(line: string): void;
  /** Diagnostics of a refused change, with the sources they point into. */
  report(diagnostics: readonly Diagnostic[], sources: ReadonlyMap<string, SourceFile>): void;
}

export interface LiveWatcher {
  /** Applies changes until stop(); resolves after the first generation was tried. */
  readonly ready: Promise<void>;
  metrics(): Readonly<WatchMetrics>;
  /** The pid of the proxy `--run` started, if it runs. */
  proxyPid(): number | undefined;
  stop(): Promise<void>;
}

/** Starts watching; a store that cannot be reached at the start is a diagnostic. */
export function startWatch(o: WatchOptions): LiveWatcher | Diagnostic {
  // HAProxy with server slots: its admin socket lives in the output folder, which stays (a
  // generation's folder goes once the next one serves), unless --set runtimeSocket says where
  const own = settingsFor(o.target, o.settings, [o.target]);
  const slotted = o.target === 'haproxy' && own['serverSlots'] !== undefined;
  const socket = slotted ? path.resolve(o.output, own['runtimeSocket'] ?? 'haproxy.sock') : undefined;
  if (socket !== undefined && Buffer.byteLength(socket) > 107)
    return diagnostic(
      'MG4033',
      `the runtime socket ${socket} is longer than a UNIX socket path can be (107 bytes): choose a shorter -o or --set runtimeSocket=`,
    );
  const settings = socket === undefined ? o.settings : { ...own, runtimeSocket: socket };
  let client: Etcd3 | undefined;
  if (o.source.kind === 'etcd') {
    const c = connectEtcd(o.source, o.etcd);
    if ('code' in c) return c;
    client = c;
  }
  /** The slots of the running HAProxy, once a configuration with slots was loaded. */
  let slots: readonly SlotState[] | undefined;
  const metrics: WatchMetrics = {
    generation: 0,
    reloads: 0,
    runtimeUpdates: 0,
    failures: 0,
    lastSuccess: false,
    lastChangeMs: Date.now(),
    endpoints: new Map(),
  };
  let serving: ResolvedMesh | undefined;
  let servingFiles: string | undefined;
  let proxy: ChildProcess | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let pending = false;
  let running: Promise<void> | undefined;

  const load = async (): Promise<MeshResult> => {
    if (o.source.kind === 'file') return loadMesh(o.source.path);
    const snapshot = await readStore(client!, o.source, o.etcd.timeoutMs);
    if ('code' in snapshot) return failedLoad(o.source, snapshot);
    return meshOfSnapshot(o.source, snapshot);
  };

  const writeMetrics = async (): Promise<void> => {
    await fs.promises.mkdir(o.output, { recursive: true });
    await writeFilesAtomically(o.output, [{ path: 'metrics.prom', contents: metricsText(metrics) }]);
  };

  const refuse = async (
    diagnostics: readonly Diagnostic[],
    sources: ReadonlyMap<string, SourceFile>,
    why: string,
  ) => {
    metrics.failures++;
    metrics.lastSuccess = false;
    metrics.lastChangeMs = Date.now();
    o.report(diagnostics, sources);
    o.log(
      `change refused (${why}); ${metrics.generation ? `generation ${metrics.generation} keeps serving` : 'nothing serves yet'}`,
    );
    await writeMetrics();
  };

  /** Records a generation as the one serving. */
  const served = (generation: number, mesh: ResolvedMesh, text: string): void => {
    metrics.generation = generation;
    metrics.lastChangeMs = Date.now();
    metrics.endpoints = new Map(
      mesh.backends.flatMap((b) =>
        b.versions.map((v) => [`${b.name}/${v.name}`, v.endpoints.length] as const),
      ),
    );
    serving = mesh;
    servingFiles = text;
  };

  const apply = async (): Promise<void> => {
    const loaded = await load();
    const sources = new Map(loaded.source ? [[loaded.source.file, loaded.source]] : []);
    if (!loaded.mesh) return refuse(loaded.diagnostics, sources, 'the mesh is not valid');
    const rendered = render(loaded.mesh, { targets: [o.target], settings });
    const diagnostics = [...loaded.diagnostics, ...locateDiagnostics(rendered.diagnostics, loaded.source)];
    if (hasErrors(diagnostics))
      return refuse(diagnostics, sources, `the mesh cannot be rendered for ${o.target}`);
    const files = rendered.outputs[0]?.files ?? [];
    const text = JSON.stringify(files);
    if (text === servingFiles) {
      o.log(
        `no change in the rendered ${o.target} configuration; generation ${metrics.generation} keeps serving`,
      );
      return;
    }
    const changes = serving ? diffMeshes(serving, loaded.mesh) : undefined;
    const lines = changes ? changes.map((c) => describeChange(c).line) : ['first configuration'];
    // endpoints only, into slots the running HAProxy has: over its runtime API, no reload
    let fallback: string | undefined;
    if (
      slots &&
      socket &&
      changes?.every((c) => c.kind === 'endpoint-added' || c.kind === 'endpoint-removed')
    ) {
      const plan = planRuntime(slots, loaded.mesh);
      if (!plan.ok) fallback = plan.why;
      else {
        try {
          await runtimeCommands(socket, plan.commands);
        } catch (e) {
          fallback = `the runtime API failed: ${(e as Error)?.message ?? String(e)}`;
        }
        if (fallback === undefined) {
          // the same servers for a later reload or restart
          await swapTargetOutputs(o.output, [{ target: o.target, files }]);
          slots = plan.next;
          const generation = metrics.generation + 1;
          served(generation, loaded.mesh, text);
          metrics.runtimeUpdates++;
          metrics.lastSuccess = true;
          if (diagnostics.length) o.report(diagnostics, sources);
          o.log(
            `generation ${generation}: ${lines.length ? lines.join('; ') : 'no change in behaviour'}; applied over the runtime API, no reload (${plan.commands.length} commands)`,
          );
          await writeMetrics();
          return;
        }
      }
      o.log(`endpoint-only change, but ${fallback}: reloading`);
    }
    // the proxy's own check, on a private copy, before anything serving changes
    const staging = await fs.promises.mkdtemp(path.join(o.output, '.meshgen-check-'));
    try {
      await writeFilesAtomically(staging, files);
      const checked = await runToEnd(checkCommand(o.target, staging, o.cli, o.bootstrap));
      if (checked.status !== 0) {
        const d = diagnostic(
          'MG4028',
          `${o.target}'s check refused the new configuration: ${checked.output.trim().slice(0, 2000)}`,
          {
            target: o.target,
          },
        );
        return refuse([...diagnostics, d], sources, `${o.target}'s check failed`);
      }
    } finally {
      await fs.promises.rm(staging, { recursive: true, force: true });
    }
    await swapTargetOutputs(o.output, [{ target: o.target, files }]);
    const generation = metrics.generation + 1;
    const reloaded = await reload(generation);
    served(generation, loaded.mesh, text);
    // what the reloaded HAProxy has: the slots as rendered (none if the reload failed: the next
    // change reloads again)
    slots =
      socket !== undefined && reloaded === undefined
        ? slotStates(haproxySlots(loaded.mesh, { settings }) ?? [])
        : undefined;
    if (diagnostics.length) o.report(diagnostics, sources);
    if (reloaded === undefined) {
      metrics.reloads++;
      metrics.lastSuccess = true;
      o.log(`generation ${generation}: ${lines.length ? lines.join('; ') : 'no change in behaviour'}`);
    } else {
      metrics.failures++;
      metrics.lastSuccess = false;
      o.log(`generation ${generation} written, but the reload failed: ${reloaded}`);
    }
    await writeMetrics();
  };

  /** Waiters for HAProxy's master to say it loaded a configuration (true) or failed to (false). */
  const loads: ((ok: boolean | undefined) => void)[] = [];
  /** Ends the wait for a proxy just started to say it serves (stop() does not wait it out). */
  let starting: ((why: string | undefined) => void) | undefined;
  const nextLoad = (): Promise<boolean | undefined> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => resolve(undefined), 60_000);
      loads.push((ok) => {
        clearTimeout(timer);
        resolve(ok);
      });
    });

  /** Reloads the proxy; undefined when it went well, else why not. */
  const reload = async (generation: number): Promise<string | undefined> => {
    const live = path.resolve(o.output, o.target);
    if (o.run) {
      if (proxy && proxy.exitCode === null && proxy.signalCode === null) {
        const loaded = o.target === 'haproxy' ? nextLoad() : undefined;
        proxy.kill(reloadSignal(o.target));
        // HAProxy's master re-executes itself on SIGUSR2 and loses a signal that comes before it
        // is done: the next reload waits for its "Loading success" (or failure)
        if (loaded) {
          const ok = await loaded;
          if (ok === false) return 'HAProxy could not load the new configuration (see its log)';
        }
      } else {
        const c = runCommand(o.target, live, o.cli, o.bootstrap);
        const ready = readiness(o.target, live);
        const child = spawn(c.cmd, [...c.args], { cwd: c.cwd, stdio: ['ignore', 'inherit', 'pipe'] });
        // no reload signal before the proxy says it takes one (src/live/proxies.ts, readiness);
        // settle ends the wait once, whatever comes first
        let settle!: (why: string | undefined) => void;
        const started = new Promise<string | undefined>((resolve) => {
          let done = false;
          const timer = setTimeout(
            () => settle(`${o.target} did not say it serves within ${START_TIMEOUT_MS / 1000} s`),
            START_TIMEOUT_MS,
          );
          const poll =
            ready.kind === 'pid-file'
              ? setInterval(() => readPid(ready.file) === child.pid && settle(undefined), 20)
              : undefined;
          settle = (why) => {
            if (done) return;
            done = true;
            clearTimeout(timer);
            clearInterval(poll);
            if (starting === settle) starting = undefined;
            resolve(why);
          };
        });
        starting = settle;
        let pendingLine = '';
        child.stderr?.on('data', (d: Buffer) => {
          process.stderr.write(d);
          pendingLine += d.toString();
          const lines = pendingLine.split('\n');
          pendingLine = lines.pop() ?? '';
          for (const line of lines) {
            if (ready.kind !== 'line') continue;
            const ok = ready.ready.test(line) ? true : ready.failed?.test(line) ? false : undefined;
            if (ok === undefined) continue;
            settle(ok ? undefined : `${o.target} could not load its first configuration (see its log)`);
            // HAProxy's master says the same after each reload (nextLoad)
            loads.splice(0).forEach((r) => r(ok));
          }
        });
        proxy = child;
        child.on('error', (e) => {
          if (proxy === child) proxy = undefined;
          settle(`${o.target} could not be started: ${e.message}`);
        });
        child.on('exit', (code, signal) => {
          const how = signal ?? `status ${code}`;
          settle(`${o.target} exited as it started (${how})`);
          loads.splice(0).forEach((r) => r(false));
          if (!stopped)
            o.log(`${o.target} (pid ${child.pid}) exited (${how}); the next change starts it again`);
        });
        o.log(`started ${o.target} (pid ${child.pid})`);
        const why = await started;
        if (why !== undefined) return why;
      }
    }
    if (o.reloadCmd !== undefined) {
      const r = await runToEnd(
        { cmd: 'sh', args: ['-c', o.reloadCmd], cwd: o.output },
        { ...process.env, MESHGEN_OUTPUT: live, MESHGEN_GENERATION: String(generation) },
      );
      if (r.status !== 0)
        return `--reload-cmd exited with status ${r.status}: ${r.output.trim().slice(0, 500)}`;
    }
    return undefined;
  };

  const go = (): void => {
    if (stopped) return;
    if (running) {
      pending = true;
      return;
    }
    running = apply()
      .catch((e: unknown) => {
        metrics.failures++;
        o.log(`change failed: ${(e as Error)?.message ?? String(e)}`);
      })
      .finally(() => {
        running = undefined;
        if (pending) {
          pending = false;
          schedule();
        }
      });
  };
  const schedule = (): void => {
    if (stopped) return;
    clearTimeout(timer);
    timer = setTimeout(go, o.debounceMs);
  };

  // the triggers: the file's folder (editors replace files by rename), or the store's prefix
  let fileWatcher: fs.FSWatcher | undefined;
  let storeWatcher: EtcdWatcher | undefined;
  const ready = (async () => {
    const warnings = reloadWarnings(o.target, o.settings);
    if (warnings.length) o.report(warnings, new Map());
    await fs.promises.mkdir(o.output, { recursive: true });
    if (o.source.kind === 'file') {
      const base = path.basename(o.source.path);
      fileWatcher = fs.watch(path.dirname(path.resolve(o.source.path)), (_event, name) => {
        if (name === null || name === base) schedule();
      });
    } else {
      const prefix = `${o.source.prefix}/`;
      const w = await client!
        .watch()
        .prefix(prefix)
        .create()
        .catch((e: unknown) => {
          o.log(
            `cannot watch ${prefix}: ${(e as Error)?.message ?? e}; will apply what the first read finds`,
          );
          return undefined;
        });
      storeWatcher = w;
      w?.on('put', schedule);
      w?.on('delete', schedule);
      // after a lost connection, changes may have been missed: read again
      let connections = 0;
      w?.on('connected', () => connections++ > 0 && schedule());
      w?.on('error', (e) => o.log(`etcd watch: ${e.message}`));
    }
    go();
    await running;
  })();

  return {
    ready,
    metrics: () => metrics,
    proxyPid: () => (proxy && proxy.exitCode === null ? proxy.pid : undefined),
    async stop() {
      stopped = true;
      clearTimeout(timer);
      fileWatcher?.close();
      await storeWatcher?.cancel().catch(() => undefined);
      // a change in flight may wait up to a minute for the proxy's word: not when stopping
      starting?.('the watcher stopped');
      loads.splice(0).forEach((r) => r(undefined));
      await running;
      if (proxy && proxy.exitCode === null && proxy.signalCode === null) {
        const exited = new Promise((resolve) => proxy!.once('exit', resolve));
        proxy.kill('SIGTERM');
        await exited;
      }
      client?.close();
    },
  };
}
