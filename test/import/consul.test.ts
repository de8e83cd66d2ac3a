import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { importMesh } from '../../src/import/index.js';

const DIR = 'test/fixtures/import/consul';
const INPUT = path.join(DIR, 'input');

function fixtures() {
  return fs
    .readdirSync(INPUT)
    .filter((f) => /\.(hcl|json)$/.test(f))
    .sort()
    .map((f) => ({ file: path.join(INPUT, f), text: fs.readFileSync(path.join(INPUT, f), 'utf8') }));
}

const brief = (ds: ReturnType<typeof importMesh>['diagnostics']) =>
  ds.map((d) => `${d.file ?? ''}:${d.line ?? ''}:${d.column ?? ''}: ${d.code} ${d.message}`).join('\n');

describe('import --from consul', () => {
  it('reads HCL and JSON config entries into the expected mesh and diagnostics', () => {
    const r = importMesh(fixtures(), { from: 'consul', namespace: 'shop' });
    const expected = path.join(DIR, 'expected');
    if (process.env['UPDATE_EXPECTED']) {
      fs.writeFileSync(`${expected}.yaml`, r.yaml ?? '');
      fs.writeFileSync(`${expected}.diagnostics.txt`, brief(r.diagnostics) + '\n');
    }
    expect(r.yaml).toBe(fs.readFileSync(`${expected}.yaml`, 'utf8'));
    expect(brief(r.diagnostics) + '\n').toBe(fs.readFileSync(`${expected}.diagnostics.txt`, 'utf8'));
  });
});

const ROUTER_JSON = {
  Kind: 'service-router',
  Name: 'web',
  Routes: [
    {
      Match: { HTTP: { PathPrefix: '/v2', QueryParam: [{ Name: 'debug', Exact: '1' }] } },
      Destination: { ServiceSubset: 'v2', RequestHeaders: { Set: { 'x-v': '2' }, Remove: ['x-old'] } },
    },
  ],
};
const ROUTER_CRD = `apiVersion: consul.hashicorp.com/v1alpha1
kind: ServiceRouter
metadata:
  name: web
spec:
  routes:
    - match:
        http:
          pathPrefix: /v2
          queryParam:
            - name: debug
              exact: "1"
      destination:
        serviceSubset: v2
        requestHeaders:
          set: { x-v: "2" }
          remove: [x-old]
`;
const ROUTER_HCL = `kind = "service-router"
name = "web"
routes = [
  {
    match { http {
      path_prefix = "/v2"
      query_param = [{ name = "debug", exact = "1" }]
    } }
    destination {
      service_subset = "v2"
      request_headers { set = { "x-v" = "2" }, remove = ["x-old"] }
    }
  }
]
`;

describe('the three forms of a config entry', () => {
  const spec = (file: string, text: string, line: number) => {
    const r = importMesh([{ file, text }], { from: 'consul', namespace: 'shop' });
    // the router names subset v2, which no resolver among the inputs defines
    expect(r.diagnostics.map((d) => `${d.line}:${d.code}`)).toEqual([`${line}:MG7005`]);
    return r.document!.spec.routes;
  };
  it('reads PascalCase JSON, camelCase CRDs and snake_case HCL alike', () => {
    const json = spec('web.json', JSON.stringify(ROUTER_JSON, null, 2), 18);
    expect(json![0]).toMatchObject({
      parent: { backend: 'web' },
      match: [{ path: { prefix: '/v2' }, queryParams: { debug: { exact: '1' } } }],
      to: [{ backend: 'web', version: 'v2' }],
      headers: { request: { set: { 'x-v': '2' }, remove: ['x-old'] } },
    });
    expect(spec('web.yaml', ROUTER_CRD, 14)).toEqual(json);
    expect(spec('web.hcl', ROUTER_HCL, 10)).toEqual(json);
  });
});

