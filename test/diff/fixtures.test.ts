import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { diffMeshes } from '../../src/diff/differ.js';
import type { Change } from '../../src/diff/types.js';
import { ROOT, meshFrom } from '../support/meshes.js';

/**
 * Each folder of test/fixtures/diff/ holds two meshes and the change records expected between them.
 * UPDATE_EXPECTED=1 rewrites expected.json for review.
 */
const DIR = path.join(ROOT, 'test', 'fixtures', 'diff');
const CASES = fs.readdirSync(DIR).filter((d) => fs.existsSync(path.join(DIR, d, 'old.yaml')));
const update = process.env.UPDATE_EXPECTED === '1';

const OPPOSITE: Record<string, string> = {
  added: 'removed',
  removed: 'added',
  gained: 'lost',
  lost: 'gained',
};

/** The record the reverse diff should give for a forward one. */
function mirror(change: Change): Change {
  const c = { ...change } as Record<string, unknown>;
  c.kind = change.kind.replace(/(added|removed|gained|lost)$/, (m) => OPPOSITE[m]!);
  if ('before' in change) [c.before, c.after] = [change.after, change.before];
  if (change.kind === 'match-changed') [c.added, c.removed] = [change.removed, change.added];
  if (change.kind === 'traffic-shifted') {
    c.destinations = change.destinations.map((d) => ({
      destination: d.destination,
      before: d.after,
      after: d.before,
    }));
    c.shifted = change.destinations.reduce((sum, d) => sum + Math.max(0, d.after - d.before), 0);
  }
  // keep the key order the differ writes
  return Object.fromEntries(Object.keys(change).map((k) => [k, c[k]])) as Change;
}

const load = (c: string, side: string) => {
  const file = path.join(DIR, c, `${side}.yaml`);
  return meshFrom(fs.readFileSync(file, 'utf8'), file);
};

describe.each(CASES)('fixture %s', (c) => {
  it('gives the reviewed change records', () => {
    const changes = diffMeshes(load(c, 'old'), load(c, 'new'));
    const expectedFile = path.join(DIR, c, 'expected.json');
    if (update) fs.writeFileSync(expectedFile, JSON.stringify(changes, null, 2) + '\n');
    expect(JSON.parse(JSON.stringify(changes))).toEqual(JSON.parse(fs.readFileSync(expectedFile, 'utf8')));
  });

  it('gives the mirror image when the sides swap, and nothing against itself', () => {
    const forward = diffMeshes(load(c, 'old'), load(c, 'new'));
    const backward = diffMeshes(load(c, 'new'), load(c, 'old'));
    const keys = (list: unknown[]) => list.map((x) => JSON.stringify(x)).sort();
    expect(keys(backward)).toEqual(keys(forward.map(mirror)));
    expect(diffMeshes(load(c, 'new'), load(c, 'new'))).toEqual([]);
  });
});

it('has a fixture for every kind of change', () => {
  const kinds = new Set(
    CASES.flatMap((c) =>
      (JSON.parse(fs.readFileSync(path.join(DIR, c, 'expected.json'), 'utf8')) as { kind: string }[]).map(
        (x) => x.kind,
      ),
    ),
  );
  expect([...kinds].sort()).toEqual(
    [
      'access-changed',
      'access-gained',
      'access-lost',
      'backend-added',
      'backend-changed',
      'backend-removed',
      'endpoint-added',
      'endpoint-removed',
      'frontend-added',
      'frontend-changed',
      'frontend-removed',
      'match-changed',
      'mesh-changed',
      'mtls-changed',
      'route-added',
      'route-order-changed',
      'route-policy-changed',
      'route-removed',
      'traffic-shifted',
      'version-added',
      'version-labels-changed',
      'version-removed',
    ].sort(),
  );
  expect(JSON.parse(fs.readFileSync(path.join(DIR, 'order-only', 'expected.json'), 'utf8'))).toEqual([]);
});
