import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Option, type Command } from 'commander';
import type { OutputFile } from '../emitters/types.js';
import { diagnostic, hasErrors, type Diagnostic } from '../model/diagnostics.js';
import { loadMesh } from '../model/load.js';
import type { SourceFile } from '../model/source.js';
import type { MeshDocument } from '../model/types.js';
import type { Coverage } from '../meshtest/init.js';
import type { CaseResult, TestCase } from '../meshtest/types.js';
import { writeFilesAtomically } from './output.js';
import { report } from './report.js';

/** 0 every case passed (or is unsupported by its target), 1 a case failed, 2 usage or environment. */
const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

interface TestCliOptions {
  target?: string;
  format: 'text' | 'json';
  junit?: string;
  init?: boolean;
  output?: string;
  postProcess?: string;
}

/** `shop.yaml` -> `shop.test.yaml`. */
function defaultTestFile(mesh: string): string {
  return mesh.replace(/\.ya?ml$/, '') + '.test.yaml';
}

/**
 * `--post-process <command>`: each target's rendered files are written to a scratch folder, the
 * command runs there (`sh -c`, MESHGEN_TARGET names the target), and the files are read back.
 */
function postProcessWith(command: string) {
  return (target: string, files: readonly OutputFile[]): OutputFile[] => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `meshgen-post-${target}-`));
    try {
      for (const f of files) {
        fs.mkdirSync(path.dirname(path.join(dir, f.path)), { recursive: true });
        fs.writeFileSync(path.join(dir, f.path), f.contents);
      }
      const r = spawnSync('sh', ['-c', command], {
        cwd: dir,
        env: { ...process.env, MESHGEN_TARGET: target },
        encoding: 'utf8',
      });
      if (r.status !== 0)
        throw new Error(`--post-process failed for ${target} (exit ${r.status}): ${(r.stderr ?? '').trim()}`);
      return files.map((f) => ({ ...f, contents: fs.readFileSync(path.join(dir, f.path), 'utf8') }));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };
}

/** Progress: a bar redrawn on a terminal, one plain line per result otherwise. */
function progress(total: number): { onResult: (r: CaseResult) => void; done: () => void } {
  const tty = process.stderr.isTTY === true;
  let n = 0;
  return {
    onResult(r) {
      n++;
      if (!tty) {
        process.stderr.write(
          `${r.verdict.padEnd(11)} ${r.case} on ${r.target}${r.simulated ? ' (simulated)' : ''}\n`,
        );
        return;
      }
      const width = 30;
      const filled = Math.round((n / total) * width);
      const label = `${r.case} on ${r.target}`.slice(0, 50);
      process.stderr.write(
        `\r\x1b[K[${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${n}/${total} ${label}`,
      );
    },
    done() {
      if (tty) process.stderr.write('\r\x1b[K');
    },
  };
}

function printCoverage(c: Coverage): void {
  process.stderr.write(
    `coverage: ${c.routes - c.unreached.length} of ${c.routes} routes reached` +
      (c.unmeasured.length ? `; ${c.unmeasured.length} split destination(s) not measured` : '') +
      '\n',
  );
  for (const u of c.unreached) process.stderr.write(`  no case reaches ${u}\n`);
  for (const u of c.unmeasured) process.stderr.write(`  no case measures ${u}\n`);
}