describe('HCL outside the subset', () => {
  const diag = (text: string) => {
    const r = importMesh([{ file: 'e.hcl', text }], { from: 'consul' });
    const d = r.diagnostics.find((x) => x.code === 'MG7002');
    return d && `${d.line}:${d.column} ${d.message}`;
  };
  it.each([
    [
      'Kind = "service-router"\nName = "${var.name}"\n',
      '2:9 HCL: interpolation ${...} is outside the HCL config entries use',
    ],
    [
      'Kind = "service-router"\nName = <<EOF\nweb\nEOF\n',
      '2:8 HCL: heredocs are outside the HCL config entries use',
    ],
    [
      'Kind = "service-router"\nroute "a" { }\n',
      '2:7 HCL: labelled blocks (route "label" { }) are outside the HCL config entries use',
    ],
    ['Kind = "service-router"\nName = "web\n', '2:8 HCL: unterminated string'],
    ['Kind = "service-router"\nRoutes = [ { }\n', '3:1 HCL: expected "," or "]" in a list'],
    ['Kind = "service-router" /* open\n', '1:25 HCL: unterminated /* comment'],
    [
      'Kind = "service-router"\nName = upper("web")\n',
      '2:8 HCL: upper is an expression, outside the HCL config entries use (values are strings, numbers, bools, lists and objects)',
    ],
    ['Kind = "service-router"\nKind = "x"\n', '2:1 HCL: Kind is set twice'],
  ])('%j', (text, expected) => {
    expect(diag(text)).toBe(expected);
  });

  it('reads comments of the three kinds and repeated blocks as a list', () => {
    const text = `# one
Kind = "ingress-gateway" // two
Name = "edge" /* three */
Listeners {
  Port = 8080
  Protocol = "http"
  Services = [{ Name = "web" }]
}
Listeners {
  Port = 9090
  Protocol = "tcp"
  Services = [{ Name = "db" }]
}
`;
    const r = importMesh([{ file: 'edge.hcl', text }], { from: 'consul', namespace: 'shop' });
    expect(r.diagnostics.filter((d) => d.severity !== 'info')).toEqual([]);
    expect(r.document!.spec.frontends).toEqual([
      { name: 'edge-8080', port: 8080, protocol: 'http' },
      { name: 'edge-9090', port: 9090, protocol: 'tcp' },
    ]);
  });

  it('locates what is not carried in HCL at its line and column', () => {
    const text =
      'Kind = "service-resolver"\nName = "web"\n\nFailover = {\n  "*" = { Targets = [{ Datacenter = "dc2" }] }\n}\n';
    const r = importMesh([{ file: 'web.hcl', text }], { from: 'consul' });
    const d = r.diagnostics.find((x) => x.code === 'MG7004');
    expect(d).toMatchObject({ file: 'web.hcl', line: 4, column: 12 });
    expect(d!.message).toContain('failover');
  });
});

describe('what a listener and a router say that the mesh reads differently', () => {
  it('serves a grpc listener as an HTTP frontend and leaves out retry conditions the mesh lacks', () => {
    const gateway = `apiVersion: consul.hashicorp.com/v1alpha1
kind: IngressGateway
metadata: { name: edge }
spec:
  listeners:
    - port: 8443
      protocol: grpc
      services: [{ name: api }]
`;
    const router = JSON.stringify({
      Kind: 'service-router',
      Name: 'api',
      Routes: [
        {
          Match: { HTTP: { PathPrefix: '/' } },
          Destination: { NumRetries: 2, RetryOn: ['reset', 'refused-stream'] },
        },
      ],
    });
    const r = importMesh(
      [
        { file: 'edge.yaml', text: gateway },
        { file: 'api.json', text: router },
      ],
      { from: 'consul', namespace: 'shop' },
    );
    expect(r.diagnostics.map((d) => `${d.file}:${d.line}:${d.column} ${d.code}`)).toEqual([
      `api.json:1:${router.indexOf('"refused-stream"') + 1} MG7004`,
    ]);
    expect(r.diagnostics[0]!.message).toContain('refused-stream has no mesh equivalent');
    expect(r.document!.spec.frontends).toEqual([{ name: 'edge', port: 8443, protocol: 'http' }]);
    expect(r.document!.spec.backends[0]).toMatchObject({ name: 'api', protocol: 'grpc' });
    expect(r.document!.spec.routes![0]!.retries).toEqual({ attempts: 2, on: ['reset'] });
  });
});

describe('bad input', () => {
  it('gives diagnostics, never an exception, for every truncation of the fixtures', () => {
    for (const { file, text } of fixtures())
      for (let n = 0; n < text.length; n += 3) {
        const r = importMesh([{ file, text: text.slice(0, n) }], { from: 'consul' });
        expect(r.diagnostics.length + (r.document ? 1 : 0)).toBeGreaterThan(0);
      }
  });

  it('skips values of the wrong type with diagnostics', () => {
    const text = JSON.stringify({
      Kind: 'service-router',
      Name: 'web',
      Routes: [7, { Match: 'x', Destination: { NumRetries: 'two', ServiceSubset: ['v1'] } }],
    });
    const r = importMesh([{ file: 'web.json', text }], { from: 'consul' });
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(r.document!.spec.backends.map((b) => b.name)).toEqual(['web']);
  });
});
