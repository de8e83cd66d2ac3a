import { inject } from 'vitest';

// os.tmpdir() reads TMPDIR at each call, and the processes a test starts inherit it; a project
// without test/temp-setup.ts as its global setup keeps the system's
const root = inject('tempRoot');
if (root) process.env['TMPDIR'] = root;
