import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateMesh } from '../../bench/gen-mesh.mjs';
import { distCli } from '../support/cli.js';
import { seededRandom } from '../support/random.js';

/**
 * `render -o` killed with SIGKILL at a random moment: each target, read through its link, is the
 * whole previous output or the whole new one, and the next complete run leaves the new output only.
 * MESHGEN_KILL_SEED replays a run; MESHGEN_KILLS sets how many kills (default 20).
 */
const TARGETS = ['istio', 'linkerd', 'consul', 'haproxy', 'nginx'];
const KILLS = Number(process.env.MESHGEN_KILLS ?? 21);
const SEED = Number(process.env.MESHGEN_KILL_SEED ?? Date.now() % 2 ** 31);

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'meshgen-kill-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }), 300_000);

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
  distCli(),
  'render',
  mesh,
  '--target',
  TARGETS.join(','),
  '-o',
  out,
  '--format',
  'json',
];

/** When to kill a run: a delay after it starts, after it starts writing, or after its first swap. */
interface KillAt {
  readonly after: 'start' | 'writing' | 'swap';
  readonly ms: number;
}

interface RunResult {
  code: number | null;
  signal: string | null;
  ms: number;
  /** When the run's first generation folder appeared, and when a target first linked to a new one. */
  writeMs?: number;
  swapMs?: number;
}

/**
 * Runs render into `out` and watches it (polled every 5 ms): its first generation folder appearing
 * (writing began) and the first target link changing (the swaps began). With `kill`, SIGKILLs it by
 * pid at that moment, unless it ended first.
 */
async function runRender(mesh: string, out: string, kill?: KillAt): Promise<RunResult> {
  const started = Date.now();
  const links = new Map(TARGETS.map((t) => [t, readLink(path.join(out, t))]));
  const child = spawn(process.execPath, renderArgs(mesh, out), { stdio: 'ignore' });
  const result: Omit<RunResult, 'code' | 'signal' | 'ms'> = {};
  const timers: NodeJS.Timeout[] = [];
  const killIn = (ms: number) => timers.push(setTimeout(() => process.kill(child.pid!, 'SIGKILL'), ms));
  if (kill?.after === 'start') killIn(kill.ms);
  const mine = `-${child.pid}-`;
  const meta = path.join(out, '.meshgen');
  const poll = setInterval(() => {
    if (
      result.writeMs === undefined &&
      fs.existsSync(meta) &&
      fs.readdirSync(meta).some((n) => n.includes(mine))
    ) {
      result.writeMs = Date.now() - started;
      if (kill?.after === 'writing') killIn(kill.ms);
    }
    if (result.swapMs === undefined && TARGETS.some((t) => readLink(path.join(out, t)) !== links.get(t))) {
      result.swapMs = Date.now() - started;
      if (kill?.after === 'swap') killIn(kill.ms);
    }
  }, 5);
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  timers.push(setTimeout(() => process.kill(child.pid!, 'SIGKILL'), 300_000));
  try {
    const end = await exited;
    return { ...end, ...result, ms: Date.now() - started };
  } finally {
    clearInterval(poll);
    timers.forEach(clearTimeout);
  }
}

function readLink(at: string): string | undefined {
  try {
    return fs.readlinkSync(at);
  } catch {
    return undefined;
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
    fs.writeFileSync(meshA, generateMesh(500));
    fs.writeFileSync(meshB, generateMesh(490)); // ten backends fewer: files go, others change
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

    const rng = seededRandom(SEED);
    expect(full.writeMs).toBeDefined();
    expect(full.swapMs).toBeDefined();
    const writing = full.swapMs! - full.writeMs!;
    const swapping = full.ms - full.swapMs!;
    console.log(
      `render kill test: seed ${SEED} (MESHGEN_KILL_SEED to replay); a full run: writing from ${full.writeMs} ms, swapping from ${full.swapMs} ms, done at ${full.ms} ms`,
    );
    // A third of the kills fall anywhere before the swaps, a third while the run writes its
    // generations, a third after its first swap (so some targets are new and others old); each moment
    // is drawn at random within the phase as the timed run took it. Two runs go at once (two cores),
    // which makes each slower, so a moment falls earlier in its phase, not after the run.
    const plan: KillAt[] = Array.from({ length: KILLS }, (_, i) => {
      const r = rng();
      return i % 3 === 0
        ? { after: 'start', ms: Math.floor(r * full.swapMs!) }
        : i % 3 === 1
          ? { after: 'writing', ms: Math.floor(r * writing) }
          : { after: 'swap', ms: Math.floor(r * swapping * 0.8) };
    });
    const outcomes = { old: 0, new: 0, killed: 0, finished: 0, mixed: 0 };
    // A run that ends before its moment (the machine ran it faster than the timed run) is checked
    // as a finished run and tried again from the old output with half the delay, up to three times.
    const one = async (i: number) => {
      let kill = plan[i]!;
      for (let attempt = 0; ; attempt++) {
        const last = attempt === 3;
        const killed = await tryKill(i, attempt, kill, last);
        if (killed || last) return;
        kill = { after: kill.after, ms: Math.floor(kill.ms / 2) };
      }
    };
    const tryKill = async (i: number, attempt: number, kill: KillAt, last: boolean) => {
      const out = path.join(work, `kill-${i}-${attempt}`);
      copyTree(oldDir, out);
      const r = await runRender(meshB, out, kill);
      const what = `kill ${i}, ${kill.ms} ms after ${kill.after} (seed ${SEED})`;
      const killed = r.signal === 'SIGKILL';
      if (killed) outcomes.killed++;
      else outcomes.finished++;
      let news = 0;
      for (const t of TARGETS) {
        const seen = hashTree(path.join(out, t));
        const isOld = same(seen, old.get(t)!);
        const isNew = same(seen, fresh.get(t)!);
        expect(isOld || isNew, `${what}: ${t} is neither old nor new`).toBe(true);
        outcomes[isOld ? 'old' : 'new']++;
        if (isNew) news++;
      }
      if (news > 0 && news < TARGETS.length) outcomes.mixed++;
      // killed after its first swap: that target at least is the new output
      if (kill.after === 'swap') expect(news, `${what}: no target is new`).toBeGreaterThan(0);
      // the next complete run cleans up (after every fourth kill, to keep the time down)
      if ((killed || last) && (i % 4 === 3 || i === KILLS - 1)) {
        expect((await runRender(meshB, out)).code).toBe(0);
        expectOnlyNew(out, fresh);
      }
      fs.rmSync(out, { recursive: true });
      return killed;
    };
    for (let i = 0; i < KILLS; i += 2) await Promise.all([one(i), ...(i + 1 < KILLS ? [one(i + 1)] : [])]);
    console.log(
      `render kill test: ${outcomes.killed} killed, ${outcomes.finished} finished first; targets seen old ${outcomes.old}, new ${outcomes.new}; ${outcomes.mixed} runs left some targets new and others old; ${((Date.now() - started) / 1000).toFixed(0)} s`,
    );
    expect(outcomes.killed).toBeGreaterThanOrEqual(Math.min(20, KILLS - 1)); // 20 at the default 21
  }, 900_000);
});
