import fs from 'node:fs/promises';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { diagnostic, escalateWarnings, hasErrors, type Diagnostic } from '../model/diagnostics.js';
import { locateDiagnostics, type SourceFile } from '../model/source.js';
import type { TargetOutput } from '../render.js';
import { UsageError } from './errors.js';
import { parseSuppress } from './digest.js';
import { formatOption, reportScaled } from './report.js';
import { swapTargetOutputs } from './generations.js';
import { applyLayout, isKubernetesOutput, LAYOUTS, type Layout } from './layout.js';
import { wholeNumber } from './numbers.js';
import { startProgress, type Progress } from './progress.js';
import { chooseTargets, parseSettings } from './settings.js';
import { addSourceOptions, loadEither, unreadableInput, type SourceCliOptions } from './source.js';
import { chooseStdout, leftLine, stdoutTexts, writeChunked } from './stdout.js';

/** Exit codes, as ESLint's: 0 fine, 1 findings (error diagnostics), 2 usage or I/O. */
const EXIT = { ok: 0, invalid: 1, usage: 2 } as const;

interface RenderCliOptions extends SourceCliOptions {
  target: string;
  output?: string;
  /** `--carried`: write the ConfigMap meshgen-carried-<mesh> into the folder. */
  carried?: boolean;
  strict?: boolean;
  format: string;
  outputFormat?: string;
  consulFormat?: string;
  set: string[];
  file?: string;
  layout?: Layout;
  verbose?: boolean;
  maxWarnings?: string;
  suppress: string[];
}

/** What -o must not be: `-` (stdout is the default), a format's name, an existing file (MG4010). */
async function checkOutputFolder(dir: string): Promise<Diagnostic | undefined> {
  if (dir === '-')
    return diagnostic('MG4010', '-o - would write a folder named "-"; without -o, render prints to stdout', {
      hint: 'leave out -o to print (the main file, or --file NAME), or give a folder: -o out',
    });
  if (/^(json|yaml|yml|hcl|crd|text)$/i.test(dir))
    return diagnostic('MG4010', `-o ${dir} names a folder "${dir}", not an output format`, {
      hint: `-o takes a folder; the format is --output-format (envoy) or --consul-format; for a folder of that name write -o ./${dir}`,
    });
  const st = await fs.stat(dir).catch(() => undefined);
  if (st && !st.isDirectory())
    return diagnostic(
      'MG4010',
      `-o ${dir} is a file; render writes a folder per target under the -o folder`,
      {
        hint: 'give a folder (new or existing), e.g. -o out',
      },
    );
  return undefined;
}

/** The targets and settings named, and the settings refused (MG4003); a usage error's text. */
async function chooseSettingsAndTargets(
  opts: RenderCliOptions,
): Promise<{ targets: string[]; settings: Record<string, string>; refused: Diagnostic[] } | string> {
  // the emitters load only for the commands that use them, so `validate` starts fast
  const { emitters } = await import('../emitters/index.js');
  const { checkSettings } = await import('../emitters/settings.js');
  const chosen = chooseTargets(opts.target, emitters);
  if (typeof chosen === 'string') return chosen;
  const targets = chosen.map((e) => e.target);
  const settings = parseSettings(opts.set);
  if (typeof settings === 'string') return settings;
  if (opts.consulFormat && targets.includes('consul')) settings['consulFormat'] = opts.consulFormat;
  return { targets, settings, refused: checkSettings(chosen, emitters, settings) };
}

async function renderCommand(file: string | undefined, opts: RenderCliOptions): Promise<number> {
  const progress = startProgress();
  try {
    return await renderWith(file, opts, progress);
  } finally {
    progress.done();
  }
}

