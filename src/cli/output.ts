import fs from 'node:fs/promises';
import path from 'node:path';

/**
 * Writes files under a folder atomically, each through a temporary file and a rename, after every
 * one has been prepared: a failure leaves the previous output in place.
 */
export async function writeFilesAtomically(dir: string, files: readonly { path: string; contents: string }[]): Promise<string[]> {
  const root = path.resolve(dir);
  const staged: { tmp: string; final: string }[] = [];
  try {
    for (const f of files) {
      const final = path.resolve(root, f.path);
      if (!final.startsWith(root + path.sep)) throw new Error(`refusing to write outside ${dir}: ${f.path}`);
      await fs.mkdir(path.dirname(final), { recursive: true });
      const tmp = `${final}.meshgen-${process.pid}.tmp`;
      await fs.writeFile(tmp, f.contents);
      staged.push({ tmp, final });
    }
    for (const s of staged) await fs.rename(s.tmp, s.final);
  } catch (e) {
    await Promise.all(staged.map((s) => fs.rm(s.tmp, { force: true })));
    throw e;
  }
  return staged.map((s) => s.final);
}
