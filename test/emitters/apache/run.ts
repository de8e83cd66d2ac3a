import fs from 'node:fs';
import path from 'node:path';
import { startProcess, type Started } from '../../support/processes.js';

/**
 * httpd in the foreground on the files rendered into dir, that folder as its ServerRoot (`-d`). Run
 * as root without a User directive, its children run as an unprivileged uid, which must read the
 * draw map: the test's folder (mkdtemp: 0700) is opened to them; the parent reads the certificates.
 */
export function startApache(dir: string): Started {
  fs.chmodSync(dir, 0o755);
  return startProcess('apache2', ['-d', dir, '-f', path.join(dir, 'httpd.conf'), '-DFOREGROUND'], {
    cwd: dir,
  });
}

/** `apache2 -t` on the config written to dir. */
export const apacheTest = (dir: string) => ['apache2', '-t', '-d', dir, '-f', path.join(dir, 'httpd.conf')];
