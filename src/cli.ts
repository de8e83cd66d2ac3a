#!/usr/bin/env node
import fs from 'node:fs/promises';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, Option } from 'commander';
import { hasErrors, escalateWarnings, type Diagnostic } from './model/diagnostics.js';
import type { SourceFile } from './model/source.js';
import { meshSchema } from './model/schema.js';
import { FEATURES } from './model/features.js';
import type { TargetRow } from './cli/targets.js';
import { formatOption, report } from './cli/report.js';
import { loadColours } from './cli/format.js';
import { OutputError, writeFilesAtomically } from './cli/output.js';
import { starterMesh } from './cli/starter.js';
import { UsageError } from './cli/errors.js';
import { registerDiff } from './cli/diff.js';
import { registerRender } from './cli/render.js';
import { registerTest } from './cli/test.js';
import { registerImport } from './cli/import.js';
import { registerCertsCommand } from './cli/certs.js';
import { registerProxyCommand } from './cli/proxy.js';
import { registerRunCommand } from './cli/run.js';
import { registerRegisterCommand } from './cli/register.js';
import { registerWatchCommand } from './cli/watch.js';
import { addSourceOptions, loadEither, unreadableInput, type SourceCliOptions } from './cli/source.js';
import { chooseTargets, parseSettings, settingsText } from './cli/settings.js';
import { settingsMarkdown } from './emitters/settings.js';

const require = createRequire(import.meta.url);
const pkg = require('../package.json') as { version: string };
const schemaFile = fileURLToPath(new URL('../schemas/mesh.schema.json', import.meta.url));

/** Exit codes, as ESLint's: 0 fine, 1 findings (error diagnostics or a diff), 2 usage or I/O. */
const EXIT = { ok: 0, invalid: 1, usage: 2 } as const;

async function validateCommand(
  files: string[],
  opts: { format: string; strict?: boolean } & SourceCliOptions,
): Promise<number> {
  const all: Diagnostic[] = [];
  const sources = new Map<string, SourceFile>();
  if (!files.length && opts.source === undefined) throw new UsageError('give mesh files or --source');
  if (files.length && opts.source !== undefined)
    throw new UsageError('give mesh files or --source, not both');
  for (const file of opts.source !== undefined ? [undefined] : files) {
    const result = await loadEither(file, opts, { resolve: false });
    sources.set(result.source.file, result.source);
    all.push(...(opts.strict ? escalateWarnings(result.diagnostics) : result.diagnostics));
  }
  report({ diagnostics: all, sources }, opts.format);
  if (opts.format === 'text' && !hasErrors(all)) {
    const what = opts.source ?? (files.length === 1 ? files[0] : `${files.length} files`);
    process.stderr.write(`${what}: valid\n`);
  }
  return unreadableInput(all) ? EXIT.usage : hasErrors(all) ? EXIT.invalid : EXIT.ok;
}

/**
 * The `$schema` of the starter, as yaml-language-server reads it (a URL, a path relative to the YAML
 * file, or an absolute path; redhat-developer/yaml-language-server#499): through the project's own
 * `node_modules/meshgen` when the folder or one above it has one, so the line holds on every checkout;
 * else the absolute path of the schema beside this meshgen, wherever it is installed.
 */
async function schemaRef(dir: string): Promise<string> {
  for (let at = path.resolve(dir); ; at = path.dirname(at)) {
    const local = path.join(at, 'node_modules', 'meshgen', 'schemas', 'mesh.schema.json');
    if (
      await fs.stat(local).then(
        () => true,
        () => false,
      )
    ) {
      const rel = path.relative(dir, local).split(path.sep).join('/');
      return rel.startsWith('.') ? rel : `./${rel}`;
    }
    if (path.dirname(at) === at) return schemaFile;
  }
}

async function initCommand(dir: string, opts: { force?: boolean }): Promise<number> {
  const target = path.resolve(dir, 'mesh.yaml');
  const exists = await fs.stat(target).then(
    () => true,
    () => false,
  );
  if (exists && !opts.force)
    throw new UsageError(
      `${path.relative(process.cwd(), target) || target} exists; pass --force to overwrite it`,
    );
  const ref = await schemaRef(path.dirname(target));
  await writeFilesAtomically(path.dirname(target), [{ path: 'mesh.yaml', contents: starterMesh(ref) }]);
  process.stderr.write(`wrote ${path.relative(process.cwd(), target) || target}\n`);
  return EXIT.ok;
}

