import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { cleanLeftovers, eachLimited, isOtherLiveProcess, OutputError } from './output.js';

/**
 * `render -o <dir>` swaps each target's output in whole, as Kubernetes' AtomicWriter does for
 * projected volumes: `<dir>/<target>` is a symbolic link to a generation folder
 * `<dir>/.meshgen/<target>-<pid>-<id>`. A run writes every target into a fresh generation, then for
 * each target makes a new link under a temporary name and renames it over `<dir>/<target>`: one
 * rename(2), so a reader (or a run killed at any moment) sees the whole previous output or the whole
 * new one. The previous generation is then removed, which also drops files the new render no longer
 * produces.
 */
const GENERATIONS = '.meshgen';

/** `<target>-<pid>-<id>`, plus `.link` (a link not yet renamed) or `.legacy` (a folder moved aside). */
const GENERATION = /^(.+)-(\d+)-[0-9a-f]{8}(\.link|\.legacy)?$/;

export interface TargetFiles {
  readonly target: string;
  readonly files: readonly { readonly path: string; readonly contents: string }[];
}

export interface SwapReport {
  readonly target: string;
  /** Files of the previous output that the new one does not have, sorted. */
  readonly removed: readonly string[];
  /** The target was a plain folder (written by an earlier meshgen), now a link to a generation. */
  readonly migrated: boolean;
  /** The generation folder, relative to the output folder. */
  readonly generation: string;
}

type Previous = { kind: 'none' } | { kind: 'dir' } | { kind: 'link'; to: string };

async function previousOf(root: string, dir: string, target: string): Promise<Previous> {
  const at = path.join(root, target);
  const st = await fs.lstat(at).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw e;
  });
  if (!st) return { kind: 'none' };
  if (st.isSymbolicLink()) return { kind: 'link', to: await fs.readlink(at) };
  if (st.isDirectory()) return { kind: 'dir' };
  throw new OutputError(
    `${path.join(dir, target)} is not a folder: render writes the ${target} output there; move it away or choose another -o`,
  );
}

/** The generation a link names, when it is one of ours (`.meshgen/<name>`, nothing else). */
function generationOf(link: string): string | undefined {
  const parts = link.split(/[\\/]+/);
  return parts.length === 2 && parts[0] === GENERATIONS && GENERATION.test(parts[1]!) ? parts[1] : undefined;
}

/** Every file under a folder (following no links below it), as sorted relative paths. */
async function listFiles(folder: string, prefix = ''): Promise<string[]> {
  const entries = await fs.readdir(folder, { withFileTypes: true }).catch(() => []);
  const files: string[] = [];
  for (const e of entries) {
    if (e.isDirectory()) files.push(...(await listFiles(path.join(folder, e.name), `${prefix}${e.name}/`)));
    else files.push(prefix + e.name);
  }
  return prefix ? files : files.sort();
}

/**
 * Removes what killed runs left: generations no target links to (a folder moved aside is put back
 * when its target is missing), and the `.meshgen-<pid>.tmp` / `.old` files of the per-file writer
 * earlier versions used for render. Generations of a run still going (its pid alive) are left alone.
 */
async function cleanUp(root: string): Promise<void> {
  const meta = path.join(root, GENERATIONS);
  const linked = new Set<string>();
  for (const e of await fs.readdir(root, { withFileTypes: true }))
    if (e.isSymbolicLink()) {
      const gen = generationOf(await fs.readlink(path.join(root, e.name)));
      if (gen) linked.add(gen);
    }
  for (const name of await fs.readdir(meta)) {
    const m = GENERATION.exec(name);
    if (linked.has(name) || (m && isOtherLiveProcess(Number(m[2])))) continue;
    const at = path.join(meta, name);
    if (m?.[3] === '.legacy') {
      const home = path.join(root, m[1]!);
      if (!(await fs.lstat(home).catch(() => undefined))) {
        await fs.rename(at, home);
        continue;
      }
    }
    await fs.rm(at, { recursive: true, force: true });
  }
  const walk = async (folder: string): Promise<void> => {
    const entries = await fs.readdir(folder, { withFileTypes: true });
    await cleanLeftovers(
      folder,
      entries.map((e) => e.name),
    );
    for (const e of entries)
      if (e.isDirectory() && !(folder === root && e.name === GENERATIONS))
        await walk(path.join(folder, e.name));
  };
  await walk(root);
}

