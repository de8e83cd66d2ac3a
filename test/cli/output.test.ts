import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { tempDirsPerTest } from '../support/temp.js';
import { writeFilesAtomically } from '../../src/cli/output.js';

const tmp = tempDirsPerTest('meshgen-output');

/** The pid of a process that has already exited: what a killed run's file names carry. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '']).pid!;
}

/** Every path under a folder, links not followed, sorted. */
function tree(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    out.push(prefix + e.name);
    if (e.isDirectory()) out.push(...tree(path.join(dir, e.name), `${prefix}${e.name}/`));
  }
  return out.sort();
}

const render = (mesh: string, out: string, target = 'istio') =>
  runCli(['render', mesh, '--target', target, '-o', out]);

describe('render -o', () => {
  it('makes each target a link to a generation folder and removes files no longer rendered', () => {
    const out = tmp();
    expect(render('examples/shop.yaml', out, 'istio,haproxy').status).toBe(0);
    const shop = fs.readdirSync(path.join(out, 'istio')).sort();
    expect(fs.lstatSync(path.join(out, 'istio')).isSymbolicLink()).toBe(true);
    const r = render('examples/hello.yaml', out);
    expect(r.status).toBe(0);
    const hello = fs.readdirSync(path.join(out, 'istio')).sort();
    const gone = shop.filter((f) => !hello.includes(f));
    expect(gone.length).toBeGreaterThan(0);
    expect(r.stderr).toContain(
      `${path.join(out, 'istio')}: ${gone.length} files removed (no longer rendered): ${gone.slice(0, 5).join(', ')}`,
    );
    // one generation per target: the previous istio generation is gone, haproxy's is kept
    const generations = fs.readdirSync(path.join(out, '.meshgen')).sort();
    expect(generations).toEqual(
      ['haproxy', 'istio'].map((t) => path.basename(fs.readlinkSync(path.join(out, t)))).sort(),
    );
  });

  it('moves a folder from an earlier version aside, says so, and cleans the old writer’s leftovers', () => {
    const out = tmp();
    const istio = path.join(out, 'istio');
    fs.mkdirSync(path.join(istio, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(istio, 'stale.yaml'), 'old\n');
    const pid = deadPid();
    for (let i = 0; i < 50; i++) {
      fs.writeFileSync(path.join(istio, `f${i}.yaml.meshgen-${pid}.tmp`), '');
      fs.writeFileSync(path.join(istio, 'sub', `f${i}.yaml.meshgen-${pid}.tmp`), '');
    }
    fs.writeFileSync(path.join(istio, `stale.yaml.meshgen-${pid}.old`), 'older\n');
    fs.writeFileSync(path.join(out, `notes.txt.meshgen-${pid}.tmp`), '');
    fs.writeFileSync(path.join(out, 'notes.txt'), 'mine\n');
    const r = render('examples/hello.yaml', out);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain(`${istio}: was a plain folder from an earlier meshgen`);
    expect(r.stderr).toContain(`${istio}: 1 file removed (no longer rendered): stale.yaml`);
    expect(fs.lstatSync(istio).isSymbolicLink()).toBe(true);
    const all = tree(out);
    expect(all.filter((p) => /\.meshgen-\d+\.(tmp|old)$/.test(p))).toEqual([]);
    expect(all.filter((p) => !p.startsWith('.meshgen/'))).toEqual(['.meshgen', 'istio', 'notes.txt']);
    expect(fs.readFileSync(path.join(out, 'notes.txt'), 'utf8')).toBe('mine\n');
  });

  it('removes generations and links that killed runs left, keeping a moved-aside folder', () => {
    const out = tmp();
    expect(render('examples/hello.yaml', out).status).toBe(0);
    const pid = deadPid();
    const meta = path.join(out, '.meshgen');
    fs.mkdirSync(path.join(meta, `istio-${pid}-0123abcd`, 'x'), { recursive: true });
    fs.writeFileSync(path.join(meta, `istio-${pid}-0123abcd`, 'x', 'a.yaml'), '');
    fs.symlinkSync(`.meshgen/istio-${pid}-0123abcd`, path.join(meta, `istio-${pid}-0123abcd.link`));
    // killed between moving an earlier version's folder aside and linking the new generation
    fs.mkdirSync(path.join(meta, `linkerd-${pid}-89abcdef.legacy`));
    fs.writeFileSync(path.join(meta, `linkerd-${pid}-89abcdef.legacy`, 'kept.yaml'), 'kept\n');
    expect(render('examples/hello.yaml', out).status).toBe(0);
    expect(fs.readdirSync(meta)).toEqual([path.basename(fs.readlinkSync(path.join(out, 'istio')))]);
    expect(fs.readFileSync(path.join(out, 'linkerd', 'kept.yaml'), 'utf8')).toBe('kept\n');
  });

  it('refuses a regular file where a target folder goes, touching nothing', () => {
    const out = tmp();
    fs.writeFileSync(path.join(out, 'istio'), 'not a folder\n');
    const r = render('examples/hello.yaml', out, 'haproxy,istio');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`meshgen: ${path.join(out, 'istio')} is not a folder`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(fs.readFileSync(path.join(out, 'istio'), 'utf8')).toBe('not a folder\n');
    expect(fs.readdirSync(out)).toEqual(['istio']);
  });

  it('replaces a link to a folder outside -o without touching that folder', () => {
    const out = tmp();
    const elsewhere = tmp();
    fs.writeFileSync(path.join(elsewhere, 'keep.yaml'), 'keep\n');
    fs.symlinkSync(elsewhere, path.join(out, 'istio'));
    expect(render('examples/hello.yaml', out).status).toBe(0);
    expect(fs.readdirSync(elsewhere)).toEqual(['keep.yaml']);
    expect(fs.readlinkSync(path.join(out, 'istio'))).toMatch(/^\.meshgen\/istio-\d+-[0-9a-f]{8}$/);
  });
});

describe('writeFilesAtomically (certs, init)', () => {
  it('removes the leftovers of killed runs and puts back a file a run had moved aside', async () => {
    const dir = tmp();
    const pid = deadPid();
    fs.mkdirSync(path.join(dir, 'frontends'));
    fs.writeFileSync(path.join(dir, `a.key.meshgen-${pid}.tmp`), 'half\n');
    fs.writeFileSync(path.join(dir, 'frontends', `b.crt.meshgen-${pid}.tmp`), '');
    fs.writeFileSync(path.join(dir, `user.crt.meshgen-${pid}.old`), 'user\n'); // killed between renames
    fs.writeFileSync(path.join(dir, 'mine.txt'), 'mine\n');
    await writeFilesAtomically(dir, [
      { path: 'a.key', contents: 'a\n' },
      { path: 'frontends/b.crt', contents: 'b\n' },
    ]);
    expect(tree(dir)).toEqual(['a.key', 'frontends', 'frontends/b.crt', 'mine.txt', 'user.crt']);
    expect(fs.readFileSync(path.join(dir, 'user.crt'), 'utf8')).toBe('user\n');
  });

  it('leaves the files of a run still going alone', async () => {
    const dir = tmp();
    const live = `a.key.meshgen-${process.ppid}.tmp`; // a live process, not this one
    fs.writeFileSync(path.join(dir, live), '');
    await writeFilesAtomically(dir, [{ path: 'b.key', contents: 'b\n' }]);
    expect(fs.readdirSync(dir).sort()).toEqual([live, 'b.key']);
  });
});
