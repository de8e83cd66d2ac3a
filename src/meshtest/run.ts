/**
 * `runTests`: every case on every target. Runnable targets (real.ts) get real traffic through their
 * real process; targets with a simulator (simulate/) are evaluated against their rendered objects
 * and marked simulated. A case is unsupported on a target when the target's render says it leaves
 * out what the case depends on (route.ts), never passed or failed by accident.
 */
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { issueCertificates } from '../certs/issue.js';
import { diagnostic, type Diagnostic } from '../model/diagnostics.js';
import { parseDuration } from '../model/duration.js';
import { normalizeMesh } from '../model/normalize.js';
import type { OutputFile } from '../emitters/types.js';
import type { MeshDocument, ResolvedMesh } from '../model/types.js';
import { render } from '../render.js';
import { send, type Sent } from './client.js';
import { behaviourKey, compareExpectations } from './compare.js';
import { missingProgram } from './installed.js';
import { RUNNABLE, startTarget, type PostProcess, type StartedTarget } from './real.js';
import { defaultHost, featureMap, unsupportedReason } from './route.js';
import { simulators } from './simulate/index.js';
import { requestTag } from './stubs.js';
import type { BackendBehaviour, SimCase, Simulator } from './simulate/types.js';
import type { CaseResult, Observation, TargetSummary, TestCase, TestRunResult } from './types.js';

export interface RunOptions {
  /** Target names; default every runnable and simulated target. */
  readonly targets?: readonly string[];
  /** The simulated targets' interpreters, by target name (default the table of simulate/). */
  readonly simulators?: Readonly<Record<string, Simulator>>;
  /** Rewrites each target's rendered files before it starts (a simulated target's, before they are read). */
  readonly postProcess?: PostProcess;
  /** Called as each case finishes on a target. */
  readonly onResult?: (r: CaseResult) => void;
  /** Requests sent at once for a case with a count (default 8). */
  readonly concurrency?: number;
  /**
   * Runnable targets started at once (default: one per two cores). Each has its own stubs and ports;
   * the limit is CPU: a proxy starved of it misses its health checks and timeouts.
   */
  readonly parallel?: number;
  /** How long one request may go unanswered (default 10 s, or twice a case's timeout bound). */
  readonly requestTimeoutMs?: number;
}

/** The targets `meshgen test` can run or simulate. */
export function testTargets(): string[] {
  return [...RUNNABLE, ...Object.keys(simulators)];
}

function behaviours(c: TestCase): Record<string, BackendBehaviour> {
  const out: Record<string, BackendBehaviour> = {};
  for (const [k, b] of Object.entries(c.backends ?? {})) {
    const delayMs = b.delay !== undefined ? parseDuration(b.delay) : undefined;
    out[k] = {
      ...(b.status !== undefined ? { status: b.status } : {}),
      ...(b.failFirst !== undefined ? { failFirst: b.failFirst } : {}),
      ...(b.failStatus !== undefined ? { failStatus: b.failStatus } : {}),
      ...(delayMs !== undefined ? { delayMs } : {}),
      ...(b.reset ? { reset: true } : {}),
      ...(b.hang ? { hang: true } : {}),
    };
  }
  return out;
}

