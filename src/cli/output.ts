import fs from 'node:fs/promises';
import path from 'node:path';

/** How many files are written or renamed at once: enough to keep the disk busy on large outputs. */
const PARALLEL = 64;

async function eachLimited<T>(items: readonly T[], fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, items.length) }, worker));
}

/**
 * Writes files under a folder as one step: every file is first written to a temporary file beside
 * its destination; then each replaces its destination by a rename, the previous file kept aside
 * until all are in place. If anything fails, what was renamed is put back and nothing of the new
 * output remains: an error leaves the previous output intact.
 */
export async function writeFilesAtomically(
  dir: string,
  files: readonly { path: string; contents: string }[],
): Promise<string[]> {
  const root = path.resolve(dir);
  const suffix = `.meshgen-${process.pid}`;
  const targets = files.map((f) => {
    const final = path.resolve(root, f.path);
    if (!final.startsWith(root + path.sep)) throw new Error(`refusing to write outside ${dir}: ${f.path}`);
    return {
      final,
      tmp: `${final}${suffix}.tmp`,
      backup: `${final}${suffix}.old`,
      contents: f.contents,
      existed: false,
    };
  });
  // one look at each folder: which destinations exist already (to keep aside), and none may be a folder
  const folders = [...new Set(targets.map((t) => path.dirname(t.final)))];
  const present = new Map<string, boolean>(); // path -> is a directory
  for (const folder of folders) {
    await fs.mkdir(folder, { recursive: true });
    for (const e of await fs.readdir(folder, { withFileTypes: true }))
      present.set(path.join(folder, e.name), e.isDirectory());
  }
  for (const t of targets) {
    if (present.get(t.final) === true)
      throw new Error(`cannot write ${path.relative(root, t.final)}: a folder of that name exists`);
    t.existed = present.has(t.final);
  }
  const staged: typeof targets = [];
  const done: typeof targets = [];
  try {
    await eachLimited(targets, async (t) => {
      await fs.writeFile(t.tmp, t.contents);
      staged.push(t);
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
