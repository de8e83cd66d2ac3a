import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fidelityTable } from '../src/cli.js';
import { describeTargets } from '../src/cli/targets.js';
import { emitters } from '../src/emitters/index.js';
import { ROOT } from './support/meshes.js';

describe('README', () => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');

  it('shows the fidelity matrix the emitters declare (npm run readme:fidelity)', () => {
    const shown = /<!-- fidelity:start[^\n]*-->\n([\s\S]*?)<!-- fidelity:end -->/.exec(readme)?.[1];
    expect(shown).toBe(fidelityTable(describeTargets(emitters, emitters, {}).rows, true));
  });

  it('starts with the two commands a newcomer needs', () => {
    const block = /## On a fresh machine\n\n```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    expect(block).toMatch(/^npm ci && node dist\/cli\.js render examples\/shop\.yaml --target all -o out/m);
    expect(block).toMatch(/^npm test/m);
  });
});
