import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startBackend } from '../support/backends.js';
import { distCli } from '../support/cli.js';
import { freePorts, hasBinary, startProcess, waitFor, type Started } from '../support/processes.js';
import { mesh, printOnFailure, reached, startedPids, stopStartedProxies } from '../support/watch.js';

/*
 * A change that comes while the proxy `watch --run` started is still starting. A reload signal
 * sent then ends HAProxy's and NGINX's master (SIGUSR2's and SIGHUP's default action) or is lost
 * (HAProxy's master starting its first worker, which then never says "Loading success." for it):
 * the watcher waits until the proxy says it takes one (src/live/proxies.ts, readiness). The file
 * is replaced the moment the watcher says it started the proxy, in several rounds: before the wait,
 * HAProxy died or hung in 11 of 30 such rounds run by a script, and this test failed in its second
 * round. NGINX and the data plane start in other ways (a pid file; SIGHUP caught while it loads),
 * fewer rounds for them.
 */

const ROUNDS = { haproxy: 10, nginx: 5, envoy: 3 } as const;

const TARGETS = [
  { target: 'haproxy', binary: 'haproxy' },
  { target: 'nginx', binary: 'nginx' },
  { target: 'envoy', binary: undefined },
] as const;

describe('meshgen watch --run: a change while the proxy starts', () => {
  const stops: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop().catch(() => undefined);
  });

  for (const { target, binary } of TARGETS) {
    it.skipIf(binary !== undefined && !hasBinary(binary))(
      `${target}: is applied once the proxy serves, which keeps serving`,
      async () => {
        const backend = await startBackend('api', 'v1');
        stops.push(() => backend.close());
        for (let round = 0; round < ROUNDS[target]; round++) {
          const dir = fs.mkdtempSync(path.join(os.tmpdir(), `meshgen-start-${target}-`));
          stops.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
          const [port, service, admin] = await freePorts(3);
          const file = path.join(dir, 'mesh.yaml');
          fs.writeFileSync(file, mesh(port!, service!, '5s', [backend.address]));
          // after the watcher stopped (stops run last first): whatever proxy it left running
          stops.push(async () => stopStartedProxies(watch.output()));
          const watch: Started = startProcess(process.execPath, [
            distCli(),
            'watch',
            '--source',
            file,
            '--target',
            target,
            '-o',
            path.join(dir, 'out'),
            '--run',
            '--debounce',
            '1ms',
            ...(target === 'envoy' ? ['--set', `adminPort=${admin}`] : []),
          ]);
          stops.push(() => watch.stop());
          printOnFailure(`meshgen watch, round ${round + 1}`, watch);
          // the change, written (by a rename, as editors do) the moment the watcher says it
          // started the proxy: on the output event itself, not at the next poll
          let changed = false;
          let seen = '';
          const on = (d: Buffer) => {
            seen += d.toString();
            if (changed || !startedPids(seen).length) return;
            changed = true;
            watch.child.stdout?.off('data', on);
            watch.child.stderr?.off('data', on);
            fs.writeFileSync(`${file}.new`, mesh(port!, service!, '6s', [backend.address]));
            fs.renameSync(`${file}.new`, file);
          };
          watch.child.stdout?.on('data', on);
          watch.child.stderr?.on('data', on);
          await waitFor(() => changed || watch.child.exitCode !== null, {
            what: `the watcher starting ${target}`,
            timeoutMs: 30_000,
          });
          expect(watch.child.exitCode).toBe(null);
          await waitFor(
            () => /generation 2: route all \(frontend edge\) timeout: 5s -> 6s/.test(watch.output()),
            {
              what: 'the change applied',
              timeoutMs: 30_000,
            },
          );
          // one proxy, started once, never ended by a signal, serving after the reload
          const pids = startedPids(watch.output());
          expect(pids).toHaveLength(1);
          expect(watch.output()).not.toMatch(/^meshgen watch: .*(exited|reload failed|did not say)/m);
          await waitFor(async () => (await reached(port!, 5)).has(backend.port), {
            what: `${target} answering from the backend`,
            timeoutMs: 10_000,
          });
          expect(fs.existsSync(`/proc/${pids[0]}`)).toBe(true);
          await watch.stop();
        }
      },
      120_000,
    );
  }
});
