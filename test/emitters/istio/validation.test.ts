/**
 * VirtualServices as istiod's validating webhook reads them: the emitted objects pass the checks of
 * test/support/istio-validation.ts (ported from istio pkg/config/validation/validation.go,
 * virtualservice.go, header_value_validator.go and agent/validation.go), at each Istio version, and a
 * value the mesh holds reaches Envoy as that value.
 */
import { describe, expect, it } from 'vitest';
import { expandHeaderValue } from '../../../src/dataplane/http/headers.js';
import { envoyHeaderFormatError, retryErrors, virtualServiceErrors } from '../../support/istio-validation.js';
import { validateObject } from '../../support/crds.js';
import { emitObjects, mesh } from './helpers.js';

const BACKENDS = `
  backends:
    - name: app
      port: 8080
      versions:
        - { name: v1, labels: { version: v1 } }
        - { name: v2, labels: { version: v2 } }`;

const withRoute = (route: string) =>
  mesh(`${BACKENDS}
  routes:
    - name: r
      parent: { backend: app }
${route}`);

function emitted(m: ReturnType<typeof mesh>, version?: string) {
  const r = emitObjects(m, version ? { settings: { version } } : {});
  for (const o of r.objects) expect(validateObject(o).errors, `${o.kind} ${o.metadata.name}`).toEqual([]);
  return r;
}

describe('the ported istiod checks, on the cases of istio validation_test.go', () => {
  it('reads header values as Envoy does (TestValidateHTTPHeaderValue)', () => {
    for (const ok of [
      'foo',
      '%HOSTNAME%',
      '100%%',
      'prefix %HOSTNAME% suffix',
      '%DYNAMIC_METADATA(com.test.my_filter)%',
    ])
      expect(envoyHeaderFormatError(ok), ok).toBeUndefined();
    for (const bad of ['%START_TIME%%', 'abc%123', '100%'])
      expect(envoyHeaderFormatError(bad), bad).toBeDefined();
  });

  it('refuses a retryOn status code Go does not know (ValidateHTTPRetry)', () => {
    expect(retryErrors({ attempts: 2, retryOn: '5xx,503,425,429' })).toEqual([]);
    expect(retryErrors({ attempts: 2, retryOn: '420' })).toHaveLength(1);
    expect(retryErrors({ attempts: 2, retryOn: '520,599,509,499' })).toHaveLength(4);
    expect(retryErrors({ attempts: 0, retryOn: '5xx' })).toHaveLength(1);
  });
});

describe('istio: header values with %', () => {
  const values = ['100%', '%START_TIME%', '50%% off', 'a%b%c', '%', 'x %HOSTNAME% y'];
  const m = withRoute(`      to: [{ backend: app }]
      headers:
        request: { set: { x-a: "${values[0]}", x-b: "${values[1]}", x-c: "${values[2]}" }, add: { x-d: "${values[3]}" } }
        response: { set: { x-e: "${values[4]}" }, add: { x-f: "${values[5]}" } }`);

  it('writes every % as %%, which istiod accepts and Envoy reads back as the value written', () => {
    const { find } = emitted(m);
    const vs = find('VirtualService', 'app').spec;
    expect(virtualServiceErrors(vs, '1.30')).toEqual([]);
    const h = vs.http[0].headers;
    const written = [
      h.request.set['x-a'],
      h.request.set['x-b'],
      h.request.set['x-c'],
      h.request.add['x-d'],
      h.response.set['x-e'],
      h.response.add['x-f'],
    ];
    expect(written[0]).toBe('100%%');
    // the data plane expands header values as Envoy's formatter does: %% is one literal %
    const ctx = { start: 0, upstreamHost: '', protocol: 'HTTP/1.1', conn: { remoteIp: '', socket: {} } };
    expect(written.map((w) => expandHeaderValue(w, ctx))).toEqual(values);
  });
});

