import path from 'node:path';
import { describe } from 'vitest';
import { hasBinary, startProcess } from '../../support/processes.js';
import { behaviourSuite } from '../../smartstack/suite.js';
import { hasNginxWithStream } from './stream-module.js';

const nginxReady = hasNginxWithStream(hasBinary('nginx'));

// NGINX in the foreground, with the output folder as its prefix (pid, temp folders) and the
// rendered nginx.conf; run as root without a user directive, its workers run as nobody, which is
// enough: the master reads the certificates.
const run = nginxReady;
(run ? describe : describe.skip)('nginx', () => {
  behaviourSuite('nginx', (dir) =>
    startProcess('nginx', ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-g', 'daemon off;'], { cwd: dir }),
  );
});
