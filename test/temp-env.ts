import { inject } from 'vitest';

// os.tmpdir() reads TMPDIR at each call, and the processes a test starts inherit it
process.env['TMPDIR'] = inject('tempRoot');
