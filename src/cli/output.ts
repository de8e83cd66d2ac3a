import fs from 'node:fs/promises';
import path from 'node:path';

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
  const staged: { tmp: string; final: string }[] = [];
  const done: { final: string; backup?: string }[] = [];
  try {
    for (const f of files) {
      const final = path.resolve(root, f.path);
      if (!final.startsWith(root + path.sep)) throw new Error(`refusing to write outside ${dir}: ${f.path}`);
      await fs.mkdir(path.dirname(final), { recursive: true });
      const existing = await fs.stat(final).catch(() => undefined);
      if (existing?.isDirectory()) throw new Error(`cannot write ${f.path}: a folder of that name exists`);
      const tmp = `${final}${suffix}.tmp`;
      await fs.writeFile(tmp, f.contents);
      staged.push({ tmp, final });
    }
    for (const s of staged) {
      const backup = `${s.final}${suffix}.old`;
      const existed = await fs.rename(s.final, backup).then(
        () => true,
        (e: NodeJS.ErrnoException) => {
          if (e.code === 'ENOENT') return false;
          throw e;
        },
      );
      done.push({ final: s.final, backup: existed ? backup : undefined });
      await fs.rename(s.tmp, s.final);
    }
  } catch (e) {
    for (const d of done.reverse()) {
      if (d.backup) await fs.rename(d.backup, d.final).catch(() => undefined);
      else await fs.rm(d.final, { force: true }).catch(() => undefined);
    }
    await Promise.all(staged.map((s) => fs.rm(s.tmp, { force: true })));
    throw e;
  }
  await Promise.all(done.map((d) => d.backup && fs.rm(d.backup, { force: true }).catch(() => undefined)));
  return staged.map((s) => s.final);
}
