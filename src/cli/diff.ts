import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { Option, type Command } from 'commander';
import { diffMeshes } from '../diff/differ.js';
import {
  formatJson,
  formatMarkdown,
  formatText,
  formatTextChanges,
  formatTextTarget,
  isEqual,
  type DiffReport,
} from '../diff/format.js';
import type { TargetDiff } from '../diff/rendered.js';
import { diagnostic, hasErrors, sortDiagnostics, type Diagnostic } from '../model/diagnostics.js';
import { loadMesh, parseMesh, type MeshResult } from '../model/load.js';
import { locateDiagnostics, SourceFile } from '../model/source.js';
import { colours, formatDiagnostic, summary } from './format.js';

/** As `diff` and `git diff --exit-code`: 0 equal, 1 different, 2 trouble. */
const EXIT = { equal: 0, different: 1, error: 2 } as const;

interface DiffCliOptions {
  format: 'text' | 'json' | 'markdown';
  target?: string;
}

/** `rev:path` (or `:path`, the index), as `git show` reads it; a plain existing file wins. */
const REVISION = /^([^:]*):(.+)$/;

async function isFile(p: string): Promise<boolean> {
  return fs.stat(p).then(
    (s) => s.isFile() || s.isFIFO(),
    () => false,
  );
}

function gitShow(spec: string): Promise<{ text?: string; error?: string }> {
  return new Promise((resolve) => {
    execFile(
      'git',
      ['show', spec],
      { encoding: 'buffer', maxBuffer: 512 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (!err) return resolve({ text: stdout.toString('utf8') });
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') return resolve({ error: 'git is not installed' });
        const reason = stderr.toString('utf8').trim().split('\n')[0] || err.message;
        resolve({ error: reason.replace(/^fatal: /, '') });
      },
    );
  });
}

/** Loads one side: `-` (standard input), an existing file, or `rev:path` from git. */
async function loadSide(spec: string): Promise<MeshResult> {
  if (spec === '-' || (await isFile(spec))) return loadMesh(spec);
  const rev = REVISION.exec(spec);
  if (rev && !spec.startsWith('-')) {
    const shown = await gitShow(spec);
    if (shown.text !== undefined) return parseMesh(shown.text, { file: spec });
    return {
      source: new SourceFile(spec, ''),
      diagnostics: [diagnostic('MG4001', `cannot read ${spec} from git: ${shown.error}`, { file: spec })],
    };
  }
  return loadMesh(spec);
}

function printDiagnostics(diagnostics: Diagnostic[], results: MeshResult[], format: string): void {
  const sorted = sortDiagnostics(diagnostics);
  if (format === 'json') {
    process.stdout.write(JSON.stringify({ error: true, diagnostics: sorted }, null, 2) + '\n');
    return;
  }
  const sources = new Map(results.map((r) => [r.source.file, r.source]));
  const c = colours(process.stderr);
  for (const d of sorted)
    process.stderr.write(formatDiagnostic(d, d.file ? sources.get(d.file) : undefined, c) + '\n');
  const line = summary(sorted);
  if (line) process.stderr.write(`${line}\n`);
}

