import { describe, expect, it } from 'vitest';
import { parseMesh } from '../../src/model/load.js';

const meshWith = (endpoints: string[], extra = '') => `
apiVersion: meshgen.io/v1alpha1
kind: Mesh
metadata: { name: checks }
spec:
  backends:
    - name: api
      port: 8080
      versions:
        - { name: v1, endpoints: ${JSON.stringify(endpoints)} }
${extra}`;

const endpointDiagnostics = (endpoints: string[]) =>
  parseMesh(meshWith(endpoints))
    .diagnostics.filter((d) => d.code === 'MG2019')
    .map((d) => [d.pointer, d.message.replace(/^backend "api", version "v1": /, '')]);

describe('endpoint checks (MG2019)', () => {
  it('accepts dotted IPv4, IPv6 and DNS names with a port in range', () => {
    expect(
      endpointDiagnostics([
        '10.0.0.1:80',
        '0.0.0.0:1',
        '255.255.255.255:65535',
        '[::1]:9090',
        '[fe80::1:2]:80',
        'db.internal:5432',
        'a:1',
      ]),
    ).toEqual([]);
  });

  it('names each bad endpoint and what is wrong with it', () => {
    expect(
      endpointDiagnostics([
        '256.0.0.1:80',
        '1.2.3:80',
        '1.2.3.4.5:80',
        '1..2.3:80',
        '1.2.3.1000:80',
        '10.0.0.1:0',
        '10.0.0.1:70000',
        '[::1::2]:80',
        '010.001.1.1:8080',
        '[1:2:3:4:5:6:7:8:9]:80',
      ]),
    ).toEqual([
      ['/spec/backends/0/versions/0/endpoints/0', '"256.0.0.1:80" is not a valid IPv4 endpoint'],
      ['/spec/backends/0/versions/0/endpoints/1', '"1.2.3:80" is not a valid IPv4 endpoint'],
      ['/spec/backends/0/versions/0/endpoints/2', '"1.2.3.4.5:80" is not a valid IPv4 endpoint'],
      ['/spec/backends/0/versions/0/endpoints/3', '"1..2.3:80" is not a valid IPv4 endpoint'],
      ['/spec/backends/0/versions/0/endpoints/4', '"1.2.3.1000:80" is not a valid IPv4 endpoint'],
      ['/spec/backends/0/versions/0/endpoints/5', 'endpoint "10.0.0.1:0" has port 0, outside 1-65535'],
      [
        '/spec/backends/0/versions/0/endpoints/6',
        'endpoint "10.0.0.1:70000" has port 70000, outside 1-65535',
      ],
      ['/spec/backends/0/versions/0/endpoints/7', '"[::1::2]:80" is not a valid IPv6 endpoint'],
      // leading zeros: inet_pton (Envoy, HAProxy, NGINX, iptables) refuses them; some parsers read octal
      ['/spec/backends/0/versions/0/endpoints/8', '"010.001.1.1:8080" is not a valid IPv4 endpoint'],
      ['/spec/backends/0/versions/0/endpoints/9', '"[1:2:3:4:5:6:7:8:9]:80" is not a valid IPv6 endpoint'],
    ]);
  });
});

describe('first-match shadowing (MG2013)', () => {
  const routes = (entries: string) =>
    parseMesh(
      meshWith(
        ['10.0.0.1:80'],
        `  routes:
${entries}`,
      ),
    ).diagnostics.filter((d) => d.code === 'MG2013');

  it('reports a route that an earlier one of the same parent covers, and no route of another parent', () => {
    const found = routes(`    - { name: all, parent: { backend: api }, to: [{ backend: api }] }
    - { name: later, parent: { backend: api }, match: [{ path: { prefix: /x } }], to: [{ backend: api }] }
    - { name: exact, parent: { backend: api }, match: [{ path: { exact: /y } }], to: [{ backend: api }] }`);
    expect(found.map((d) => d.pointer)).toEqual(['/spec/routes/1/match', '/spec/routes/2/match']);
  });

  it('a prefix covers longer paths, an exact path only itself, and a header match covers nothing', () => {
    const found =
      routes(`    - { name: p, parent: { backend: api }, match: [{ path: { prefix: /a } }], to: [{ backend: api }] }
    - { name: e, parent: { backend: api }, match: [{ path: { exact: /b } }], to: [{ backend: api }] }
    - { name: h, parent: { backend: api }, match: [{ path: { prefix: /c }, headers: { x: { exact: "1" } } }], to: [{ backend: api }] }
    - { name: under-p, parent: { backend: api }, match: [{ path: { exact: /a/b } }], to: [{ backend: api }] }
    - { name: same-e, parent: { backend: api }, match: [{ path: { exact: /b } }], to: [{ backend: api }] }
    - { name: other-e, parent: { backend: api }, match: [{ path: { exact: /b/c } }], to: [{ backend: api }] }
    - { name: under-h, parent: { backend: api }, match: [{ path: { prefix: /c/d } }], to: [{ backend: api }] }`);
    expect(found.map((d) => d.pointer)).toEqual(['/spec/routes/3/match', '/spec/routes/4/match']);
  });
});
