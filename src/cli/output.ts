import fs from 'node:fs/promises';
import path from 'node:path';

/** A failure the user can fix (a path in the way, a bad folder): the CLI prints one line, exit 2. */
export class OutputError extends Error {}

/** How many files are written or renamed at once: enough to keep the disk busy on large outputs. */
const PARALLEL = 64;

export async function eachLimited<T>(items: readonly T[], fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, items.length) }, worker));
}

/** Whether pid is a running process other than this one (a leftover of ours under a reused pid is not). */
export function isOtherLiveProcess(pid: number): boolean {
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** `<name>.meshgen-<pid>.tmp` / `.old`: what this writer leaves beside a file when it is killed. */
const LEFTOVER = /^(.+)\.meshgen-(\d+)\.(tmp|old)$/;

/**
 * Removes, in one folder whose entries are given, the temporary and backup files of writers that were
 * killed. A backup whose file is missing (killed between its two renames) is put back. Returns the
 * names still there afterwards.
 */
export async function cleanLeftovers(folder: string, names: readonly string[]): Promise<Set<string>> {
  const left = new Set(names);
  for (const name of names) {
    const m = LEFTOVER.exec(name);
    if (!m || isOtherLiveProcess(Number(m[2]))) continue;
    const file = path.join(folder, name);
    left.delete(name);
    if (m[3] === 'old' && !left.has(m[1]!)) {
      await fs.rename(file, path.join(folder, m[1]!));
      left.add(m[1]!);
    } else {
      await fs.rm(file, { force: true });
    }
  }
  return left;
}

export interface FileToWrite {
  readonly path: string;
  readonly contents: string;
  /** Mode the file is created with (default 0o666 less the umask); keys pass 0o600. */
  readonly mode?: number;
}

/**
 * Writes files under a folder as one step, leaving the folder's other files alone: every file is
 * first written to a temporary file beside its destination (created with its final mode); then each
 * replaces its destination by a rename, the previous file kept aside until all are in place. If
 * anything fails, what was renamed is put back and nothing of the new output remains: an error
 * leaves the previous output intact. Leftovers of earlier runs that were killed are removed first.
 */
export async function writeFilesAtomically(
  dir: string,
  files: readonly FileToWrite[],
  onWritten?: (written: number, total: number) => void,
): Promise<string[]> {
  const root = path.resolve(dir);
  const suffix = `.meshgen-${process.pid}`;
  const targets = files.map((f) => {
    const final = path.resolve(root, f.path);
    if (!final.startsWith(root + path.sep))
      throw new OutputError(`refusing to write outside ${dir}: ${f.path}`);
    return {
      final,
      tmp: `${final}${suffix}.tmp`,
      backup: `${final}${suffix}.old`,
      contents: f.contents,
      mode: f.mode ?? 0o666,
      existed: false,
    };
  });
  // one look at each folder: leftovers to clean, which destinations exist already (to keep aside),
  // and none may be a folder
  const folders = [...new Set(targets.map((t) => path.dirname(t.final)))];
  const present = new Map<string, boolean>(); // path -> is a directory
  for (const folder of folders) {
    await fs.mkdir(folder, { recursive: true });
    const entries = await fs.readdir(folder, { withFileTypes: true });
    const left = await cleanLeftovers(
      folder,
      entries.map((e) => e.name),
    );
    for (const e of entries) if (left.has(e.name)) present.set(path.join(folder, e.name), e.isDirectory());
    for (const name of left)
      if (!present.has(path.join(folder, name))) present.set(path.join(folder, name), false);
  }
  for (const t of targets) {
    if (present.get(t.final) === true)
      throw new OutputError(`cannot write ${path.relative(root, t.final)}: a folder of that name exists`);
    t.existed = present.has(t.final);
  }
  const staged: typeof targets = [];
  const done: typeof targets = [];
  try {
    await eachLimited(targets, async (t) => {
      // 'wx': the file is created here, so it gets `mode` from its first byte on
      await fs.writeFile(t.tmp, t.contents, { mode: t.mode, flag: 'wx' });
      staged.push(t);
      onWritten?.(staged.length, targets.length);
    });
    await eachLimited(targets, async (t) => {
      if (t.existed) await fs.rename(t.final, t.backup);
      done.push(t);
      await fs.rename(t.tmp, t.final);
    });
  } catch (e) {
    await eachLimited(done, async (t) => {
      if (t.existed) await fs.rename(t.backup, t.final).catch(() => undefined);
      else await fs.rm(t.final, { force: true }).catch(() => undefined);
    });
    await eachLimited(staged, (t) => fs.rm(t.tmp, { force: true }));
    throw e;
  }
  await eachLimited(
    targets.filter((t) => t.existed),
    (t) => fs.rm(t.backup, { force: true }).catch(() => undefined),
  );
  return targets.map((t) => t.final);
}
