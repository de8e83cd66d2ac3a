import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateMesh } from '../../bench/gen-mesh.mjs';
import { runCli } from '../support/cli.js';
import { tempDirsPerTest } from '../support/temp.js';
import { ROOT } from '../support/meshes.js';

const tmp = tempDirsPerTest('meshgen-certs');

/** A file that holds (or will hold) a private key: `x.key`, `x.pem`, and their temporary names. */
const KEY_FILE = /\.(key|pem)(\.meshgen-\d+\.(tmp|old))?$/;

describe('meshgen certs (CLI)', () => {
  it('never lets a key file be readable by group or others, even under umask 000', async () => {
    const dir = tmp();
    const mesh = path.join(dir, 'mesh.yaml');
    fs.writeFileSync(mesh, generateMesh(60)); // 180 key files: a window would not go unseen
    const out = path.join(dir, 'certs');
    fs.mkdirSync(out);
    const child = spawn(
      'sh',
      [
        '-c',
        'umask 000 && exec "$0" "$@"',
        process.execPath,
        path.join(ROOT, 'dist/cli.js'),
        'certs',
        mesh,
        '-o',
        out,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    let done = false;
    void exited.then(() => (done = true));
    const seen: string[] = [];
    let scans = 0;
    const deadline = Date.now() + 60_000;
    try {
      // scans the folder as fast as it can while certs runs: a key's window of a few ms is seen
      while (!done && Date.now() < deadline) {
        for (const name of fs.readdirSync(out)) {
          if (!KEY_FILE.test(name)) continue;
          const mode = fs.statSync(path.join(out, name), { throwIfNoEntry: false })?.mode;
          if (mode !== undefined && (mode & 0o077) !== 0) seen.push(`${name} ${(mode & 0o777).toString(8)}`);
        }
        scans++;
        await new Promise((r) => setImmediate(r));
      }
    } finally {
      if (!done) child.kill('SIGKILL');
    }
    expect(await exited, stderr).toBe(0);
    expect(scans).toBeGreaterThan(10);
    expect(seen).toEqual([]);
    const keys = fs.readdirSync(out).filter((f) => /\.(key|pem)$/.test(f));
    expect(keys.length).toBe(2 * 60 + 1);
    for (const f of keys) expect((fs.statSync(path.join(out, f)).mode & 0o777).toString(8), f).toBe('600');
    expect((fs.statSync(path.join(out, 'ca.crt')).mode & 0o777).toString(8)).toBe('666');
  });

  it('refuses a frontend tls.key that would replace the CA key', () => {
    const dir = tmp();
    const out = path.join(dir, 'certs');
    expect(runCli(['certs', 'examples/shop.yaml', '-o', out]).status).toBe(0);
    const caKey = fs.readFileSync(path.join(out, 'ca.key'), 'utf8');
    const mesh = path.join(dir, 'clash.yaml');
    fs.writeFileSync(
      mesh,
      fs
        .readFileSync(path.join(ROOT, 'examples/shop.yaml'), 'utf8')
        .replace('key: certs/shop.key', 'key: certs/ca.key'),
    );
    const r = runCli(['certs', mesh, '-o', out]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /clash\.yaml:\d+:\d+: error MG2028: frontend "public": tls\.key "certs\/ca\.key"/,
    );
    expect(fs.readFileSync(path.join(out, 'ca.key'), 'utf8')).toBe(caKey);
  });

  it('refuses a tls.clientCa naming the CA key, and accepts one naming ca.crt', () => {
    const dir = tmp();
    const out = path.join(dir, 'certs');
    const shop = fs.readFileSync(path.join(ROOT, 'examples/shop.yaml'), 'utf8');
    const withClientCa = (file: string) =>
      shop.replace('key: certs/shop.key', `key: certs/shop.key\n        clientCa: ${file}`);
    fs.writeFileSync(path.join(dir, 'bad.yaml'), withClientCa('certs/ca.key'));
    fs.writeFileSync(path.join(dir, 'good.yaml'), withClientCa('certs/ca.crt'));
    const bad = runCli(['certs', path.join(dir, 'bad.yaml'), '-o', out]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('error MG2028: frontend "public": tls.clientCa "certs/ca.key"');
    expect(fs.existsSync(out)).toBe(false);
    expect(runCli(['certs', path.join(dir, 'good.yaml'), '-o', out]).status).toBe(0);
  });
});
