import fs from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { hasErrors, sortDiagnostics } from '../model/diagnostics.js';
import { loadMesh } from '../model/load.js';
import { locateDiagnostics } from '../model/source.js';
import { colours, formatDiagnostic, summary } from './format.js';
import { writeFilesAtomically } from './output.js';
import { wholeNumber } from './numbers.js';
import { startProgress } from './progress.js';

async function readCa(dir: string): Promise<{ cert: string; key: string } | undefined> {
  try {
    return {
      cert: await fs.readFile(path.join(dir, 'ca.crt'), 'utf8'),
      key: await fs.readFile(path.join(dir, 'ca.key'), 'utf8'),
    };
  } catch {
    return undefined;
  }
}

/** Key files, and any file (a combined .pem) holding a private key. */
function holdsKey(f: { path: string; contents: string }): boolean {
  return /\.(key|pem)$/.test(f.path) || f.contents.includes('PRIVATE KEY-----');
}

/**
 * `meshgen certs <mesh> -o <dir>`: a development CA (kept when <dir> already holds ca.crt and ca.key)
 * and the certificates the proxy targets' configs name, written atomically.
 */
export function registerCertsCommand(program: Command): void {
  program
    .command('certs')
    .description(
      'issue development certificates (CA, SPIFFE identities, frontend hosts) for the proxy targets',
    )
    .argument('<file>', 'mesh file')
    .requiredOption(
      '-o, --output <dir>',
      'folder to write them to (the proxy targets read certDir=certs by default)',
    )
    .option('--days <n>', 'validity in days', wholeNumber(1), '365')
    .option('--new-ca', 'issue a new CA even if <dir> holds one')
    .addHelpText(
      'after',
      `
Examples:
  meshgen certs examples/shop.yaml -o certs
  meshgen certs examples/shop.yaml -o certs --days 30 --new-ca`,
    )
    .action(async (file: string, opts: { output: string; days: string; newCa?: boolean }) => {
      const days = Number(opts.days);
      if (!Number.isInteger(days) || days < 1) {
        process.stderr.write(`meshgen: --days takes a whole number of days, not "${opts.days}"\n`);
        process.exitCode = 2;
        return;
      }
      const loaded = await loadMesh(file);
      const c = colours(process.stderr);
      const { certificatePathDiagnostics, issueCertificates } = await import('../certs/issue.js'); // X.509 loads only on use
      const clashes = loaded.mesh ? certificatePathDiagnostics(loaded.mesh) : [];
      const diagnostics = sortDiagnostics([
        ...loaded.diagnostics,
        ...locateDiagnostics(clashes, loaded.source),
      ]);
      for (const d of diagnostics) process.stderr.write(formatDiagnostic(d, loaded.source, c) + '\n');
      if (!loaded.mesh || hasErrors(diagnostics)) {
        const line = summary(diagnostics);
        if (line) process.stderr.write(`${line}\n`);
        process.exitCode = diagnostics.some((d) => d.code === 'MG4001') ? 2 : 1;
        return;
      }
      const ca = opts.newCa ? undefined : await readCa(opts.output);
      const progress = startProgress();
      let written: string[];
      try {
        const files = await issueCertificates(loaded.mesh, {
          days,
          ca,
          onIssued: (n, total) => progress.update(`issuing certificates: ${n}/${total}`),
        });
        // a key is 0600 from the moment its file exists: a chmod after the rename leaves a window
        written = await writeFilesAtomically(
          opts.output,
          files.map((f) => (holdsKey(f) ? { ...f, mode: 0o600 } : f)),
          (n, total) => progress.update(`writing ${opts.output}: ${n}/${total} files`),
        );
      } finally {
        progress.done();
      }
      process.stderr.write(
        `wrote ${written.length} files to ${opts.output}${ca ? ' (signed by the CA already there)' : ''}\n`,
      );
    });
}
