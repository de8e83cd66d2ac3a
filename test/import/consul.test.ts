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
    // at the failover of "*", naming where it would send
    expect(d).toMatchObject({ file: 'web.hcl', line: 5, column: 9 });
    expect(d!.message).toContain('failover of every subset (to web in dc2) is not carried');
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

  it('says where each value of the wrong type is, and does not read the entry Consul would refuse', () => {
    const text = JSON.stringify({
      Kind: 'service-router',
      Name: 'web',
      Routes: [7, { Match: 'x', Destination: { NumRetries: 'two', ServiceSubset: ['v1'] } }],
    });
    const r = importMesh([{ file: 'web.json', text }], { from: 'consul' });
    expect(r.diagnostics.map((d) => [d.code, d.severity, d.column])).toEqual([
      ['MG7013', 'error', 49],
      ['MG7013', 'error', 60],
      ['MG7013', 'error', 92],
      ['MG7013', 'error', 114],
    ]);
    expect(r.diagnostics.map((d) => d.message)).toEqual([
      'service-router web: Routes[0] is the number 7, where Consul takes an object: the entry would be refused, so it is not read',
      'service-router web: Routes[1].Match is the string "x", where Consul takes an object: the entry would be refused, so it is not read',
      'service-router web: Routes[1].Destination.NumRetries is the string "two", where Consul takes a number: the entry would be refused, so it is not read',
      'service-router web: Routes[1].Destination.ServiceSubset is a list, where Consul takes a string: the entry would be refused, so it is not read',
    ]);
    expect(r.yaml).toBeUndefined();
  });
});

describe('values of the wrong type in HCL, JSON and the CRDs', () => {
  const splitterHcl = (weight: string) =>
    `Kind = "service-splitter"\nName = "web"\nSplits = [\n  { Weight = ${weight}, ServiceSubset = "v1" },\n  { Weight = 10, ServiceSubset = "v2" },\n]\n`;

  it.each([
    [
      'web.hcl',
      splitterHcl('"abc"'),
      4,
      14,
      'Splits[0].Weight is the string "abc", where Consul takes a number',
    ],
    [
      'web.hcl',
      'Kind = "service-resolver"\nName = "web"\nConnectTimeout = 5\n',
      3,
      18,
      'ConnectTimeout is the number 5, where Consul takes a duration string (such as "5s") (a bare number is not a duration)',
    ],
    [
      'web.hcl',
      'Kind = "service-resolver"\nName = "web"\nConnectTimeout = "5 seconds"\n',
      3,
      18,
      'ConnectTimeout is the string "5 seconds", where Consul takes a duration string',
    ],
    [
      'web.hcl',
      'Kind = "service-splitter"\nName = "web"\nSplits = "x"\n',
      3,
      10,
      'Splits is the string "x", where Consul takes a list',
    ],
    [
      'web.json',
      '{\n  "Kind": "service-splitter",\n  "Name": "web",\n  "Splits": [{ "Weight": "abc" }]\n}\n',
      4,
      26,
      'Splits[0].Weight is the string "abc", where Consul takes a number',
    ],
    [
      'web.json',
      '{\n  "Kind": "service-resolver",\n  "Name": "web",\n  "ConnectTimeout": 5\n}\n',
      4,
      21,
      'ConnectTimeout is the number 5, where Consul takes a duration string',
    ],
    [
      'web.yaml',
      'apiVersion: consul.hashicorp.com/v1alpha1\nkind: ServiceSplitter\nmetadata: { name: web }\nspec:\n  splits: x\n',
      5,
      11,
      'splits is the string "x", where Consul takes a list',
    ],
    [
      'web.yaml',
      'apiVersion: consul.hashicorp.com/v1alpha1\nkind: ServiceResolver\nmetadata: { name: web }\nspec:\n  connectTimeout: true\n  failover: { "*": { datacenters: dc2 } }\n',
      5,
      19,
      'connectTimeout is the bool true, where Consul takes a duration string',
    ],
  ])('%s: %s', (file, text, line, column, message) => {
    const r = importMesh([{ file, text }], { from: 'consul' });
    const d = r.diagnostics.find((x) => x.code === 'MG7013')!;
    expect(d).toMatchObject({ file, line, column, severity: 'error' });
    expect(d.message).toContain(message);
    expect(r.yaml).toBeUndefined();
  });

  it('a CRD with several wrong values names each', () => {
    const text =
      'apiVersion: consul.hashicorp.com/v1alpha1\nkind: ServiceResolver\nmetadata: { name: web }\nspec:\n  connectTimeout: true\n  failover: { "*": { datacenters: dc2 } }\n';
    const r = importMesh([{ file: 'web.yaml', text }], { from: 'consul' });
    expect(r.diagnostics.filter((d) => d.code === 'MG7013').map((d) => [d.line, d.column])).toEqual([
      [5, 19],
      [6, 35],
    ]);
  });

  it('well-typed entries, and a single HCL block where a list is taken, are read as before', () => {
    const text = `Kind = "service-splitter"\nName = "web"\nSplits {\n  Weight = 100\n  ServiceSubset = "v1"\n}\n`;
    const r = importMesh([{ file: 'web.hcl', text }], { from: 'consul' });
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(r.document!.spec.routes).toEqual([
      { name: 'web', parent: { backend: 'web' }, to: [{ backend: 'web', version: 'v1' }] },
    ]);
    const hcl = importMesh([{ file: 'web.hcl', text: splitterHcl('90') }], { from: 'consul' });
    expect(hcl.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(hcl.document!.spec.routes![0]!.to).toEqual([
      { backend: 'web', version: 'v1', weight: 90 },
      { backend: 'web', version: 'v2', weight: 10 },
    ]);
  });
});

describe("a resolver's Failover and ConnectTimeout", () => {
  it('are located MG7004 naming each failover and its targets, the rest of the resolver read', () => {
    const text = [
      'Kind = "service-resolver"',
      'Name = "web"',
      'ConnectTimeout = "15s"',
      'DefaultSubset = "v1"',
      'Subsets = {',
      '  v1 = { Filter = "Service.Meta.version == v1" }',
      '  v2 = { Filter = "Service.Meta.version == v2" }',
      '}',
      'Failover = {',
      '  v2 = { ServiceSubset = "v1" }',
      '  "*" = { Datacenters = ["dc3", "dc4"] }',
      '}',
      '',
    ].join('\n');
    const r = importMesh([{ file: 'web.hcl', text }], { from: 'consul' });
    const notCarried = r.diagnostics.filter((d) => d.code === 'MG7004');
    expect(notCarried.map((d) => [d.line, d.column, d.message])).toEqual([
      [
        3,
        18,
        "service-resolver web: ConnectTimeout 15s is not carried: the mesh has no connect timeout (a route's timeout and retries.perTryTimeout bound whole requests, not the connection)",
      ],
      [
        10,
        8,
        'service-resolver web: failover of subset v2 (to web/v1) is not carried: the mesh has no failover to another version, service or datacenter when one is unhealthy',
      ],
      [
        11,
        9,
        'service-resolver web: failover of every subset (to datacenter dc3, datacenter dc4) is not carried: the mesh has no failover to another version, service or datacenter when one is unhealthy',
      ],
    ]);
    expect(r.document!.spec.backends[0]!.versions.map((v) => v.name)).toEqual(['v1', 'v2']);
    expect(r.document!.spec.routes![0]!.to).toEqual([{ backend: 'web', version: 'v1' }]);
  });
});
