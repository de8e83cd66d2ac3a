import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { distCli, runCli } from '../support/cli.js';
import { ROOT } from '../support/meshes.js';
import { startOnFreePorts, startProcess, type Started } from '../support/processes.js';

/**
 * The Envoy path out of the box: `meshgen certs examples/hello.yaml -o certs` then `meshgen run
 * examples/hello.yaml --as web`, in a fresh folder, with no --set certDir: the Envoy target reads
 * certs/ as HAProxy and NGINX do. Only the frontend and admin ports differ from the example's (a
 * test binds free ports).
 */
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshgen-envoy-start-'));
let proc: Started | undefined;
afterAll(async () => {
  await proc?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('meshgen certs, then meshgen run, on examples/hello.yaml', () => {
  it('serves the frontend with the certificates in certs/', async () => {
    const example = fs.readFileSync(path.join(ROOT, 'examples/hello.yaml'), 'utf8');
    fs.writeFileSync(path.join(dir, 'hello.yaml'), example);
    const certs = runCli(['certs', 'hello.yaml', '-o', 'certs'], { cwd: dir });
    expect(certs.status, certs.stderr).toBe(0);
    expect(fs.existsSync(path.join(dir, 'certs/frontends/web.crt'))).toBe(true);
    let port = 0;
    ({ proc } = await startOnFreePorts(
      2,
      ([frontend, admin]) => {
        port = frontend!;
        fs.writeFileSync(path.join(dir, 'hello.yaml'), example.replace('port: 8000', `port: ${frontend}`));
        return startProcess(
          process.execPath,
          [distCli(), 'run', 'hello.yaml', '--as', 'web', '--set', `adminPort=${admin}`, '--no-watch'],
          { cwd: dir },
        );
      },
      { ready: ([frontend]) => [frontend!] },
    ));
    // no app listens on the example's endpoints: the gateway answers for them (503), over real HTTP
    const res = await fetch(`http://127.0.0.1:${port}/`, { headers: { connection: 'close' } });
    expect(res.status).toBe(503);
    expect(proc.output()).toContain('serving web from hello.yaml');
  });
});
