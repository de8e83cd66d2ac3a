import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
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
  const { diffTargets } =
    opts.target !== undefined ? await import('../diff/rendered.js') : { diffTargets: undefined };
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
  const report: DiffReport = {
    before: results[0]!.source.file,
    after: results[1]!.source.file,
    changes: diffMeshes(a, b),
  };
  if (!targets || !diffTargets) {
    process.stdout.write(formatReport(report, opts.format));
    return isEqual(report) ? EXIT.equal : EXIT.different;
  }
  // one target at a time: its two renders are dropped before the next, and text shows each as it
  // is done
  const c = colours(process.stdout);
  const text = opts.format === 'text';
  if (text) process.stdout.write(formatTextChanges(report, c));
  const done: TargetDiff[] = [];
  let equal = report.changes.length === 0;
  let renderFailed = false;
  for (const t of diffTargets(a, b, targets)) {
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