interface TargetsCliOptions {
  format: string;
  target?: string;
  set: string[];
}

async function targetsCommand(opts: TargetsCliOptions): Promise<number> {
  const { emitters: all } = await import('./emitters/index.js');
  const emitters = opts.target === undefined ? all : chooseTargets(opts.target, all);
  if (typeof emitters === 'string') throw new UsageError(emitters);
  const settings = parseSettings(opts.set);
  if (typeof settings === 'string') throw new UsageError(settings);
  const { describeTargets } = await import('./cli/targets.js');
  const { rows, diagnostics } = describeTargets(emitters, all, settings);
  if (diagnostics.some((d) => d.severity === 'error'))
    throw new UsageError(diagnostics.map((d) => d.message + (d.hint ? ` (${d.hint})` : '')).join('; '));
  if (opts.format === 'json') {
    const matrix = Object.fromEntries(
      rows.map((r) => [
        r.emitter.target,
        {
          summary: r.emitter.summary,
          version: r.version,
          versions: r.emitter.versions && {
            default: r.emitter.versions.default,
            oldest: r.emitter.versions.oldest,
            rules: r.emitter.versions.rules,
          },
          fidelity: r.fidelity,
          settings: (r.emitter.settings ?? []).map(({ check: _check, ...declared }) => declared),
        },
      ]),
    );
    process.stdout.write(JSON.stringify(matrix, null, 2) + '\n');
    return EXIT.ok;
  }
  process.stdout.write(fidelityTable(rows, opts.format === 'markdown'));
  if (opts.target !== undefined) {
    process.stdout.write(
      '\n' +
        (opts.format === 'markdown'
          ? emitters.map((e) => `### ${e.target} settings\n\n${settingsMarkdown(e)}`).join('\n')
          : settingsText(emitters)),
    );
  } else if (opts.format === 'text')
    process.stdout.write(
      '\n`meshgen targets --target <name>` lists the settings of a target (--set key=value).\n',
    );
  return EXIT.ok;
}

/**
 * The fidelity matrix, feature by target, from the emitters' own declarations; a target with versions
 * is headed by the version it describes (`linkerd 2.20`).
 */
export function fidelityTable(rows: readonly TargetRow[], markdown: boolean): string {
  const mark = { exact: 'exact', approximate: 'approx.', unsupported: '-' } as const;
  const names = rows.map((r) => (r.version ? `${r.emitter.target} ${r.version}` : r.emitter.target));
  const table = FEATURES.map((f) => [f, ...rows.map((r) => mark[r.fidelity[f]])]);
  if (markdown) {
    const head = `| feature | ${names.join(' | ')} |\n|---|${names.map(() => '---').join('|')}|\n`;
    return head + table.map((r) => `| ${r.join(' | ')} |`).join('\n') + '\n';
  }
  const widths = [Math.max(...FEATURES.map((f) => f.length)), ...names.map((n) => Math.max(n.length, 7))];
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const summaries = rows
    .map((r) => {
      const v = r.emitter.versions;
      const version = v ? ` [${r.version}; renders ${v.oldest} or later, default ${v.default}]` : '';
      return `  ${r.emitter.target.padEnd(10)} ${r.emitter.summary}${version}`;
    })
    .join('\n');
  return `${summaries}\n\n${line(['feature', ...names])}\n${table.map(line).join('\n')}\n`;
}

