import { describe, expect, it } from 'vitest';
import { meshFrom } from '../../support/meshes.js';
import { TWO_VERSIONS, meshYaml, renderLinkerd } from './support.js';

/** Two routes on the backend (or on a frontend), first to v1, second to v2. */
function twoRoutes(first: string, second: string, parent = '{ backend: reviews }') {
  const frontends = parent.includes('frontend') ? '    - { name: web, port: 80, protocol: http }' : undefined;
  return meshFrom(
    meshYaml({
      backends: TWO_VERSIONS,
      frontends,
      routes: `    - name: first
      parent: ${parent}
${first}
      to: [{ backend: reviews, version: v1 }]
    - name: second
      parent: ${parent}
${second}
      to: [{ backend: reviews, version: v2 }]`,
    }),
  );
}

function orderDiagnostics(mesh: ReturnType<typeof meshFrom>) {
  return renderLinkerd(mesh)
    .diagnostics.filter((d) => d.code === 'MG3004')
    .map((d) => d.message);
}

describe('linkerd: first-match order against HTTPRoute specificity', () => {
  it('stays silent when the earlier route is the more specific one', () => {
    expect(
      orderDiagnostics(
        twoRoutes(
          '      match: [{ path: { prefix: /api/v2/ } }]',
          '      match: [{ path: { prefix: /api/ } }]',
        ),
      ),
    ).toEqual([]);
    expect(
      orderDiagnostics(
        twoRoutes('      match: [{ path: { exact: /api } }]', '      match: [{ path: { prefix: / } }]'),
      ),
    ).toEqual([]);
    expect(
      orderDiagnostics(
        twoRoutes(
          '      match: [{ headers: { x-canary: { exact: "1" } } }]',
          '      match: [{ path: { prefix: / } }]',
        ),
      ),
    ).toEqual([]);
  });

  it('reports a later, more specific route that would take requests the earlier one matches', () => {
    const messages = orderDiagnostics(
      twoRoutes(
        '      match: [{ path: { prefix: /api/ } }]',
        '      match: [{ path: { exact: /api/health } }]',
      ),
    );
    expect(messages).toHaveLength(1);
    expect(messages[0]).toContain('route "second" would take requests that route "first" matches first');
    expect(messages[0]).toContain('backend "reviews"');
  });

  it('reports a header route placed after a catch-all', () => {
    expect(
      orderDiagnostics(twoRoutes('', '      match: [{ headers: { x-canary: { exact: "1" } } }]')),
    ).toHaveLength(1);
  });

  it('stays silent when the two routes cannot match the same request', () => {
    expect(
      orderDiagnostics(
        twoRoutes(
          '      match: [{ path: { prefix: /a/ } }]',
          '      match: [{ path: { prefix: /b/long/ } }]',
        ),
      ),
    ).toEqual([]);
    expect(
      orderDiagnostics(
        twoRoutes(
          '      match: [{ path: { prefix: /x/ }, method: GET }]',
          '      match: [{ path: { exact: /x/y }, method: POST }]',
        ),
      ),
    ).toEqual([]);
    expect(
      orderDiagnostics(
        twoRoutes(
          '      match: [{ headers: { x-a: { exact: "1" } } }]',
          '      match: [{ headers: { x-a: { exact: "2" } }, method: GET }]',
        ),
      ),
    ).toEqual([]);
  });

  it('stays silent when the reordered routes behave the same', () => {
    const mesh = meshFrom(
      meshYaml({
        backends: TWO_VERSIONS,
        routes: `    - name: first
      parent: { backend: reviews }
      match: [{ path: { prefix: /api/ } }]
      to: [{ backend: reviews, version: v1 }]
    - name: second
      parent: { backend: reviews }
      match: [{ path: { exact: /api/health } }]
      to: [{ backend: reviews, version: v1 }]`,
      }),
    );
    expect(orderDiagnostics(mesh)).toEqual([]);
  });

  it('keeps ties in order inside one HTTPRoute, and reports ties across HTTPRoutes', () => {
    const same = twoRoutes(
      '      match: [{ headers: { x-a: { exact: "1" } } }]',
      '      match: [{ headers: { x-b: { exact: "1" } } }]',
    );
    expect(orderDiagnostics(same)).toEqual([]);
    const split = twoRoutes(
      '      match: [{ headers: { x-a: { exact: "1" } } }]\n      retries: { attempts: 1, on: ["503"] }',
      '      match: [{ headers: { x-b: { exact: "1" } } }]',
    );
    const messages = orderDiagnostics(split);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toContain('different HTTPRoutes');
  });

  it('ranks by Linkerd order on a Service (headers before method) and Gateway API order on a Gateway (method before headers)', () => {
    const first = '      match: [{ headers: { x-a: { exact: "1" } } }]';
    const second = '      match: [{ method: GET }]';
    expect(orderDiagnostics(twoRoutes(first, second))).toEqual([]);
    expect(orderDiagnostics(twoRoutes(first, second, '{ frontend: web }'))).toHaveLength(1);
  });

  it('ranks a regex by the whole path it matches on a Service', () => {
    expect(
      orderDiagnostics(
        twoRoutes(
          '      match: [{ path: { regex: "/items/[0-9]+" } }]',
          '      match: [{ path: { prefix: /items/ } }]',
        ),
      ),
    ).toEqual([]);
    expect(
      orderDiagnostics(
        twoRoutes(
          '      match: [{ path: { prefix: /items/ } }]',
          '      match: [{ path: { regex: "/items/[0-9]+" } }]',
        ),
      ),
    ).toHaveLength(1);
    expect(
      orderDiagnostics(
        twoRoutes(
          '      match: [{ path: { regex: "/items/[0-9]+" } }]',
          '      match: [{ path: { exact: /other } }]',
        ),
      ),
    ).toEqual([]);
  });
});

describe('linkerd: frontend routes and hosts', () => {
  const mesh = (firstHosts: string, secondHosts: string) =>
    meshFrom(
      meshYaml({
        backends: TWO_VERSIONS,
        frontends: '    - { name: web, port: 80, protocol: http }',
        routes: `    - name: first
      parent: { frontend: web${firstHosts} }
      to: [{ backend: reviews, version: v1 }]
    - name: second
      parent: { frontend: web${secondHosts} }
      to: [{ backend: reviews, version: v2 }]`,
      }),
    );

  it('reports a later route naming a host that an earlier route for every host takes first', () => {
    const messages = orderDiagnostics(mesh('', ', hosts: [a.example.com]'));
    expect(messages).toHaveLength(1);
    expect(messages[0]).toContain('more specific host');
  });

  it('stays silent when the routes serve different hosts or the host-specific route comes first', () => {
    expect(orderDiagnostics(mesh(', hosts: [a.example.com]', ', hosts: [b.example.com]'))).toEqual([]);
    expect(orderDiagnostics(mesh(', hosts: [a.example.com]', ''))).toEqual([]);
  });
});

describe('linkerd: frontend routes with different host lists', () => {
  it('reports routes in different HTTPRoutes (one a host list) that tie on a shared host', () => {
    const mesh = meshFrom(
      meshYaml({
        backends: TWO_VERSIONS,
        frontends: '    - { name: web, port: 80, protocol: http, hosts: [a.example.com, b.example.com] }',
        routes: `    - name: first
      parent: { frontend: web, hosts: [a.example.com] }
      to: [{ backend: reviews, version: v1 }]
    - name: second
      parent: { frontend: web }
      to: [{ backend: reviews, version: v2 }]`,
      }),
    );
    const messages = orderDiagnostics(mesh);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toContain('different HTTPRoutes');
  });
});
