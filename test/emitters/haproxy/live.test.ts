import path from 'node:path';
import { describe } from 'vitest';
import { hasBinary, startProcess } from '../../support/processes.js';
import { behaviourSuite } from '../../smartstack/suite.js';

// HAProxy in the foreground (-db), on the rendered haproxy.cfg, from the output folder.
const run = hasBinary('haproxy');
(run ? describe : describe.skip)('haproxy', () => {
  behaviourSuite('haproxy', (dir) =>
    startProcess('haproxy', ['-db', '-f', path.join(dir, 'haproxy.cfg')], { cwd: dir }),
  );
});