/** The case as the simulators see it. */
function simCase(mesh: ResolvedMesh, c: TestCase): SimCase {
  const r = c.request;
  return {
    entry: r.frontend !== undefined ? { frontend: r.frontend } : { caller: r.caller! },
    scheme:
      r.scheme ??
      (r.frontend !== undefined && mesh.frontendsByName.get(r.frontend)?.protocol === 'https'
        ? 'https'
        : 'http'),
    host: r.host ?? defaultHost(mesh, c),
    method: r.method ?? 'GET',
    path: r.path ?? '/',
    query: r.query ?? {},
    headers: Object.fromEntries(Object.entries(r.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
    count: r.count ?? 1,
    backends: behaviours(c),
  };
}

function pathWithQuery(s: SimCase): string {
  const q = new URLSearchParams(s.query).toString();
  return q ? `${s.path}?${q}` : s.path;
}

async function runCase(
  started: StartedTarget,
  mesh: ResolvedMesh,
  c: TestCase,
  index: number,
  options: RunOptions,
): Promise<Observation> {
  const s = simCase(mesh, c);
  const entry = c.request.frontend !== undefined ? '' : c.request.caller!;
  const instance = started.instances.get(entry)!;
  const port =
    c.request.frontend !== undefined
      ? instance.frontendPorts.get(c.request.frontend)!
      : instance.backendPorts.get(c.request.backend!)!;
  const read = (f: string) => fs.readFileSync(path.join(started.certDir, f), 'utf8');
  const cert = c.request.clientCertificate;
  const tls =
    s.scheme === 'https'
      ? {
          ca: read('ca.crt'),
          servername: s.host,
          ...(cert ? { cert: read(`${cert}.crt`), key: read(`${cert}.key`) } : {}),
        }
      : undefined;
  const within = c.expect?.timeout ? (parseDuration(c.expect.timeout.within) ?? 0) : 0;
  const timeoutMs = options.requestTimeoutMs ?? Math.max(10_000, within * 2);
  const one = (n: number, agent?: http.Agent): Promise<Sent> =>
    send({
      agent,
      port,
      method: s.method,
      path: pathWithQuery(s),
      host: s.host,
      headers: s.headers,
      body: c.request.body,
      tag: requestTag(index, n),
      tls,
      timeoutMs,
    });
  started.state.begin(s.backends, index);
  const first = await one(0);
  const tag = requestTag(index, 0);
  const seen = started.state.received.filter((r) => r.tag === tag);
  const answered = first.from
    ? seen.filter((r) => r.backend === first.from!.backend && r.version === first.from!.version)
    : [];
  const last = answered.at(-1);
  const tally = new Map<string, number>();
  const count = s.count;
  const add = (r: Sent) => {
    const key = r.from ? `${r.from.backend}/${r.from.version}` : '(none)';
    tally.set(key, (tally.get(key) ?? 0) + 1);
  };
  add(first);
  let next = 1;
  // the rest of a count reuses connections: each request is still routed (and split) on its own
  const concurrency = Math.min(options.concurrency ?? 8, count - 1);
  // (a TCP listener splits connections, not requests: there each request has its own)
  const tcp =
    c.request.frontend !== undefined
      ? ['tcp', 'tls-passthrough'].includes(mesh.frontendsByName.get(c.request.frontend)!.protocol)
      : mesh.backendsByName.get(c.request.backend!)!.protocol === 'tcp';
  const agent = tcp
    ? undefined
    : new (tls ? https.Agent : http.Agent)({ keepAlive: true, maxSockets: Math.max(1, concurrency) });
  const worker = async () => {
    while (next < count) add(await one(next++, agent));
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  agent?.destroy();
  const shares: Record<string, number> = {};
  for (const [k, v] of tally) if (k !== '(none)') shares[k] = v / count;
  return {
    status: first.status,
    ...(first.from ? { backend: first.from.backend, version: first.from.version } : {}),
    tries: seen.length,
    ...(last ? { path: last.path, requestHeaders: last.headers } : {}),
    responseHeaders: first.headers,
    shares,
    denied: first.tlsRefused === true || (first.status === 403 && seen.length === 0),
    elapsedMs: first.elapsedMs,
  };
}

function judge(
  c: TestCase,
  target: string,
  simulated: boolean,
  o: Observation,
  durationMs: number,
): CaseResult {
  // a declared difference: the target is held to what the case says it does instead
  const difference = c.differences?.find((d) => d.target === target);
  const expect = difference ? { ...c.expect, ...difference.expect } : c.expect;
  const failures = expect ? compareExpectations({ ...c, expect }, o, simulated) : [];
  return {
    case: c.name,
    file: c.file,
    target,
    simulated,
    verdict: failures.length ? 'fail' : difference ? 'differs' : 'pass',
    failures,
    ...(difference ? { difference: difference.reason } : {}),
    observed: o,
    durationMs,
  };
}

const errorResult = (c: TestCase, target: string, simulated: boolean, reason: string): CaseResult => ({
  case: c.name,
  file: c.file,
  target,
  simulated,
  verdict: 'error',
  failures: [],
  reason,
  durationMs: 0,
});

const unsupported = (c: TestCase, target: string, simulated: boolean, reason: string): CaseResult => ({
  case: c.name,
  file: c.file,
  target,
  simulated,
  verdict: 'unsupported',
  failures: [],
  reason,
  durationMs: 0,
});

async function runReal(
  target: string,
  document: MeshDocument,
  mesh: ResolvedMesh,
  cases: readonly TestCase[],
  certDir: string,
  workDir: string,
  options: RunOptions,
): Promise<CaseResult[]> {
  const entries = [
    ...(cases.some((c) => c.request.frontend !== undefined) ? [''] : []),
    ...new Set(cases.flatMap((c) => (c.request.caller !== undefined ? [c.request.caller] : []))),
  ];
  const started = await startTarget({
    target,
    document,
    mesh,
    certDir,
    workDir: path.join(workDir, target),
    entries,
    postProcess: options.postProcess,
  });
  const uses = featureMap(mesh);
  const out: CaseResult[] = [];
  try {
    for (const [i, c] of cases.entries()) {
      const entry = c.request.frontend !== undefined ? '' : c.request.caller!;
      const reason = unsupportedReason(mesh, c, started.instances.get(entry)!.diagnostics, uses);
      const t0 = performance.now();
      const result = reason
        ? unsupported(c, target, false, reason)
        : judge(c, target, false, await runCase(started, mesh, c, i, options), performance.now() - t0);
      out.push(result);
      options.onResult?.(result);
    }
  } finally {
    await started.stop();
  }
  return out;
}

/** A simulated target's objects as a cluster would get them: rendered, then post-processed. */
function renderSimulated(
  target: string,
  mesh: ResolvedMesh,
  options: RunOptions,
): { files: readonly OutputFile[]; diagnostics: readonly Diagnostic[] } {
  const rendered = render(mesh, { targets: [target] });
  const files = rendered.outputs[0]?.files ?? [];
  return {
    files: options.postProcess ? options.postProcess(target, files) : files,
    diagnostics: rendered.diagnostics,
  };
}

function runSimulated(
  simulator: Simulator,
  target: string,
  mesh: ResolvedMesh,
  rendered: { files: readonly OutputFile[]; diagnostics: readonly Diagnostic[] },
  cases: readonly TestCase[],
  options: RunOptions,
): CaseResult[] {
  const files = rendered.files;
  const uses = featureMap(mesh);
  return cases.map((c) => {
    const t0 = performance.now();
    const reason = unsupportedReason(mesh, c, rendered.diagnostics, uses);
    let result: CaseResult;
    if (reason) result = unsupported(c, target, true, reason);
    else {
      const r = simulator(files, simCase(mesh, c));
      if (r.kind === 'unsupported') result = unsupported(c, target, true, r.reason);
      else {
        const { kind: _, ...o } = r;
        result = judge(c, target, true, o, performance.now() - t0);
      }
    }
    options.onResult?.(result);
    return result;
  });
}

/** Cases without expectations pass when every target that ran them observed the same. */
function differential(cases: readonly TestCase[], results: CaseResult[]): CaseResult[] {
  return results.map((r) => {
    const c = cases.find((x) => x.name === r.case && x.file === r.file);
    if (!c || c.expect || r.verdict !== 'pass') return r;
    // a target with a declared difference is held to it, not to its peers
    const peers = results.filter(
      (p) => p.case === r.case && p.file === r.file && p.verdict === 'pass' && p.observed,
    );
    const keys = new Set(peers.map((p) => behaviourKey(p.observed!)));
    if (keys.size <= 1) return r;
    return {
      ...r,
      verdict: 'fail' as const,
      failures: peers
        .filter((p) => p.target !== r.target)
        .map((p) => ({
          what: `same as ${p.target}`,
          expected: behaviourKey(p.observed!),
          observed: behaviourKey(r.observed!),
        }))
        .filter((f) => f.expected !== f.observed),
    };
  });
}

/**
 * Runs the cases against the mesh on each target. `document` is the mesh as written (validated):
 * the runner moves its listeners to free ports and its endpoints to stub backends.
 */
export async function runTests(
  document: MeshDocument,
  cases: readonly TestCase[],
  options: RunOptions = {},
): Promise<TestRunResult> {
  const t0 = performance.now();
  const mesh = normalizeMesh(document);
  const targets = options.targets ?? [...RUNNABLE, ...Object.keys(options.simulators ?? simulators)];
  const diagnostics: Diagnostic[] = [];
  const summaries: TargetSummary[] = [];
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshgen-test-'));
  const results: CaseResult[] = [];
  try {
    const certDir = path.join(workDir, 'certs');
    fs.mkdirSync(certDir, { recursive: true });
    for (const f of await issueCertificates(mesh)) {
      fs.mkdirSync(path.dirname(path.join(certDir, f.path)), { recursive: true });
      fs.writeFileSync(path.join(certDir, f.path), f.contents);
    }
    const jobs: (() => Promise<void>)[] = [];
    for (const target of targets) {
      const simulator = (options.simulators ?? simulators)[target];
      const simulated = simulator !== undefined;
      if (simulator) {
        let rendered;
        try {
          rendered = renderSimulated(target, mesh, options);
        } catch (e) {
          // a post-processing command that failed
          const error = e instanceof Error ? e.message : String(e);
          diagnostics.push(diagnostic('MG6021', `${target}: ${error}`, { target }));
          summaries.push({ target, simulated, error });
          results.push(...cases.map((c) => errorResult(c, target, true, error)));
          continue;
        }
        summaries.push({ target, simulated });
        results.push(...runSimulated(simulator, target, mesh, rendered, cases, options));
        continue;
      }
      if (!(RUNNABLE as readonly string[]).includes(target)) {
        const error = `target "${target}" can be neither run nor simulated by meshgen test`;
        diagnostics.push(
          diagnostic('MG6022', error, { target, hint: `targets: ${testTargets().join(', ')}` }),
        );
        summaries.push({ target, simulated, error });
        results.push(...cases.map((c) => errorResult(c, target, false, error)));
        continue;
      }
      const missing = missingProgram(target);
      if (missing) {
        const error = `${missing.program} is not installed`;
        diagnostics.push(
          diagnostic('MG6020', error, { target, hint: `install the Debian package ${missing.package}` }),
        );
        summaries.push({ target, simulated, error });
        results.push(...cases.map((c) => errorResult(c, target, false, error)));
        continue;
      }
      summaries.push({ target, simulated });
      // the runnable targets run side by side: each has its own stubs and ports
      jobs.push(() =>
        runReal(target, document, mesh, cases, certDir, workDir, options).then(
          (r) => void results.push(...r),
          (e: unknown) => {
            const error = e instanceof Error ? e.message : String(e);
            diagnostics.push(diagnostic('MG6021', `${target}: ${error}`, { target }));
            const i = summaries.findIndex((s) => s.target === target);
            summaries[i] = { target, simulated, error };
            results.push(...cases.map((c) => errorResult(c, target, false, error)));
          },
        ),
      );
    }
    const parallel = Math.max(1, options.parallel ?? Math.floor(os.availableParallelism() / 2));
    await Promise.all(
      Array.from({ length: Math.min(parallel, jobs.length) }, async () => {
        for (let job = jobs.shift(); job; job = jobs.shift()) await job();
      }),
    );
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true });
  }
  const order = new Map(targets.map((t, i) => [t, i]));
  const caseOrder = new Map(cases.map((c, i) => [`${c.file}\0${c.name}`, i]));
  results.sort(
    (a, b) =>
      caseOrder.get(`${a.file}\0${a.case}`)! - caseOrder.get(`${b.file}\0${b.case}`)! ||
      order.get(a.target)! - order.get(b.target)!,
  );
  const final = differential(cases, results);
  return {
    results: final,
    targets: summaries,
    diagnostics,
    passed: final.every(
      (r) => r.verdict === 'pass' || r.verdict === 'differs' || r.verdict === 'unsupported',
    ),
    durationMs: performance.now() - t0,
  };
}