function program(): Command {
  const cmd = new Command('meshgen')
    .description(
      'One mesh-neutral file, compiled to Istio, Linkerd, Consul, HAProxy, NGINX, Envoy and iptables.',
    )
    .version(pkg.version, '-v, --version')
    // program options only before the command: `register --version v2` names a backend's version
    .enablePositionalOptions()
    .showHelpAfterError()
    .addHelpText(
      'after',
      `
Examples:
  meshgen validate examples/*.yaml
  meshgen render examples/shop.yaml --target istio
  meshgen render examples/shop.yaml --target all -o out/
  cat mesh.yaml | meshgen validate -
  meshgen targets

Exit codes: 0 fine, 1 invalid input (error diagnostics), 2 usage or I/O error.`,
    );
  const validate = cmd
    .command('validate')
    .description('check mesh files (or an etcd prefix) against the schema and the semantic rules')
    .argument('[files...]', 'mesh files; - reads standard input')
    .addOption(formatOption())
    .option('--strict', 'treat warnings as errors')
    .addHelpText(
      'after',
      `
Examples:
  meshgen validate mesh.yaml
  meshgen validate examples/*.yaml --strict
  cat mesh.yaml | meshgen validate - --format json
  meshgen validate --source etcd://127.0.0.1:2379/shop`,
    )
    .action(async (files: string[], opts) => {
      process.exitCode = await validateCommand(files, opts);
    });
  addSourceOptions(validate);
  registerRender(cmd);
  registerDiff(cmd);
  registerTest(cmd);
  registerImport(cmd);
  cmd
    .command('schema')
    .description("print the mesh format's JSON Schema")
    .addHelpText(
      'after',
      `
Examples:
  meshgen schema > mesh.schema.json`,
    )
    .action(() => {
      process.stdout.write(JSON.stringify(meshSchema, null, 2) + '\n');
    });
  cmd
    .command('init')
    .description('write a commented starter mesh.yaml')
    .argument('[dir]', 'folder to write it in', '.')
    .option('-f, --force', 'overwrite an existing mesh.yaml')
    .addHelpText(
      'after',
      `
Examples:
  meshgen init
  meshgen init meshes/ --force`,
    )
    .action(async (dir: string, opts) => {
      process.exitCode = await initCommand(dir, opts);
    });
  cmd
    .command('targets')
    .description('list the targets and what each can express (the fidelity matrix), at a version')
    .addOption(
      new Option('--format <format>', 'text, markdown or json')
        .choices(['text', 'markdown', 'json'])
        .default('text'),
    )
    .option('-t, --target <name>', "only these targets (comma-separated), with each one's settings")
    .option(
      '--set <key=value>',
      'a target setting (repeatable): version=2.17 with one --target, or linkerd.version=2.17',
      (v: string, prev: string[]) => [...prev, v],
      [],
    )
    .addHelpText(
      'after',
      `
Examples:
  meshgen targets
  meshgen targets --target envoy
  meshgen targets --target linkerd --set version=2.17
  meshgen targets --format json`,
    )
    .action(async (opts) => {
      process.exitCode = await targetsCommand(opts);
    });
  cmd
    .command('version')
    .description('print the version of meshgen, of Node.js, and of the releases each target renders for')
    .addHelpText(
      'after',
      `
Examples:
  meshgen version`,
    )
    .action(async () => {
      const { emitters } = await import('./emitters/index.js');
      const lines = [`meshgen ${pkg.version}`, `node ${process.versions.node}`];
      for (const e of emitters) {
        const v = e.settings?.find((s) => s.name === 'version');
        if (v?.default) lines.push(`${e.target} ${v.default} (default; ${v.accepts ?? ''})`);
      }
      process.stdout.write(lines.join('\n') + '\n');
    });
  registerCertsCommand(cmd);
  registerProxyCommand(cmd);
  registerRunCommand(cmd);
  registerRegisterCommand(cmd);
  registerWatchCommand(cmd);
  return cmd;
}

export async function main(argv: string[]): Promise<number> {
  const cmd = program();
  cmd.exitOverride();
  cmd.configureOutput({ writeErr: (s) => process.stderr.write(s) });
  for (const sub of cmd.commands) sub.exitOverride();
  await loadColours();
  try {
    await cmd.parseAsync(argv);
    return Number(process.exitCode ?? 0);
  } catch (e) {
    if (e instanceof CommanderError) {
      if (
        e.code === 'commander.helpDisplayed' ||
        e.code === 'commander.version' ||
        e.code === 'commander.help'
      )
        return EXIT.ok;
      return EXIT.usage;
    }
    if (e instanceof UsageError || e instanceof OutputError) {
      process.stderr.write(`meshgen: ${e.message}\n`);
      return EXIT.usage;
    }
    const err = e as NodeJS.ErrnoException;
    if (err && typeof err.code === 'string' && err.syscall) {
      process.stderr.write(`meshgen: ${err.message}\n`);
      return EXIT.usage;
    }
    throw e;
  }
}

const invoked = process.argv[1] ? await fs.realpath(process.argv[1]).catch(() => process.argv[1]) : undefined;
if (invoked === fileURLToPath(import.meta.url)) {
  main(process.argv).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(
        `meshgen: internal error (please report it): ${(e as Error)?.stack ?? String(e)}\n`,
      );
      process.exitCode = 70;
    },
  );
}
