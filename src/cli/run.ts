import type { Command } from 'commander';
import type { RunCliOptions } from './run-action.js';
import { seconds } from './numbers.js';
import { addSourceOptions } from './source.js';

/**
 * `meshgen run <mesh> --as <name>`: renders the Envoy bootstrap of one frontend (its gateway
 * listener) or one backend (its sidecar) in memory and serves it in meshgen's data plane,
 * re-rendering when the mesh file changes. The data plane loads only when the command runs.
 */
export function registerRunCommand(program: Command): void {
  const cmd = program
    .command('run')
    .description("run a frontend's gateway or a backend's sidecar from a mesh file in the meshgen data plane")
    .argument('[file]', 'mesh file (or --source)')
    .requiredOption('--as <name>', 'the frontend or backend to run the proxy of')
    .option(
      '--set <key=value>',
      'envoy target setting (certDir, adminPort, inboundPort; `meshgen targets --target envoy`); repeatable',
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .option(
      '--drain-time-s, --drain-time <seconds>',
      'how long connections may finish on stop and reload',
      seconds,
      '5',
    )
    .option('--no-watch', 'do not re-render when the mesh file (or the etcd prefix) changes')
    .addHelpText(
      'after',
      `
Examples:
  meshgen certs examples/hello.yaml -o certs
  meshgen run examples/hello.yaml --as web
  meshgen run examples/shop.yaml --as catalog --set adminPort=15100
  meshgen run --source etcd://127.0.0.1:2379/shop --as web`,
    );
  addSourceOptions(cmd);
  cmd.action(async (file: string | undefined, opts: RunCliOptions) => {
    const { runCommand } = await import('./run-action.js');
    process.exitCode = await runCommand(file, opts);
  });
}
