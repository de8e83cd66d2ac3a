import { describe, expect, it } from 'vitest';
import { findEmitter } from '../../../src/emitters/index.js';
import { istio } from '../../../src/emitters/istio/index.js';
import { FEATURES } from '../../../src/model/features.js';
import { render } from '../../../src/render.js';
import { exampleMesh, meshFrom } from '../../support/meshes.js';
import { FULL_MESH } from './fixtures.js';
import { emitObjects, mesh } from './helpers.js';

describe('istio fidelity and diagnostics', () => {
  it('is registered as --target istio', () => {
    expect(findEmitter('istio')).toBe(istio);
  });

  it('declares every feature', () => {
    expect(Object.keys(istio.fidelity).sort()).toEqual([...FEATURES].sort());
  });

  it('reports health checks as unsupported (Istio relies on Kubernetes probes)', () => {
    const result = render(exampleMesh('shop'), { targets: ['istio'] });
    const d = result.diagnostics.find(
      (x) => x.code === 'MG3001' && x.pointer === '/spec/backends/0/healthCheck',
    );
    expect(d).toMatchObject({ severity: 'warning', target: 'istio' });
    expect(d?.message).toContain('backend "web" uses health-check');
  });

  it('explains each approximation naming the route, the feature and the target', () => {
    const result = render(meshFrom(FULL_MESH), { targets: ['istio'] });
    const approx = result.diagnostics.filter((d) => d.code === 'MG3002');
    expect(approx.length).toBeGreaterThan(0);
    for (const d of approx) {
      expect(d.target).toBe('istio');
      expect(d.message).toMatch(
        /^(route|backend|frontend) "[^"]+": [a-z0-9-]+ is approximated by the istio target: /,
      );
      expect(d.pointer).toBeTruthy();
    }
    expect(approx.map((d) => d.pointer)).toContain('/spec/routes/1/headers/response');
  });

  it('notes fault injection next to timeouts or retries', () => {
    const result = render(exampleMesh('shop'), { targets: ['istio'] });
    const d = result.diagnostics.find((x) => x.code === 'MG3002' && x.pointer === '/spec/routes/2/fault');
    expect(d?.message).toContain('route "catalog-api": fault-delay');
  });

  it('reports a TCP route timeout, which a VirtualService cannot carry', () => {
    const result = render(exampleMesh('tcp'), { targets: ['istio'] });
    const d = result.diagnostics.find((x) => x.pointer === '/spec/routes/0/timeout');
    expect(d).toMatchObject({ code: 'MG3001', severity: 'warning', target: 'istio' });
    expect(d?.message).toContain('route "postgres-upgrade": timeout');
  });

  it('turns the warnings into errors with --strict', () => {
    const result = render(exampleMesh('shop'), { targets: ['istio'], strict: true });
    expect(
      result.diagnostics
        .filter((d) => d.code === 'MG3001' || d.code === 'MG3002')
        .every((d) => d.severity === 'error'),
    ).toBe(true);
  });

  it('states Istio default for routes without timeout', () => {
    const result = render(exampleMesh('hello'), { targets: ['istio'] });
    const d = result.diagnostics.find((x) => x.code === 'MG3005');
    expect(d?.severity).toBe('info');
    expect(d?.message).toContain('"hello"');
  });
});

describe('istio durations', () => {
  it('raises a duration under 1ms to the CRD minimum and says so', () => {
    const m = mesh(`  backends:
    - { name: a, port: 80, versions: [{ name: v1 }] }
  routes:
    - name: r
      parent: { backend: a }
      to: [{ backend: a }]
      timeout: 0.5ms`);
    const result = emitObjects(m);
    expect(result.find('VirtualService', 'a').spec.http[0].timeout).toBe('0.001s');
    const d = result.diagnostics.find((x) => x.pointer === '/spec/routes/0/timeout');
    expect(d?.code).toBe('MG3002');
    expect(d?.message).toContain('route "r": timeout');
  });
});

describe('istio fidelity table', () => {
  it('marks only health checks unsupported, and response headers and faults approximate', () => {
    const notExact = Object.entries(istio.fidelity).filter(([, f]) => f !== 'exact');
    expect(Object.fromEntries(notExact)).toEqual({
      'health-check': 'unsupported',
      'response-headers': 'approximate',
      'fault-delay': 'approximate',
      'fault-abort': 'approximate',
    });
  });

  it('explains nothing for a fault on a route without timeout or retries', () => {
    const m = mesh(`  backends:
    - { name: a, port: 80, versions: [{ name: v1 }] }
  routes:
    - name: r
      parent: { backend: a }
      to: [{ backend: a }]
      fault: { abort: { status: 500, percent: 10 } }`);
    expect(emitObjects(m).diagnostics.filter((d) => d.code === 'MG3002')).toEqual([]);
  });
});
