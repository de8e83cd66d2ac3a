import { describe, expect, it } from 'vitest';
import { render } from '../../src/render.js';
import { emitters } from '../../src/emitters/index.js';
import type { Emitter, Fidelity } from '../../src/emitters/types.js';
import { FEATURES, type Feature } from '../../src/model/features.js';
import {
  atLeast,
  compareVersions,
  parseVersion,
  readVersion,
  type VersionSupport,
} from '../../src/emitters/versions.js';
import { settingsFor } from '../../src/emitters/settings.js';
import { exampleMesh } from '../support/meshes.js';

const SUPPORT: VersionSupport = { default: '2.4', oldest: '1.2', rules: [] };

describe('target versions', () => {
  it('reads major.minor[.patch], a missing patch being 0', () => {
    expect(parseVersion('1.24')).toMatchObject({ major: 1, minor: 24, patch: 0 });
    expect(parseVersion('v3.2.1')).toMatchObject({ major: 3, minor: 2, patch: 1 });
    for (const bad of ['', '1', 'latest', '1.2.3.4', '1.x', '-1.2'])
      expect(parseVersion(bad)).toBeUndefined();
    expect(compareVersions(parseVersion('1.24.4')!, parseVersion('1.24')!)).toBeGreaterThan(0);
    expect(compareVersions(parseVersion('1.9')!, parseVersion('1.10')!)).toBeLessThan(0);
    expect(atLeast(parseVersion('1.24.3')!, '1.24.4')).toBe(false);
    expect(atLeast(parseVersion('1.25')!, '1.24.4')).toBe(true);
  });

  it('uses the default without a setting, and refuses what is not a version or too old (MG4003)', () => {
    expect(readVersion('x', SUPPORT, {})).toMatchObject({ version: { major: 2, minor: 4 }, diagnostics: [] });
    for (const bad of ['two', '1.1']) {
      const r = readVersion('x', SUPPORT, { version: bad });
      expect(r.version.text).toBe('2.4');
      expect(r.diagnostics.map((d) => [d.code, d.severity])).toEqual([['MG4003', 'error']]);
      expect(r.diagnostics[0]!.hint).toContain('1.2 or later (default 2.4)');
    }
    expect(readVersion('x', SUPPORT, { version: '1.2' }).diagnostics).toEqual([]);
  });

  it('takes a version newer than the default and says the newest rules known apply (MG3005)', () => {
    const r = readVersion('x', SUPPORT, { version: '3.0' });
    expect(r.version.text).toBe('3.0');
    expect(r.diagnostics.map((d) => d.code)).toEqual(['MG3005']);
  });

  it('gives each target its own scoped settings (<target>.<key>) over the plain ones', () => {
    const all = ['istio', 'linkerd'];
    const s = {
      version: '9',
      'linkerd.version': '2.17',
      'istio.gatewayClass': 'x',
      gatewayClass: 'y',
      'a.b': 'c',
    };
    expect(settingsFor('linkerd', s, all)).toEqual({ version: '2.17', gatewayClass: 'y', 'a.b': 'c' });
    expect(settingsFor('istio', s, all)).toEqual({ version: '9', gatewayClass: 'x', 'a.b': 'c' });
  });
});

describe('render with versions', () => {
  const fidelity = Object.fromEntries(FEATURES.map((f) => [f, 'exact'])) as Record<Feature, Fidelity>;
  const seen: Record<string, Record<string, string>> = {};
  const fake = (target: string): Emitter => ({
    target,
    summary: target,
    fidelity,
    versions: {
      ...SUPPORT,
      // at 1.x, health checks cannot be expressed
      fidelity: (v) => (v.major < 2 ? { ...fidelity, 'health-check': 'unsupported' } : fidelity),
    },
    emit: (_mesh, options) => {
      seen[target] = { ...options.settings };
      return { files: [], diagnostics: [] };
    },
  });
  const shop = exampleMesh('shop');
  const run = (settings: Record<string, string>, targets = ['a', 'b']) =>
    render(shop, { targets, settings, emitters: [fake('a'), fake('b')] });

  it('refuses a plain version with several versioned targets, and scopes one to its target', () => {
    const r = run({ version: '1.5' });
    expect(r.diagnostics.map((d) => d.code)).toContain('MG4003');
    expect(seen.a!.version).toBeUndefined();
    run({ 'a.version': '1.5' });
    expect(seen.a).toEqual({ version: '1.5' });
    expect(seen.b).toEqual({});
    run({ version: '1.5' }, ['a']);
    expect(seen.a).toEqual({ version: '1.5' });
  });

  it('reports the features a target cannot express at the version chosen (MG3001)', () => {
    const uses = (settings: Record<string, string>) =>
      run(settings, ['a']).diagnostics.filter((d) => d.code === 'MG3001' && /health-check/.test(d.message));
    expect(uses({})).toEqual([]);
    expect(uses({ version: '1.5' }).length).toBeGreaterThan(0);
  });

  it('declares a default and an oldest version for the seven targets the version matters to', () => {
    const declared = emitters.filter((e) => e.versions).map((e) => e.target);
    expect(declared.sort()).toEqual(['apache', 'consul', 'haproxy', 'istio', 'linkerd', 'nginx', 'traefik']);
    for (const e of emitters.filter((x) => x.versions)) {
      const v = e.versions!;
      expect(compareVersions(parseVersion(v.oldest)!, parseVersion(v.default)!), e.target).toBeLessThan(0);
      for (const rule of v.rules) {
        expect(rule.source, `${e.target} ${rule.since}`).not.toBe('');
        expect(readVersion(e.target, v, { version: rule.since }).diagnostics, e.target).toEqual([]);
      }
    }
  });
});