async function diffCommand(before: string, after: string, opts: DiffCliOptions): Promise<number> {
  if (before === '-' && after === '-') {
    process.stderr.write('meshgen: only one side of a diff can be standard input (-)\n');
    return EXIT.error;
  }
  let targets: string[] | 'all' | undefined;
  // the emitters load only when a rendered diff is asked for
  const { emitters } = opts.target !== undefined ? await import('../emitters/index.js') : { emitters: [] };
  const rendered = opts.target !== undefined ? await import('../diff/rendered.js') : undefined;
  if (opts.target !== undefined) {
    targets = opts.target === 'all' ? 'all' : opts.target.split(',').map((t) => t.trim());
    const unknown = targets === 'all' ? [] : targets.filter((t) => !emitters.some((e) => e.target === t));
    if (unknown.length) {
      const known = [...emitters.map((e) => e.target), 'all'].join(', ');
      process.stderr.write(
        `meshgen: unknown target ${unknown.map((t) => `"${t}"`).join(', ')}; targets: ${known}\n`,
      );
      return EXIT.error;
    }
  }
  const results = [await loadSide(before), await loadSide(after)];
  const failed = results.filter((r) => !r.mesh || hasErrors(r.diagnostics));
  if (failed.length) {
    printDiagnostics(
      failed.flatMap((r) => r.diagnostics),
      results,
      opts.format,
    );
    return EXIT.error;
  }
  const [a, b] = [results[0]!.mesh!, results[1]!.mesh!];
  // the threads load the meshes while this one diffs them
  const names = targets && rendered ? rendered.targetNames(targets) : [];
  const pool =
    rendered && names.length ? startThreads(names, results, (t) => rendered.diffTarget(a, b, t)) : undefined;
  const report: DiffReport = {
    before: results[0]!.source.file,
    after: results[1]!.source.file,
    changes: diffMeshes(a, b),
  };
  if (!rendered) {
    process.stdout.write(formatReport(report, opts.format));
    return isEqual(report) ? EXIT.equal : EXIT.different;
  }
  // each target's two renders are dropped once compared, and text shows each target as soon as it
  // and the ones before it are done
  const c = colours(process.stdout);
  const text = opts.format === 'text';
  if (text) process.stdout.write(formatTextChanges(report, c));
  const done: TargetDiff[] = [];
  let equal = report.changes.length === 0;
  let renderFailed = false;
  const diffs =
    pool ??
    (async function* () {
      yield* rendered.diffTargets(a, b, names);
    })();
  for await (const t of diffs) {
    const shown = t.errors ? { ...t, errors: locateErrors(t.errors, results) } : t;
    if (shown.errors) {
      renderFailed = true;
      printRenderErrors([...shown.errors.before, ...shown.errors.after], results);
    }
    equal &&= shown.changes.length === 0;
    if (text) process.stdout.write(formatTextTarget(report, shown, c));
    else done.push(shown);
  }
  if (!text) process.stdout.write(formatReport({ ...report, targets: done }, opts.format));
  return renderFailed ? EXIT.error : equal ? EXIT.equal : EXIT.different;
}

/**
 * The worker thread of a rendered diff: dist/diff-worker.js, next to the CLI's bundle. Run from the
 * sources (as the tests of src/ do), there is none, and the targets render one after another.
 */
const WORKER = new URL('../diff-worker.js', import.meta.url);

/**
 * The memory the worker threads may take in all (MB): fewer threads for larger meshes, so that the
 * process (2 GB at most) has room for this thread's meshes and renders too.
 */
const THREADS_RSS_MB = 1300;

/** Targets a worker thread holds at once: the one it renders and the next, so it never waits on this thread. */
const IN_FLIGHT = 2;

/**
 * The rendered diff of each target, in order, from this thread and a pool of worker threads: one
 * thread a CPU in all, at most one a target, and fewer for large meshes (see THREADS_RSS_MB);
 * MESHGEN_DIFF_THREADS sets the number (1: one target after another, in this thread). This thread,
 * whose meshes are loaded, takes the next target whenever the one due to print is not done yet;
 * each worker loads both meshes from their texts, and renders and compares one target at a time;
 * only the changes come back. A target whose worker runs out of memory is diffed again in this
 * thread (`inProcess`). Undefined when one thread would do, or when there is no worker (run from the
 * sources).
 */