describe('istio: retryOn status codes istiod refuses', () => {
  it('leaves out a code Go does not know and keeps the rest (MG3002)', () => {
    const { find, diagnostics } = emitted(
      withRoute(
        `      to: [{ backend: app }]\n      retries: { attempts: 2, on: ["420", gateway-error, "599", "503"] }`,
      ),
    );
    const vs = find('VirtualService', 'app').spec;
    expect(vs.http[0].retries).toEqual({ attempts: 2, retryOn: 'gateway-error,503' });
    expect(virtualServiceErrors(vs, '1.30')).toEqual([]);
    const d = diagnostics.find((x) => x.pointer === '/spec/routes/0/retries/on')!;
    expect(d.code).toBe('MG3002');
    expect(d.message).toContain('420, 599');
  });

  it("retries nothing when every code is refused (MG3001), rather than Istio's default conditions", () => {
    const { find, diagnostics } = emitted(
      withRoute(
        `      to: [{ backend: app }]\n      retries: { attempts: 2, perTryTimeout: 1s, on: ["420"] }`,
      ),
    );
    const vs = find('VirtualService', 'app').spec;
    expect(vs.http[0].retries).toEqual({ attempts: 0 });
    expect(virtualServiceErrors(vs, '1.30')).toEqual([]);
    expect(diagnostics.some((x) => x.code === 'MG3001' && x.pointer === '/spec/routes/0/retries/on')).toBe(
      true,
    );
  });
});

describe('istio versions: header names in matches', () => {
  const twoRoutes = mesh(`${BACKENDS}
  routes:
    - name: traced
      parent: { backend: app }
      match: [{ headers: { x.trace: { exact: "1" } } }, { headers: { x-debug: { present: true } } }]
      to: [{ backend: app, version: v2 }]
    - name: dotted
      parent: { backend: app }
      match: [{ headers: { "x.only": { exact: "1" } } }]
      to: [{ backend: app, version: v2 }]
    - name: rest
      parent: { backend: app }
      to: [{ backend: app, version: v1 }]`);

  it.each(['1.23', '1.24.3'])(
    'at %s leaves out the match entries istiod would refuse (MG3001)',
    (version) => {
      const { find, diagnostics } = emitted(twoRoutes, version);
      const vs = find('VirtualService', 'app').spec;
      expect(virtualServiceErrors(vs, version)).toEqual([]);
      // "traced" keeps its other entry; "dotted" had one entry and never matches: it is left out
      expect(vs.http.map((r: { name: string }) => r.name)).toEqual(['traced', 'rest']);
      expect(vs.http[0].match).toEqual([{ headers: { 'x-debug': { regex: '.*' } } }]);
      const refused = diagnostics.filter((d) => d.code === 'MG3001' && /header/.test(d.message));
      expect(refused.map((d) => d.pointer)).toEqual([
        '/spec/routes/0/match/0/headers',
        '/spec/routes/1/match/0/headers',
      ]);
      expect(refused[0]!.hint).toContain('--set istio.version=1.25');
    },
  );

  it.each(['1.22', '1.24.4', '1.25', undefined])('at %s keeps every match', (version) => {
    const { find, diagnostics } = emitted(twoRoutes, version);
    const vs = find('VirtualService', 'app').spec;
    expect(virtualServiceErrors(vs, version ?? '1.30')).toEqual([]);
    expect(vs.http.map((r: { name: string }) => r.name)).toEqual(['traced', 'dotted', 'rest']);
    expect(diagnostics.filter((d) => d.code === 'MG3001')).toEqual([]);
  });

  it('without the fix, the 1.23 rule refuses the VirtualService written for 1.25', () => {
    const vs = emitted(twoRoutes, '1.25').find('VirtualService', 'app').spec;
    expect(virtualServiceErrors(vs, '1.23').length).toBeGreaterThan(0);
  });
});

describe('istio: Host in header operations', () => {
  it('leaves out what istiod refuses: Host in responses, a removed Host, a second authority', () => {
    const { find, diagnostics } = emitted(
      withRoute(`      to: [{ backend: app }]
      rewrite: { host: a.example }
      headers:
        request: { set: { Host: b.example, x-a: "1" }, remove: [host, x-b] }
        response: { set: { host: c }, add: { x-c: "2" } }`),
    );
    const vs = find('VirtualService', 'app').spec;
    expect(virtualServiceErrors(vs, '1.30')).toEqual([]);
    expect(vs.http[0].headers).toEqual({
      request: { set: { 'x-a': '1' }, remove: ['x-b'] },
      response: { add: { 'x-c': '2' } },
    });
    expect(diagnostics.filter((d) => d.code === 'MG3001' && /Host/.test(d.message))).toHaveLength(3);
  });
});