async function renderWith(
  file: string | undefined,
  opts: RenderCliOptions,
  progress: Progress,
): Promise<number> {
  const chosen = await chooseSettingsAndTargets(opts);
  if (typeof chosen === 'string') throw new UsageError(chosen);
  const { targets, settings, refused } = chosen;
  const report = (
    diagnostics: readonly Diagnostic[],
    sources = new Map<string, SourceFile>(),
    locate = (ds: readonly Diagnostic[]) => [...ds],
  ) => {
    progress.done();
    reportScaled(diagnostics, { sources, locate, format: opts.format, verbose: opts.verbose });
  };
  const usage: Diagnostic[] = [...refused];
  const suppressed = parseSuppress(opts.suppress);
  if (!(suppressed instanceof Set)) usage.push(suppressed);
  if (opts.output !== undefined) {
    const bad = await checkOutputFolder(opts.output);
    if (bad) usage.push(bad);
    if (opts.file !== undefined)
      usage.push(
        diagnostic('MG4012', `--file ${opts.file} picks what stdout prints; with -o every file is written`, {
          hint: 'leave out -o to print that file, or --file to write them all',
        }),
      );
  }
  // a key no target reads, a value none accepts, a bad option: refused before the mesh is read
  if (usage.length) {
    report(usage);
    return EXIT.usage;
  }
  const suppress = suppressed as Set<string>;
  progress.update(`reading ${file ?? opts.source}`);
  const loaded = await loadEither(file, opts);
  const sources = new Map([[loaded.source.file, loaded.source]]);
  const keep = (d: Diagnostic) => !suppress.has(d.code);
  if (!loaded.mesh) {
    report(loaded.diagnostics.filter(keep), sources);
    return unreadableInput(loaded.diagnostics) ? EXIT.usage : EXIT.invalid;
  }
  // the document as written is read again only for meshgen-carried (a folder, when asked); else it
  // is let go before the render, whose garbage collections would keep marking it (20 MB at 10,000
  // backends)
  const document = opts.output !== undefined && opts.carried === true ? loaded.document : undefined;
  loaded.document = undefined;
  const { render } = await import('../render.js');
  let step = '';
  const result = render(loaded.mesh, {
    targets,
    strict: opts.strict,
    format: opts.outputFormat,
    settings,
    // a folder gets meshgen-carried (what `meshgen import` would not read back) when asked: the
    // import of the output and its diff cost several times the render (10 x at 10,000 backends);
    // stdout, the stream piped to kubectl, never has it
    ...(document ? { document } : {}),
    onTarget: (target, i, n) => {
      step = `rendering ${target} (${i + 1}/${n})`;
      progress.update(step, true);
    },
    onCarried: () => progress.update(`${step}: what its objects do not carry (meshgen-carried)`, true),
  });
  const base = opts.strict ? escalateWarnings(loaded.diagnostics) : loaded.diagnostics;
  // the emitters' diagnostics stay unlocated until printed: only the ones shown are looked up
  const diagnostics: Diagnostic[] = [];
  for (const d of base) if (keep(d)) diagnostics.push(d);
  for (const d of result.diagnostics) if (keep(d)) diagnostics.push(d);
  // the command's own diagnostics (MG4010-MG4019) are about the command line, not the mesh file
  const locate = (ds: readonly Diagnostic[]) =>
    ds.map((d) => (/^MG401\d$/.test(d.code) ? d : locateDiagnostics([d], loaded.source)[0]!));
  if (opts.maxWarnings !== undefined) {
    const max = Number(opts.maxWarnings);
    const warnings = diagnostics.reduce((n, d) => n + (d.severity === 'warning' ? 1 : 0), 0);
    if (warnings > max)
      diagnostics.push(
        diagnostic(
          'MG4014',
          `${warnings} warnings, more than --max-warnings ${max} allows: nothing is written`,
          {
            hint: 'fix them, raise --max-warnings, or --suppress a code',
          },
        ),
      );
  }
  if (hasErrors(diagnostics)) {
    report(diagnostics, sources, locate);
    return EXIT.invalid;
  }
  const layoutErrors = checkLayout(result.outputs, opts.layout);
  if (layoutErrors.length) {
    report([...diagnostics, ...layoutErrors], sources, locate);
    return EXIT.usage;
  }
  if (opts.output) {
    report(diagnostics, sources, locate);
    return writeFolders(opts.output, result.outputs, opts, progress);
  }
  const choice = chooseStdout(result.outputs, opts.file);
  if ('code' in choice) {
    report([...diagnostics, choice], sources, locate);
    return EXIT.usage;
  }
  report(diagnostics, sources, locate);
  const line = leftLine(choice);
  if (line && opts.format === 'text') process.stderr.write(`${line}\n`);
  // a reader that closes the pipe early (`| head`) ends the command quietly, with success
  const { texts, separator } = stdoutTexts(choice);
  await writeChunked(process.stdout, texts, separator);
  return EXIT.ok;
}

/** MG4015 for each target given `--layout` that does not write Kubernetes objects. */
function checkLayout(outputs: readonly TargetOutput[], layout: Layout | undefined): Diagnostic[] {
  if (layout === undefined) return [];
  return outputs
    .filter((o) => !isKubernetesOutput(o.files))
    .map((o) =>
      diagnostic('MG4015', `--layout ${layout}: the ${o.target} target does not write Kubernetes objects`, {
        target: o.target,
        hint: '--layout applies to istio, linkerd and consul (CRDs); render the other targets without it',
      }),
    );
}

