import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Etcd3 } from 'etcd3';
import { startOnFreePorts, startProcess, type Started } from './processes.js';

export interface TestEtcd {
  /** `127.0.0.1:<client port>`. */
  readonly endpoint: string;
  readonly proc: Started;
  /** A client of this store, closed by stop(). */
  readonly client: Etcd3;
  stop(): Promise<void>;
}

/**
 * Starts Debian's etcd (etcd-server) on 127.0.0.1 with free client and peer ports and its own data
 * folder; stop() closes the client, stops the process by its pid and removes the folder.
 */
export async function startEtcd(): Promise<TestEtcd> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshgen-etcd-'));
  const { proc, ports } = await startOnFreePorts(
    2,
    ([client, peer]) => {
      const c = `http://127.0.0.1:${client}`;
      const p = `http://127.0.0.1:${peer}`;
      return startProcess('etcd', [
        '--name=test',
        `--data-dir=${path.join(dir, 'data')}`,
        `--listen-client-urls=${c}`,
        `--advertise-client-urls=${c}`,
        `--listen-peer-urls=${p}`,
        `--initial-advertise-peer-urls=${p}`,
        `--initial-cluster=test=${p}`,
        '--log-level=error',
      ]);
    },
    { ready: (p) => [p[0]!] },
  );
  const endpoint = `127.0.0.1:${ports[0]}`;
  const client = new Etcd3({ hosts: `http://${endpoint}` });
  return {
    endpoint,
    proc,
    client,
    async stop() {
      client.close();
      await proc.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
