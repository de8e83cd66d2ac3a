import { Option, type Command } from 'commander';
import type { EtcdOptions } from '../live/etcd.js';
import type { Diagnostic } from '../model/diagnostics.js';
import { loadMesh, parseMesh, type MeshResult } from '../model/load.js';
import { UsageError } from './errors.js';
import { positiveMs } from './numbers.js';

/** The options every command reading `--source` takes: etcd's, named as etcdctl names them. */
export interface SourceCliOptions {
  source?: string;
  etcdCacert?: string;
  etcdCert?: string;
  etcdKey?: string;
  etcdUser?: string;
  etcdPassword?: string;
  etcdTimeout?: number;
}

/** Adds --source and the etcd client options to a command. */
export function addSourceOptions(cmd: Command, { required = false } = {}): Command {
  const source = new Option(
    '--source <file|etcd://host:port/prefix>',
    'where the mesh comes from: a file, or an etcd prefix (<prefix>/mesh and <prefix>/endpoints/...)',
  );
  if (required) source.makeOptionMandatory();
  return cmd
    .addOption(source)
    .option('--etcd-cacert <file>', "the CA that signs etcd's certificate (TLS)")
    .option('--etcd-cert <file>', 'client certificate for etcd (TLS)')
    .option('--etcd-key <file>', 'client key for etcd (TLS)')
    .option('--etcd-user <name>', 'etcd user (with --etcd-password)')
    .option('--etcd-password <password>', 'etcd password')
    .option('--etcd-timeout <duration>', 'how long to wait for etcd (default 5s)', positiveMs);
}

/** The etcd options of a command's parsed options. */
export function etcdOptions(opts: SourceCliOptions): EtcdOptions {
  return {
    cacert: opts.etcdCacert,
    cert: opts.etcdCert,
    key: opts.etcdKey,
    user: opts.etcdUser,
    password: opts.etcdPassword,
    timeoutMs: opts.etcdTimeout,
  };
}

/** Whether TLS options were given (then etcd:// speaks TLS too). */
export function wantsTls(opts: SourceCliOptions): boolean {
  return opts.etcdCacert !== undefined || opts.etcdCert !== undefined;
}

/**
 * True when the mesh could not be read because of how it was named: a file that cannot be read
 * (MG4001) or a `--source` that is neither a path nor an etcd URL (MG4020). Every command reading a
 * mesh exits 2 (usage) for these, 1 for a mesh with errors.
 */
export function unreadableInput(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.code === 'MG4001' || d.code === 'MG4020');
}

/** The mesh of `--source` (or of a file argument), loaded through src/live only when a source is given. */
export async function loadEither(
  file: string | undefined,
  opts: SourceCliOptions,
  options: { resolve?: boolean } = {},
): Promise<MeshResult> {
  if (opts.source === undefined) {
    if (file === undefined) throw new UsageError('give a mesh file or --source');
    return loadMesh(file, options);
  }
  if (file !== undefined) throw new UsageError('give a mesh file or --source, not both');
  const { parseSource } = await import('../live/source.js');
  const { loadSource } = await import('../live/load.js');
  const source = parseSource(opts.source, { tls: wantsTls(opts) });
  if ('code' in source) {
    const result = parseMesh('', { file: '--source' });
    return { source: result.source, diagnostics: [source] };
  }
  return loadSource(source, etcdOptions(opts), options);
}
