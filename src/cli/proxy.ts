import { Option, type Command } from 'commander';
import type { ProxyCliOptions } from './proxy-run.js';
import { formatOption } from './report.js';
import { seconds, wholeNumber } from './numbers.js';

/** `meshgen proxy -c bootstrap.yaml`: runs an Envoy v3 bootstrap in meshgen's own data plane. */
export function registerProxyCommand(program: Command): void {
  program
    .command('proxy')
    .description('run an Envoy v3 bootstrap (YAML or JSON) in the meshgen data plane')
    .requiredOption('-c, --config-path <file>', 'Envoy v3 bootstrap, YAML or JSON')
    .addOption(
      new Option('--mode <mode>', 'serve, or validate the configuration and exit (0 valid, 1 not)')
        .choices(['serve', 'validate'])
        .default('serve'),
    )
    .option(
      '--drain-time-s, --drain-time <seconds>',
      'how long connections may finish on SIGTERM and after a reload',
      seconds,
      '5',
    )
    .option('--watch', 'reload when the configuration file changes (SIGHUP always reloads)')
    .option('--concurrency <n>', 'worker processes sharing the listeners', wholeNumber(1), '1')
    .addOption(formatOption())
    .addHelpText(
      'after',
      `
Examples:
  meshgen proxy -c out/envoy/gateway.yaml --mode validate
  meshgen proxy -c out/envoy/gateway.yaml --watch --concurrency 2`,
    )
    .action(async (opts: ProxyCliOptions) => {
      const { proxyCommand } = await import('./proxy-run.js');
      process.exitCode = await proxyCommand(opts);
    });
}
