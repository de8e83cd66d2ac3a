/**
 * The etcd side of a source: a client with etcdctl's TLS and user options, one consistent read of
 * the prefix (the mesh document and every endpoint at one revision), and etcd's failures as
 * diagnostics (MG4021 unreachable, MG4022 no mesh key, MG4025 TLS, MG4026 authentication).
 */
import fs from 'node:fs';
import { Etcd3, type IOptions } from 'etcd3';
import { diagnostic, type Diagnostic } from '../model/diagnostics.js';
import { parseMesh, type MeshResult } from '../model/load.js';
import { addEndpoints, readEndpoint, type StoreEndpoint } from './endpoints.js';
import { endpointsPrefix, keyLocation, meshKey } from './source.js';

/** The options etcdctl names --cacert, --cert, --key, --user and --password. */
export interface EtcdOptions {
  readonly cacert?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly user?: string;
  readonly password?: string;
  /** How long a read may wait for the store (default 5 s): then MG4021. */
  readonly timeoutMs?: number;
}

export interface EtcdSource {
  readonly endpoint: string;
  readonly prefix: string;
  readonly tls: boolean;
}

/** Makes a client; a certificate file that cannot be read is MG4025. */
export function connectEtcd(source: EtcdSource, options: EtcdOptions): Etcd3 | Diagnostic {
  const tls = source.tls || options.cacert !== undefined || options.cert !== undefined;
  const read = (file: string | undefined, what: string): Buffer | Diagnostic | undefined => {
    if (file === undefined) return undefined;
    try {
      return fs.readFileSync(file);
    } catch (e) {
      return diagnostic(
        'MG4025',
        `cannot read the ${what} ${file}: ${(e as NodeJS.ErrnoException).code ?? e}`,
      );
    }
  };
  const config: IOptions = {
    hosts: `${tls ? 'https' : 'http'}://${source.endpoint}`,
    dialTimeout: options.timeoutMs ?? 5000,
  };
  if (tls) {
    const ca = read(options.cacert, '--etcd-cacert');
    const cert = read(options.cert, '--etcd-cert');
    const key = read(options.key, '--etcd-key');
    for (const d of [ca, cert, key]) if (d && !Buffer.isBuffer(d)) return d;
    if ((cert === undefined) !== (key === undefined))
      return diagnostic('MG4025', '--etcd-cert and --etcd-key go together: give both or neither');
    // gRPC reads the system's roots when no CA is given
    config.credentials = {
      rootCertificate: (ca as Buffer | undefined) ?? Buffer.alloc(0),
      ...(cert ? { certChain: cert as Buffer, privateKey: key as Buffer } : {}),
    };
    if (!ca) delete (config.credentials as { rootCertificate?: Buffer }).rootCertificate;
  }
  if (options.user !== undefined || options.password !== undefined) {
    if (options.user === undefined || options.password === undefined)
      return diagnostic('MG4026', '--etcd-user and --etcd-password go together: give both');
    config.auth = { username: options.user, password: options.password };
  }
  return new Etcd3(config);
}

/** An etcd failure as a diagnostic: TLS (MG4025), authentication (MG4026), else unreachable (MG4021). */
export function storeFailure(source: EtcdSource, e: unknown): Diagnostic {
  const name = (e as Error | undefined)?.constructor?.name ?? '';
  const text = String((e as Error | undefined)?.message ?? e).slice(0, 300);
  const where = `etcd at ${source.endpoint}`;
  if (
    /Authentication|Unauthenticated|PermissionDenied|InvalidAuthToken|RoleNotGranted|UserNotFound/.test(name)
  )
    return diagnostic('MG4026', `${where} refused the request: ${text}`, {
      hint: "check --etcd-user and --etcd-password, and the user's role on the prefix",
    });
  if (/ssl|tls|certificate|handshake|alpn/i.test(text))
    return diagnostic('MG4025', `${where}: TLS failed: ${text}`, {
      hint: 'check --etcd-cacert, --etcd-cert and --etcd-key, and whether the store speaks TLS (etcds://)',
    });
  return diagnostic('MG4021', `${where} is unreachable: ${text}`, {
    hint: 'check that etcd runs and listens on that address (etcdctl endpoint health)',
  });
}

/** Runs a request against the store, failing with a diagnostic after the timeout. */
export async function withTimeout<T>(
  source: EtcdSource,
  timeoutMs: number,
  run: () => Promise<T>,
): Promise<T | Diagnostic> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<Diagnostic>((resolve) => {
    timer = setTimeout(
      () =>
        resolve(
          diagnostic('MG4021', `etcd at ${source.endpoint} did not answer within ${timeoutMs} ms`, {
            hint: 'check that etcd runs and listens on that address (etcdctl endpoint health)',
          }),
        ),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([run().catch((e: unknown) => storeFailure(source, e)), late]);
  } finally {
    clearTimeout(timer);
  }
}

export interface StoreSnapshot {
  /** The store's revision of the read. */
  readonly revision: string;
  readonly meshText?: string;
  readonly endpoints: readonly StoreEndpoint[];
  readonly diagnostics: readonly Diagnostic[];
}

/** Reads the prefix once: the mesh document and the endpoints, at one revision. */
export async function readStore(
  client: Etcd3,
  source: EtcdSource,
  timeoutMs = 5000,
): Promise<StoreSnapshot | Diagnostic> {
  const response = await withTimeout(source, timeoutMs, () =>
    client.getAll().prefix(`${source.prefix}/`).exec(),
  );
  if ('code' in response) return response;
  const where = (key: string): string => keyLocation(source, key);
  let meshText: string | undefined;
  const endpoints: StoreEndpoint[] = [];
  const diagnostics: Diagnostic[] = [];
  const under = endpointsPrefix(source.prefix);
  for (const kv of response.kvs) {
    const key = kv.key.toString('utf8');
    if (key === meshKey(source.prefix)) meshText = kv.value.toString('utf8');
    else if (key.startsWith(under)) {
      const read = readEndpoint(source.prefix, key, kv.value.toString('utf8'), where);
      diagnostics.push(...read.diagnostics);
      if (read.endpoint) endpoints.push(read.endpoint);
    }
  }
  return { revision: String(response.header.revision), meshText, endpoints, diagnostics };
}

/** The mesh of a snapshot: the document parsed, the store's endpoints added, validated and resolved. */
export function meshOfSnapshot(source: EtcdSource, snapshot: StoreSnapshot): MeshResult {
  const file = keyLocation(source, meshKey(source.prefix));
  if (snapshot.meshText === undefined) {
    const result = parseMesh('', { file });
    return {
      source: result.source,
      diagnostics: [
        diagnostic('MG4022', `etcd at ${source.endpoint} has no key ${meshKey(source.prefix)}`, {
          hint: `write the mesh document there: etcdctl put ${meshKey(source.prefix)} < mesh.yaml`,
        }),
        ...snapshot.diagnostics,
      ],
    };
  }
  const where = (key: string): string => keyLocation(source, key);
  const result = parseMesh(snapshot.meshText, {
    file,
    amend: (value) => addEndpoints(value, snapshot.endpoints, where),
  });
  return { ...result, diagnostics: [...snapshot.diagnostics, ...result.diagnostics] };
}

/** A load that failed at the store: the diagnostic, with an empty source at the mesh key. */
export function failedLoad(source: EtcdSource, d: Diagnostic): MeshResult {
  return {
    source: parseMesh('', { file: keyLocation(source, meshKey(source.prefix)) }).source,
    diagnostics: [d],
  };
}
