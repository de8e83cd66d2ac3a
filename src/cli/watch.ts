import { Option, type Command } from 'commander';
import { positiveMs } from './numbers.js';
import { formatOption, report } from './report.js';
import { parseSettings } from './settings.js';
import { addSourceOptions, etcdOptions, wantsTls, type SourceCliOptions } from './source.js';

interface WatchCliOptions extends SourceCliOptions {
  target: 'haproxy' | 'nginx' | 'envoy';
  output: string;
  reloadCmd?: string;
  run?: boolean;
  debounce: number;
  bootstrap: string;
  set: string[];
  format: string;
}

/**
 * `meshgen watch`: follows a mesh file or an etcd prefix and keeps one proxy's configuration in
 * step, checked by the proxy before it is swapped in, reloaded after (src/live/watch.ts).
 */
export function registerWatchCommand(program: Command): void {
  const cmd = program
    .command('watch')
    .description(
      "follow a mesh file or etcd prefix: re-render, check, swap and reload a proxy's configuration",
    )
    .addOption(
      new Option('-t, --target <name>', 'the proxy to configure')
        .choices(['haproxy', 'nginx', 'envoy'])
        .makeOptionMandatory(),
    )
    .requiredOption(
      '-o, --output <dir>',
      '<dir>/<target> is the live configuration, <dir>/metrics.prom the metrics',
    )
    .option(
      '--reload-cmd <command>',
      'shell command run after each swap (MESHGEN_OUTPUT names the live folder)',
    )
    .option('--run', 'start the proxy from the live folder and reload it by signal')
    .option(
      '--debounce <duration>',
      'wait this long after a change for more before applying',
      positiveMs,
      200,
    )
    .option('--bootstrap <file>', 'envoy: the bootstrap the data plane checks and runs', 'gateway.yaml')
    .option(
      '--set <key=value>',
      'a target setting (repeatable); haproxy and nginx default to the installed version',
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .addOption(formatOption())
    .addHelpText(
      'after',
      `
Examples:
  meshgen watch --source etcd://127.0.0.1:2379/shop --target haproxy -o /run/mesh --run
  meshgen watch --source mesh.yaml --target nginx -o out --reload-cmd 'nginx -s reload'`,
    )
    .action(async (opts: WatchCliOptions) => {
      process.exitCode = await watchCommand(opts);
    });
  addSourceOptions(cmd, { required: true });
}

async function watchCommand(opts: WatchCliOptions): Promise<number> {
  const { parseSource } = await import('../live/source.js');
  const { startWatch } = await import('../live/watch.js');
  const { forInstalled } = await import('../meshtest/installed.js');
  const fail = (code: string, message: string): number => {
    process.stderr.write(`meshgen watch: error ${code}: ${message}\n`);
    return 2;
  };
  const source = parseSource(opts.source!, { tls: wantsTls(opts) });
  if ('code' in source) return fail(source.code, source.message);
  const settings = parseSettings(opts.set);
  if (typeof settings === 'string') return fail('MG4003', settings);
  if (!/^[A-Za-z0-9._-]{1,200}\.(ya?ml|json)$/.test(opts.bootstrap))
    return fail(
      'MG4029',
      '--bootstrap is a file name of the envoy output (gateway.yaml, sidecar-<backend>.yaml)',
    );
  if (!opts.run && opts.reloadCmd === undefined)
    process.stderr.write(
      'meshgen watch: neither --run nor --reload-cmd: the configuration is written, nothing reloads it\n',
    );
  const watcher = startWatch({
    source,
    etcd: etcdOptions(opts),
    target: opts.target,
    output: opts.output,
    settings: forInstalled(opts.target, settings),
    debounceMs: opts.debounce,
    bootstrap: opts.bootstrap,
    reloadCmd: opts.reloadCmd,
    run: opts.run === true,
    cli: { cmd: process.execPath, args: [process.argv[1]!], cwd: process.cwd() },
    log: (line) => process.stderr.write(`meshgen watch: ${new Date().toISOString()} ${line}\n`),
    report: (diagnostics, sources) =>
      report({ diagnostics: [...diagnostics], sources: new Map(sources) }, opts.format),
  });
  if ('code' in watcher) return fail(watcher.code, watcher.message);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await watcher.stop();
  return 0;
}