async function writeFolders(
  dir: string,
  outputs: readonly TargetOutput[],
  opts: RenderCliOptions,
  progress: Progress,
): Promise<number> {
  const laid = opts.layout
    ? outputs.map((o) => ({ target: o.target, files: applyLayout(o.target, o.files, opts.layout!) }))
    : outputs;
  const reports = await swapTargetOutputs(dir, laid, (n, total) =>
    progress.update(`writing ${dir}: ${n.toLocaleString('en-US')}/${total.toLocaleString('en-US')} files`),
  );
  progress.done();
  for (const r of reports) {
    const where = path.join(dir, r.target);
    if (r.migrated)
      process.stderr.write(
        `${where}: was a plain folder from an earlier meshgen; it is now a link to ${path.join(dir, r.generation)}\n`,
      );
    if (r.removed.length) process.stderr.write(`${where}: ${removedLine(r.removed)}\n`);
  }
  const written = laid.reduce((n, o) => n + o.files.length, 0);
  if (opts.format === 'text')
    process.stderr.write(`wrote ${written} file${written === 1 ? '' : 's'} to ${dir}\n`);
  return EXIT.ok;
}

/** "3 files removed (no longer rendered): a, b, c", naming the first few. */
function removedLine(removed: readonly string[]): string {
  const shown =
    removed.slice(0, 5).join(', ') + (removed.length > 5 ? `, ... (${removed.length - 5} more)` : '');
  return `${removed.length} file${removed.length === 1 ? '' : 's'} removed (no longer rendered): ${shown}`;
}

export function registerRender(program: Command): void {
  const render = program
    .command('render')
    .description('render a mesh to one target, several (a,b) or all')
    .argument('[file]', 'mesh file; - reads standard input (or --source)')
    .requiredOption('-t, --target <name>', 'target name, comma-separated names, or all')
    .option('-o, --output <dir>', 'write one folder per target here (atomically) instead of printing')
    .option(
      '--file <name>',
      "without -o: the file to print instead of the target's main one (path in the target's folder, or target/path)",
    )
    .addOption(
      new Option(
        '--layout <layout>',
        'Kubernetes targets: one file per object, per kind, per namespace, or one stream',
      ).choices([...LAYOUTS]),
    )
    .option(
      '--carried',
      'with -o: add to istio, linkerd and consul folders the ConfigMap meshgen-carried-<mesh> (what their objects do not carry, for meshgen import to give the mesh back)',
    )
    .option('--strict', 'treat warnings, such as features a target cannot express, as errors')
    .addOption(formatOption())
    .option('--verbose', 'list every diagnostic, not one line per kind with a count')
    .option('--max-warnings <n>', 'fail (exit 1, nothing written) above this many warnings', wholeNumber(0))
    .option(
      '--suppress <codes>',
      'leave out the warnings and notes of these codes (repeatable, or comma-separated)',
      (v: string, prev: string[]) => [...prev, v],
      [],
    )
    .option('--output-format <format>', 'output flavour where a target has several (envoy: yaml|json)')
    .addOption(
      new Option('--consul-format <format>', 'consul config entries as').choices(['crd', 'hcl', 'json']),
    )
    .option(
      '--set <key=value>',
      "a target setting (repeatable), e.g. gatewayClass=istio; linkerd.version=2.17 sets one target's",
      (v: string, prev: string[]) => [...prev, v],
      [],
    )
    .addHelpText(
      'after',
      `
Without -o, stdout gets what a tool reads: a Kubernetes target's objects as one YAML stream, or a
proxy's main file (haproxy.cfg, nginx.conf, httpd.conf, Traefik's dynamic.yml, envoy's gateway
bootstrap); stderr names the other files.
Diagnostics always go to stderr.

Examples:
  meshgen render mesh.yaml --target istio | kubectl apply -f -
  meshgen render mesh.yaml --target haproxy > haproxy.cfg
  meshgen render mesh.yaml --target nginx --file hosts
  meshgen render mesh.yaml --target all -o out
  meshgen render mesh.yaml --target istio,linkerd --layout kind -o out
  meshgen render mesh.yaml --target istio --suppress MG3009 --max-warnings 0
  meshgen render mesh.yaml --target haproxy,nginx --set certDir=/etc/mesh/certs -o out
  meshgen render mesh.yaml --target istio,linkerd --set linkerd.gatewayClass=istio
  meshgen render --source etcd://127.0.0.1:2379/shop --target haproxy -o out
  meshgen targets --target envoy        (the settings a target reads)`,
    )
    .action(async (file: string | undefined, opts: RenderCliOptions) => {
      process.exitCode = await renderCommand(file, opts);
    });
  addSourceOptions(render);
}
