import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateMesh } from '../../bench/gen-mesh.mjs';
import { ROOT } from '../support/meshes.js';

/**
 * `render -o` killed with SIGKILL at a random moment: each target, read through its link, is the
 * whole previous output or the whole new one, and the next complete run leaves the new output only.
 * MESHGEN_KILL_SEED replays a run; MESHGEN_KILLS sets how many kills (default 20).
 */
const TARGETS = ['istio', 'linkerd', 'consul', 'haproxy', 'nginx'];
const KILLS = Number(process.env.MESHGEN_KILLS ?? 20);
const SEED = Number(process.env.MESHGEN_KILL_SEED ?? Date.now() % 2 ** 31);

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'meshgen-kill-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }), 300_000);

/** mulberry32: a small seeded generator, so a failing run can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

type Output = Map<string, string>; // relative path -> sha1

function hashTree(dir: string, prefix = '', into: Output = new Map()): Output {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const at = path.join(dir, e.name);
    if (e.isDirectory()) hashTree(at, `${prefix}${e.name}/`, into);
    else into.set(prefix + e.name, createHash('sha1').update(fs.readFileSync(at)).digest('hex'));
  }
  return into;
}

function same(a: Output, b: Output): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

/** Every path under a folder, links not followed. */
function tree(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    out.push(prefix + e.name);
    if (e.isDirectory()) out.push(...tree(path.join(dir, e.name), `${prefix}${e.name}/`));
  }
  return out;
}

const renderArgs = (mesh: string, out: string) => [
  path.join(ROOT, 'dist/cli.js'),
  'render',
  mesh,
  '--target',
  TARGETS.join(','),
  '-o',
  out,
  '--format',
  'json',
];

/**
 * Runs render; with killAfterWriteMs, SIGKILLs it (by pid) that long after it began writing (its
 * first generation folder appeared, polled), unless it ended first. writeMs: when that was.
 */
async function runRender(
  mesh: string,
  out: string,
  killAfterWriteMs?: number,
): Promise<{ code: number | null; signal: string | null; ms: number; writeMs?: number }> {
  const started = Date.now();
  const child = spawn(process.execPath, renderArgs(mesh, out), { stdio: 'ignore' });
  let writeMs: number | undefined;
  let timer: NodeJS.Timeout | undefined;
  const mine = `-${child.pid}-`;
  const poll = setInterval(() => {
    const names = fs.existsSync(path.join(out, '.meshgen')) ? fs.readdirSync(path.join(out, '.meshgen')) : [];
    if (writeMs === undefined && names.some((n) => n.includes(mine))) {
      writeMs = Date.now() - started;
      if (killAfterWriteMs !== undefined)
        timer = setTimeout(() => process.kill(child.pid!, 'SIGKILL'), killAfterWriteMs);
    }
  }, 10);
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const guard = setTimeout(() => process.kill(child.pid!, 'SIGKILL'), 120_000);
  try {
    const end = await exited;
    return { ...end, ms: Date.now() - started, writeMs };
  } finally {
    clearInterval(poll);
    clearTimeout(timer);
    clearTimeout(guard);
  }
}

function copyTree(from: string, to: string): void {
  // hard links: the writer never writes into an existing file, so the copies cannot change `from`
  const r = spawnSync('cp', ['-a', '-l', from, to]);
  if (r.status !== 0) throw new Error(`cp failed: ${r.stderr}`);
}

function outputs(out: string): Map<string, Output> {
  return new Map(TARGETS.map((t) => [t, hashTree(path.join(out, t))]));
}

function expectOnlyNew(out: string, fresh: Map<string, Output>): void {
  const top = fs.readdirSync(out).sort();
  expect(top).toEqual(['.meshgen', ...TARGETS].sort());
  const linked = TARGETS.map((t) => path.basename(fs.readlinkSync(path.join(out, t)))).sort();
  expect(fs.readdirSync(path.join(out, '.meshgen')).sort()).toEqual(linked);
  expect(tree(out).filter((p) => /\.(tmp|old|link|legacy)$/.test(p))).toEqual([]);
  for (const t of TARGETS) expect(same(hashTree(path.join(out, t)), fresh.get(t)!), t).toBe(true);
}

describe('render -o killed with SIGKILL', () => {
  it(`leaves each target whole, old or new, and the next run cleans up (${KILLS} kills)`, async () => {
    const started = Date.now();
    const meshA = path.join(work, 'a.yaml');
    const meshB = path.join(work, 'b.yaml');
    fs.writeFileSync(meshA, generateMesh(2000));
    fs.writeFileSync(meshB, generateMesh(1990)); // ten backends fewer: files go, others change
    const oldDir = path.join(work, 'old');
    const newDir = path.join(work, 'new');
    expect((await runRender(meshA, oldDir)).code).toBe(0);
    expect((await runRender(meshB, newDir)).code).toBe(0);
    const old = outputs(oldDir);
    const fresh = outputs(newDir);
    for (const t of TARGETS) expect(same(old.get(t)!, fresh.get(t)!), t).toBe(false);

    // how long a complete run over the old output takes: the kills fall within it
    const timed = path.join(work, 'timed');
    copyTree(oldDir, timed);
    const full = await runRender(meshB, timed);
    expect(full.code).toBe(0);
    expectOnlyNew(timed, fresh);
    fs.rmSync(timed, { recursive: true });

    const rng = random(SEED);
    // Each kill falls at a random moment of the run's writing (from when it starts writing, to the
    // length of a full run's writing and swapping, plus a fifth for runs slower than the timed one):
    // a kill before that only ever finds the old output, and would make the test long, not stronger.
    const writing = Math.ceil((full.ms - (full.writeMs ?? 0)) * 1.2);
    console.log(
      `render kill test: seed ${SEED} (MESHGEN_KILL_SEED to replay), full run ${full.ms} ms, writing from ${full.writeMs} ms`,
    );
    const outcomes = { old: 0, new: 0, killed: 0, finished: 0 };
    // until KILLS runs were killed (a run that ends before its moment counts, but not as a kill)
    for (let i = 0; outcomes.killed < KILLS && i < KILLS + 10; i++) {
      const out = path.join(work, `kill-${i}`);
      copyTree(oldDir, out);
      const at = Math.floor(rng() * writing);
      const r = await runRender(meshB, out, at);
      if (r.signal === 'SIGKILL') outcomes.killed++;
      else outcomes.finished++;
      for (const t of TARGETS) {
        const seen = hashTree(path.join(out, t));
        const isOld = same(seen, old.get(t)!);
        const isNew = same(seen, fresh.get(t)!);
        expect(
          isOld || isNew,
          `kill ${i} ${at} ms into writing (seed ${SEED}): ${t} is neither old nor new`,
        ).toBe(true);
        outcomes[isOld ? 'old' : 'new']++;
      }
      // the next complete run (after every fifth kill, and the last, to keep the time down)
      if (i % 5 === 4 || outcomes.killed === KILLS) {
        expect((await runRender(meshB, out)).code).toBe(0);
        expectOnlyNew(out, fresh);
      }
      fs.rmSync(out, { recursive: true });
    }
    console.log(
      `render kill test: ${outcomes.killed} killed, ${outcomes.finished} finished first; targets seen old ${outcomes.old}, new ${outcomes.new}; ${((Date.now() - started) / 1000).toFixed(0)} s`,
    );
    expect(outcomes.killed).toBe(KILLS);
  }, 900_000);
});