async function testCommand(meshFile: string, testFiles: string[], opts: TestCliOptions): Promise<number> {
  // loaded here, not with the CLI: the runner brings the data plane, the certificates and every target
  const { coverage, starterTests } = await import('../meshtest/init.js');
  const { loadTests } = await import('../meshtest/load.js');
  const { formatJunit, formatResults } = await import('../meshtest/report.js');
  const { runTests, testTargets } = await import('../meshtest/run.js');
  const sources = new Map<string, SourceFile>();
  const loaded = await loadMesh(meshFile);
  sources.set(loaded.source.file, loaded.source);
  if (!loaded.mesh || hasErrors(loaded.diagnostics)) {
    report({ diagnostics: loaded.diagnostics, sources }, opts.format);
    return EXIT.usage;
  }
  const mesh = loaded.mesh;
  if (opts.init) {
    const out = opts.output ?? defaultTestFile(meshFile);
    if (fs.existsSync(out)) {
      report(
        {
          diagnostics: [
            diagnostic('MG4001', `${out} exists; meshgen test --init does not replace it`, {
              hint: 'name another file with -o',
            }),
          ],
          sources,
        },
        opts.format,
      );
      return EXIT.usage;
    }
    const text = starterTests(mesh, meshFile);
    await writeFilesAtomically(path.dirname(out), [{ path: path.basename(out), contents: text }]);
    process.stderr.write(`wrote ${out}\n`);
    const written = await loadTests(out, mesh);
    if (written.cases) printCoverage(coverage(mesh, written.cases));
    return EXIT.ok;
  }
  const files = testFiles.length ? testFiles : [defaultTestFile(meshFile)];
  const cases: TestCase[] = [];
  const problems: Diagnostic[] = [];
  for (const f of files) {
    const r = await loadTests(f, mesh);
    sources.set(r.source.file, r.source);
    problems.push(...r.diagnostics);
    if (r.cases) cases.push(...r.cases);
  }
  if (hasErrors(problems)) {
    report({ diagnostics: problems, sources }, opts.format);
    return EXIT.usage;
  }
  const targets = opts.target
    ? opts.target === 'all'
      ? testTargets()
      : opts.target
          .split(',')
          .map((t) => t.trim())
          .filter(Boolean)
    : testTargets();
  const bar = progress(cases.length * targets.length);
  const run = await runTests(loaded.document as MeshDocument, cases, {
    targets,
    onResult: opts.format === 'text' ? bar.onResult : undefined,
    postProcess: opts.postProcess ? postProcessWith(opts.postProcess) : undefined,
  });
  bar.done();
  if (opts.junit) {
    const junit = path.resolve(opts.junit);
    await writeFilesAtomically(path.dirname(junit), [
      { path: path.basename(junit), contents: formatJunit(run) },
    ]);
  }
  if (opts.format === 'json') process.stdout.write(JSON.stringify(run, null, 2) + '\n');
  else {
    if (run.diagnostics.length) report({ diagnostics: [...run.diagnostics], sources }, 'text');
    process.stdout.write(formatResults(run));
    printCoverage(coverage(mesh, cases));
  }
  if (run.targets.some((t) => t.error)) return EXIT.usage;
  return run.passed ? EXIT.ok : EXIT.failed;
}

/** Registers `meshgen test <mesh> [tests...]`. */
export function registerTest(program: Command): void {
  program
    .command('test')
    .description(
      "run a mesh's behaviour tests against every target: real HAProxy, NGINX and Envoy (the data plane) with stub backends; simulated where a target cannot run here",
    )
    .argument('<mesh>', 'mesh file')
    .argument('[tests...]', 'MeshTest files (default: <mesh>.test.yaml beside the mesh)')
    .option(
      '-t, --target <names>',
      'targets, comma-separated, or all (default): haproxy, nginx, apache, envoy, and the targets meshgen simulates',
    )
    .addOption(
      new Option('--format <format>', 'results as a text table or json')
        .choices(['text', 'json'])
        .default('text'),
    )
    .option('--junit <file>', 'also write the results as JUnit XML, for CI systems')
    .option('--init', 'write a starter test file (one case per route) and report route coverage')
    .option('-o, --output <file>', 'with --init: the file to write (default <mesh>.test.yaml)')
    .option(
      '--post-process <command>',
      "run a shell command in each target's rendered folder before it starts (MESHGEN_TARGET names the target): test hand edits, or seed a bug",
    )
    .addHelpText(
      'after',
      `
Examples:
  meshgen test --init shop.yaml                 write shop.test.yaml, one case per route
  meshgen test shop.yaml                        run shop.test.yaml on every target
  meshgen test shop.yaml shop.test.yaml --target haproxy,envoy --junit results.xml
  meshgen test shop.yaml --target nginx --post-process "sed -i 's/weight 90/weight 10/' nginx.conf"

Exit codes: 0 all passed (or unsupported by a target), 1 a case failed, 2 usage or environment error (an invalid file, a missing program: the message names its Debian package).`,
    )
    .action(async (mesh: string, tests: string[], opts: TestCliOptions) => {
      process.exitCode = await testCommand(mesh, tests, opts);
    });
}