/**
 * Writes each target's files to `<dir>/<target>` by swapping in a new generation (see GENERATIONS).
 * An error before the swaps leaves every previous output as it was; nothing outside `<dir>` is
 * touched. Refuses (OutputError) when `<dir>/<target>` is neither a folder nor a link.
 */
export async function swapTargetOutputs(
  dir: string,
  outputs: readonly TargetFiles[],
  onWritten?: (written: number, total: number) => void,
): Promise<SwapReport[]> {
  const root = path.resolve(dir);
  for (const o of outputs) {
    if (!/^[a-z0-9][a-z0-9-]*$/.test(o.target)) throw new Error(`bad target name "${o.target}"`);
    for (const f of o.files) {
      const final = path.resolve(root, o.target, f.path);
      if (!final.startsWith(path.join(root, o.target) + path.sep))
        throw new OutputError(`refusing to write outside ${path.join(dir, o.target)}: ${f.path}`);
    }
  }
  const rootStat = await fs.stat(root).catch(() => undefined);
  if (rootStat && !rootStat.isDirectory()) throw new OutputError(`${dir} is not a folder`);
  for (const o of outputs) await previousOf(root, dir, o.target); // refuse before touching anything
  const meta = path.join(root, GENERATIONS);
  const metaStat = await fs.lstat(meta).catch(() => undefined);
  if (metaStat && !metaStat.isDirectory())
    throw new OutputError(
      `${path.join(dir, GENERATIONS)} is not a folder: meshgen keeps its generations there`,
    );
  await fs.mkdir(meta, { recursive: true });
  await cleanUp(root);

  const planned = [];
  for (const o of outputs) {
    const generation = `${o.target}-${process.pid}-${randomBytes(4).toString('hex')}`;
    const previous = await previousOf(root, dir, o.target);
    const previousFolder =
      previous.kind === 'dir'
        ? path.join(root, o.target)
        : previous.kind === 'link'
          ? path.resolve(root, previous.to)
          : undefined;
    const before = previousFolder ? await listFiles(previousFolder) : [];
    planned.push({ ...o, generation, previous, before });
  }
  const total = planned.reduce((n, p) => n + p.files.length, 0);
  let written = 0;
  try {
    for (const p of planned) {
      const gen = path.join(meta, p.generation);
      await fs.mkdir(gen);
      const folders = [...new Set(p.files.map((f) => path.dirname(path.join(gen, f.path))))];
      for (const folder of folders) await fs.mkdir(folder, { recursive: true });
      await eachLimited(p.files, async (f) => {
        await fs.writeFile(path.join(gen, f.path), f.contents, { flag: 'wx' });
        onWritten?.(++written, total);
      });
    }
  } catch (e) {
    await Promise.all(
      planned.map((p) => fs.rm(path.join(meta, p.generation), { recursive: true, force: true })),
    );
    throw e;
  }

  const reports: SwapReport[] = [];
  for (const p of planned) {
    const home = path.join(root, p.target);
    // A folder from an earlier version moves aside first: a link cannot be renamed over a folder.
    // Killed between the two renames, the next run's clean-up puts it back.
    const aside = path.join(meta, `${p.generation}.legacy`);
    if (p.previous.kind === 'dir') await fs.rename(home, aside);
    const link = path.join(meta, `${p.generation}.link`);
    await fs.symlink(`${GENERATIONS}/${p.generation}`, link);
    await fs.rename(link, home);
    if (p.previous.kind === 'dir') await fs.rm(aside, { recursive: true, force: true });
    if (p.previous.kind === 'link') {
      const old = generationOf(p.previous.to);
      if (old) await fs.rm(path.join(meta, old), { recursive: true, force: true });
    }
    const now = new Set(p.files.map((f) => f.path));
    reports.push({
      target: p.target,
      removed: p.before.filter((f) => !now.has(f)),
      migrated: p.previous.kind === 'dir',
      generation: `${GENERATIONS}/${p.generation}`,
    });
  }
  return reports;
}
