import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { diffRendered } from '../../src/diff/rendered.js';
import { emitters } from '../../src/emitters/index.js';
import { ROOT, meshFrom } from '../support/meshes.js';

/**
 * The rendered diff over whatever targets the registry holds: a mesh against itself gives nothing,
 * and a change of split shows up in every target, each changed object with its unified diff.
 */
const text = fs.readFileSync(
  path.join(ROOT, 'test', 'fixtures', 'diff', 'traffic-shift', 'old.yaml'),
  'utf8',
);
const changed = fs.readFileSync(
  path.join(ROOT, 'test', 'fixtures', 'diff', 'traffic-shift', 'new.yaml'),
  'utf8',
);

it('diffs the rendered output of every registered target', () => {
  const a = meshFrom(text);
  const b = meshFrom(changed);
  const same = diffRendered(a, meshFrom(text), 'all');
  expect(same.map((t) => t.target)).toEqual(emitters.map((e) => e.target));
  for (const t of same) expect(t.changes, t.target).toEqual([]);
  for (const t of diffRendered(a, b, 'all')) {
    // sidecar interception plans (the iptables target's default mode) redirect ports: no weights in them
    if (t.target !== 'iptables')
      expect(t.changes.length, `${t.target} shows the new weights`).toBeGreaterThan(0);
    for (const c of t.changes) {
      if (c.status === 'changed')
        expect(c.diff, `${t.target} ${c.object}`).toMatch(/^--- a\/.*\n\+\+\+ b\/.*\n@@ /);
      else expect(c.diff, `${t.target} ${c.object}`).toBeUndefined();
    }
  }
});
