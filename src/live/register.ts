/**
 * `meshgen register`, Nerve's job: keeps one instance's key in etcd on a lease while its health
 * check passes. The lease's keep-alive runs as long as the process does; a failed check revokes the
 * lease (which deletes the key), a passing one grants a new lease and writes the key again; stop()
 * revokes it; a registrar that dies without revoking leaves a key that expires with its lease.
 */
import type { Etcd3, Lease } from 'etcd3';
import { runCheck, type HealthCheck } from './check.js';
import { storeFailure, withTimeout, type EtcdSource } from './etcd.js';

export interface Registration {
  readonly key: string;
  readonly address: string;
  readonly check: HealthCheck;
  readonly intervalMs: number;
  readonly ttlMs: number;
}

export interface Registrar {
  /** Revokes the lease (deleting the key) and stops checking. */
  stop(): Promise<void>;
}

/** Starts checking and registering; `log` receives one line per change of state. */
export function startRegistrar(
  client: Etcd3,
  source: EtcdSource,
  r: Registration,
  log: (line: string) => void,
): Registrar {
  let lease: Lease | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let lastFailure: string | undefined;
  const ttlS = Math.max(1, Math.ceil(r.ttlMs / 1000));

  const revoke = async (why: string): Promise<void> => {
    const held = lease;
    lease = undefined;
    if (!held) return;
    const done = await withTimeout(source, Math.max(1000, r.intervalMs), () => held.revoke());
    if (done && typeof done === 'object' && 'code' in done)
      log(`${r.key}: could not revoke its lease (${done.message})`);
    else log(`${r.key}: removed (${why})`);
  };

  const tick = async (): Promise<void> => {
    const failure = await runCheck(r.check, r.address, Math.min(r.intervalMs, 5000));
    if (stopped) return;
    if (failure !== undefined) {
      if (failure !== lastFailure) log(`${r.address}: check failed: ${failure}`);
      lastFailure = failure;
      await revoke('its check failed');
      return;
    }
    lastFailure = undefined;
    if (lease && !lease.revoked()) return;
    const fresh = client.lease(ttlS, { autoKeepAlive: true });
    fresh.on('lost', (e) => {
      if (lease === fresh) {
        lease = undefined;
        log(`${r.key}: lease lost (${storeFailure(source, e).message}); registering again`);
      }
    });
    const put = await withTimeout(source, Math.max(1000, r.intervalMs), () =>
      fresh.put(r.key).value(r.address).exec(),
    );
    if ('code' in put) {
      log(`${r.key}: not registered: ${put.message}`);
      fresh.revoke().catch(() => undefined);
      return;
    }
    lease = fresh;
    log(`${r.key}: registered ${r.address} (lease ${await fresh.grant()}, ttl ${ttlS}s)`);
  };

  const loop = (): void => {
    running = tick().finally(() => {
      if (!stopped) timer = setTimeout(loop, r.intervalMs);
    });
  };
  loop();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running.catch(() => undefined);
      await revoke('stopped');
    },
  };
}