function startThreads(
  names: readonly string[],
  results: MeshResult[],
  inProcess: (target: string) => TargetDiff,
): AsyncGenerator<TargetDiff> | undefined {
  const sides = results.map((r) => ({ text: r.source.text, file: r.source.file }));
  const textMb = sides.reduce((n, s) => n + s.text.length, 0) / 2 ** 20;
  // A worker holds both meshes, two renders and their comparison: at 10,000 backends (10 MB of
  // text a side) about 25 x the meshes' text is live, and the thread's RSS peaks at about 33 x.
  // Its heap may grow to 80 x: a heap much closer to what is live costs a quarter more CPU time in
  // the collector. Should a target still not fit, it is diffed in this thread.
  const rssMb = Math.max(150, 33 * textMb);
  const heapMb = Math.round(Math.min(2048, Math.max(512, 80 * textMb)));
  const asked = Number(process.env.MESHGEN_DIFF_THREADS);
  const threads = Math.min(
    names.length,
    Number.isInteger(asked) && asked > 0
      ? asked
      : Math.min(os.availableParallelism(), 1 + Math.floor(THREADS_RSS_MB / rssMb)),
  );
  if (threads <= 1 || !existsSync(fileURLToPath(WORKER))) return undefined;
  const settle = names.map(() => {
    let resolve!: (t: TargetDiff) => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise<TargetDiff>((res, rej) => ((resolve = res), (reject = rej)));
    // a failure is thrown when its target's turn comes
    promise.catch(() => undefined);
    return { promise, resolve, reject, done: false };
  });
  const finish = (i: number, result: () => TargetDiff) => {
    const s = settle[i]!;
    if (s.done) return;
    s.done = true;
    try {
      s.resolve(result());
    } catch (err) {
      s.reject(err);
    }
  };
  const fail = (i: number, err: unknown) => {
    const s = settle[i]!;
    if (s.done) return;
    s.done = true;
    s.reject(err);
  };
  let next = 0;
  const start = (): Worker => {
    const worker = new Worker(WORKER, {
      workerData: { before: sides[0], after: sides[1] },
      resourceLimits: { maxOldGenerationSizeMb: heapMb },
    });
    // the targets sent to it, in the order it answers them
    const queue: number[] = [];
    const send = () => {
      while (queue.length < IN_FLIGHT && next < names.length) {
        queue.push(next);
        worker.postMessage(names[next++]);
      }
      if (!queue.length) void worker.terminate();
    };
    worker.on('message', (t: TargetDiff) => {
      finish(queue.shift()!, () => t);
      send();
    });
    worker.on('error', (e: Error & { code?: string }) => {
      const lost = queue.splice(0);
      if (e.code !== 'ERR_WORKER_OUT_OF_MEMORY') return lost.forEach((i) => fail(i, e));
      // its share was too small for these targets: diff them here, and go on with a new thread
      setImmediate(() => lost.forEach((i) => finish(i, () => inProcess(names[i]!))));
      if (next < names.length) workers.push(start());
    });
    worker.on('exit', (code) => {
      if (code !== 0)
        for (const i of queue.splice(0))
          fail(i, new Error(`the thread diffing ${names[i]} stopped (exit code ${code})`));
    });
    send();
    return worker;
  };
  const workers: Worker[] = [];
  for (let i = 1; i < threads; i++) workers.push(start());
  return (async function* () {
    try {
      for (const [k, s] of settle.entries()) {
        // while the target due to print is not done, this thread diffs the next one nobody took,
        // and lets the workers' answers in between
        while (!s.done && next < names.length) {
          const i = next++;
          finish(i, () => inProcess(names[i]!));
          await new Promise((r) => setImmediate(r));
        }
        yield await settle[k]!.promise;
      }
    } finally {
      await Promise.all(workers.map((w) => w.terminate()));
    }
  })();
}

function formatReport(report: DiffReport, format: string): string {
  return format === 'json'
    ? formatJson(report)
    : format === 'markdown'
      ? formatMarkdown(report)
      : formatText(report, colours(process.stdout));
}

/** A failed render's errors, located in the mesh of their side. */
function locateErrors(errors: NonNullable<TargetDiff['errors']>, results: MeshResult[]) {
  return {
    before: locateDiagnostics(errors.before, results[0]!.source),
    after: locateDiagnostics(errors.after, results[1]!.source),
  };
}

/** A render's errors on standard error, whatever the format: the report on stdout says which failed. */
function printRenderErrors(errors: Diagnostic[], results: MeshResult[]): void {
  const sources = new Map(results.map((r) => [r.source.file, r.source]));
  const c = colours(process.stderr);
  for (const d of sortDiagnostics(errors))
    process.stderr.write(formatDiagnostic(d, d.file ? sources.get(d.file) : undefined, c) + '\n');
}

/** Registers `meshgen diff <old> <new>`. */
export function registerDiff(program: Command): void {
  program
    .command('diff')
    .description(
      'what changes in behaviour between two meshes (traffic, reachability, mTLS), and optionally in rendered output',
    )
    .argument('<old>', 'mesh file, - for standard input, or rev:path from git (HEAD~1:mesh.yaml)')
    .argument('<new>', 'mesh file, - for standard input, or rev:path from git')
    .addOption(
      new Option('--format <format>', 'text, json or markdown')
        .choices(['text', 'json', 'markdown'])
        .default('text'),
    )
    .option('-t, --target <name>', 'also diff the rendered output of a target, several (a,b) or all')
    .addHelpText(
      'after',
      `
Examples:
  meshgen diff HEAD:mesh.yaml mesh.yaml           review a working change
  meshgen diff main:mesh.yaml mesh.yaml --format markdown
  git show HEAD~1:mesh.yaml | meshgen diff - mesh.yaml --target istio

Exit codes: 0 equal, 1 different, 2 error (unreadable or invalid mesh, or a target's render failed).`,
    )
    .action(async (before: string, after: string, opts: DiffCliOptions) => {
      process.exitCode = await diffCommand(before, after, opts);
    });
}
