import { describe } from 'vitest';
import { hasBinary } from '../../support/processes.js';
import { behaviourSuite } from '../../smartstack/suite.js';
import { startApache } from './run.js';

// Debian's apache2 in the foreground; what httpd does differently is declared by the target
// (fidelity, MG3002, MG3020, MG3021) and held to here: a timeout answers 502, a response is never
// retried, and an abort status httpd has no status line for (418) answers 500.
(hasBinary('apache2') ? describe : describe.skip)('apache', () => {
  behaviourSuite('apache', startApache, {
    timeoutStatus: 502,
    retriesAfterResponse: false,
    teapotStatus: 500,
  });
});
