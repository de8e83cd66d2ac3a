import type { Command } from 'commander';
import { positiveMs } from './numbers.js';
import { addSourceOptions, etcdOptions, wantsTls, type SourceCliOptions } from './source.js';

interface RegisterCliOptions extends SourceCliOptions {
  backend: string;
  version: string;
  address: string;
  check: string;
  instance?: string;
  interval: number;
  ttl: number;
}

const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const ADDRESS = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?):[0-9]{1,5}$/;
const INSTANCE = /^[A-Za-z0-9._~-]{1,128}$/;

/**
 * `meshgen register`: keeps an instance in etcd (`<prefix>/endpoints/<backend>/<version>/<instance>`)
 * on a lease while its health check passes, until SIGTERM or SIGINT revokes it.
 */
export function registerRegisterCommand(program: Command): void {
  const cmd = program
    .command('register')
    .description('keep an instance registered in etcd on a lease while its health check passes')
    .requiredOption('--backend <name>', 'the backend the instance serves')
    .requiredOption('--version <name>', 'its version')
    .requiredOption('--address <host:port>', 'where proxies send its traffic')
    .requiredOption(
      '--check <http:/path|tcp>',
      'health check: an HTTP GET answered below 400, or a TCP connect',
    )
    .option('--instance <name>', "the key's last part (default: the address)")
    .option('--interval <duration>', 'time between checks', positiveMs, 2000)
    .option(
      '--ttl <duration>',
      "the lease's time to live: how long a dead registrar's key outlives it",
      positiveMs,
      10_000,
    )
    .addHelpText(
      'after',
      `
Examples:
  meshgen register --source etcd://127.0.0.1:2379/shop --backend api --version v2 \\
    --address 127.0.0.1:9001 --check http:/healthz --interval 2s --ttl 10s`,
    )
    .action(async (opts: RegisterCliOptions) => {
      process.exitCode = await registerCommand(opts);
    });
  addSourceOptions(cmd, { required: true });
}

async function registerCommand(opts: RegisterCliOptions): Promise<number> {
  const { parseSource, endpointKey } = await import('../live/source.js');
  const { parseCheck } = await import('../live/check.js');
  const { connectEtcd } = await import('../live/etcd.js');
  const { startRegistrar } = await import('../live/register.js');
  const fail = (code: string, message: string): number => {
    process.stderr.write(`meshgen register: error ${code}: ${message}\n`);
    return 2;
  };
  const source = parseSource(opts.source!, { tls: wantsTls(opts) });
  if ('code' in source) return fail(source.code, source.message);
  if (source.kind !== 'etcd')
    return fail('MG4029', '--source must be etcd://host:port/prefix: register writes to etcd');
  if (!NAME.test(opts.backend) || opts.backend.length > 63)
    return fail('MG4029', `--backend "${opts.backend.slice(0, 80)}" is not a DNS-1123 label`);
  if (!NAME.test(opts.version) || opts.version.length > 63)
    return fail('MG4029', `--version "${opts.version.slice(0, 80)}" is not a DNS-1123 label`);
  if (!ADDRESS.test(opts.address) || opts.address.length > 261)
    return fail(
      'MG4029',
      `--address "${opts.address.slice(0, 80)}" is not ipv4:port, [ipv6]:port or hostname:port`,
    );
  const check = parseCheck(opts.check);
  if (!check) return fail('MG4029', `--check "${opts.check.slice(0, 80)}" is not http:/path or tcp`);
  const instance = opts.instance ?? opts.address.replace(/[^A-Za-z0-9._~-]/g, '_');
  if (!INSTANCE.test(instance))
    return fail('MG4029', '--instance is not 1 to 128 letters, digits, ".", "_", "~" or "-"');
  if (opts.ttl < opts.interval)
    return fail('MG4029', '--ttl is shorter than --interval: the key would expire between checks');
  const client = connectEtcd(source, etcdOptions(opts));
  if ('code' in client) return fail(client.code, client.message);
  const key = endpointKey(source.prefix, opts.backend, opts.version, instance);
  const registrar = startRegistrar(
    client,
    source,
    { key, address: opts.address, check, intervalMs: opts.interval, ttlMs: opts.ttl },
    (line) => process.stderr.write(`meshgen register: ${line}\n`),
  );
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await registrar.stop();
  client.close();
  return 0;
}
