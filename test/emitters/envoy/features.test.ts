import { beforeAll, describe, expect, it } from 'vitest';
import { checkEnvoy } from '../../../src/envoy/check.js';
import { meshFrom } from '../../support/meshes.js';
import {
  cluster,
  hcm,
  listener,
  outboundRoutes,
  referencedClusters,
  effective,
  renderEnvoy,
  type Boot,
  type Rendered,
} from './helpers.js';

const MESH = `
apiVersion: meshgen.io/v1alpha1
kind: Mesh
metadata: { name: feat }
spec:
  namespace: ns
  trustDomain: example.org
  mtls: { mode: strict }
  defaultAccess: deny
  backends:
    - name: api
      port: 8080
      versions:
        - { name: v1, endpoints: ["10.0.0.1:18080", "10.0.0.11:18080"] }
        - { name: v2, endpoints: ["10.0.0.2:18080"] }
        - { name: v3, endpoints: ["api-v3.internal:8081"] }
      loadBalancer: ring-hash
      hashOn: { header: X-User }
      healthCheck: { path: /healthz, interval: 5s, timeout: 1s, healthyThreshold: 2, unhealthyThreshold: 3 }
      circuitBreaker: { maxConnections: 100, maxPendingRequests: 10, maxRequests: 200, maxRetries: 4 }
      outlierDetection: { consecutiveErrors: 7, interval: 10s, baseEjectionTime: 30s, maxEjectionPercent: 50 }
    - name: grpc
      port: 9000
      protocol: grpc
      versions: [{ name: v1, endpoints: ["10.0.1.1:19000"] }]
      loadBalancer: random
    - name: lr
      port: 9000
      versions: [{ name: v1, endpoints: ["10.0.2.1:80"] }]
      loadBalancer: least-request
      mtls: { mode: permissive }
    - name: plain
      port: 7000
      versions: [{ name: v1, endpoints: ["[::1]:7001"] }]
      mtls: { mode: disabled }
    - name: db
      port: 5432
      protocol: tcp
      versions:
        - { name: a, endpoints: ["10.0.3.1:25432"] }
        - { name: b, endpoints: ["10.0.3.2:25432"] }
  frontends:
    - name: public
      port: 8443
      protocol: https
      hosts: [shop.example.com, "*.example.com"]
      tls: { certificate: certs/shop.crt, key: certs/shop.key, clientCa: certs/clients.crt }
    - name: pass
      port: 9443
      protocol: tls-passthrough
      hosts: [a.example.net, b.example.net, "*.example.net"]
    - name: dbin
      port: 15432
      protocol: tcp
  routes:
    - name: canary
      parent: { backend: api }
      match:
        - path: { prefix: /api/ }
          headers: { X-Canary: { exact: "yes" }, x-any: { present: true } }
          queryParams: { debug: { regex: "[01]" } }
          method: POST
        - path: { prefix: /v0/ }
      to:
        - { backend: api, version: v1, weight: 90 }
        - { backend: api, version: v2, weight: 10 }
      timeout: 5s
      retries: { attempts: 3, perTryTimeout: 1500ms, on: [5xx, gateway-error, connect-failure, reset, retriable-4xx, "503", "429"] }
      fault:
        delay: { duration: 2s, percent: 5 }
        abort: { status: 503, percent: 1.5 }
      mirror: { backend: api, version: v3, percent: 10 }
      rewrite: { pathPrefix: /v2/, host: api.internal }
      headers:
        request: { set: { x-env: prod }, add: { x-via: meshgen }, remove: [x-debug] }
        response: { set: { x-served-by: api }, add: { x-trace: on }, remove: [server] }
    - name: exact-and-regex
      parent: { backend: api }
      match:
        - path: { exact: /one }
        - path: { regex: "/items/[0-9]+" }
      to: [{ backend: api }]
    - name: shop
      parent: { frontend: public, hosts: [shop.example.com] }
      match: [{ path: { prefix: /shop } }]
      to: [{ backend: api, version: v1 }]
      timeout: 2s
    - name: wild
      parent: { frontend: public, hosts: ["*.example.com"] }
      to: [{ backend: lr }]
    - name: pass-a
      parent: { frontend: pass, hosts: [a.example.net] }
      to: [{ backend: db, version: a }]
    - name: pass-rest
      parent: { frontend: pass }
      to: [{ backend: db, version: b }]
    - name: db-split
      parent: { backend: db }
      to:
        - { backend: db, version: a, weight: 70 }
        - { backend: db, version: b, weight: 30 }
      timeout: 10m
    - name: dbin
      parent: { frontend: dbin }
      to: [{ backend: db }]
  access:
    - backend: api
      allow:
        - from: [public, grpc]
          paths: [/api/*, /v0/status]
          methods: [GET, POST]
        - from: ["*"]
          paths: [/public/*]
    - backend: db
      allow:
        - from: [api, dbin]
`;

let out: Rendered;
let api: Boot;
let gateway: Boot;
beforeAll(() => {
  out = renderEnvoy(meshFrom(MESH));
  api = effective(out, 'sidecar-api.yaml');
  gateway = out.boots['gateway.yaml'];
});

const canary = () => outboundRoutes(api, 'api').filter((r: Boot) => r.name.startsWith('canary#'));

describe('the feature mesh', () => {
  it('decodes against Envoy protos in every bootstrap, with cross-references resolved', () => {
    for (const [path, file] of Object.entries(out.boots)) {
      const shared = path.startsWith('outbound-');
      const type = shared ? 'envoy.service.discovery.v3.DiscoveryResponse' : undefined;
      expect(checkEnvoy(file, { canonical: true, type }).errors, path).toEqual([]);
      if (shared) continue;
      const boot = effective(out, path);
      const names = new Set(boot.static_resources.clusters.map((c: Boot) => c.name));
      for (const ref of referencedClusters(boot)) expect(names.has(ref), `${path}: ${ref}`).toBe(true);
    }
  });
});

describe('routes (east-west, in the outbound listener)', () => {
  it('keeps first-match order: one Envoy route per match entry, then the next mesh route', () => {
    expect(outboundRoutes(api, 'api').map((r: Boot) => r.name)).toEqual([
      'canary#0',
      'canary#1',
      'exact-and-regex#0',
      'exact-and-regex#1',
    ]);
  });

  it("adds no catch-all route: a request no mesh route accepts gets Envoy's own 404", () => {
    const catchAll = (r: Boot) => r.match.prefix === '/' && !r.match.headers && !r.match.query_parameters;
    expect(outboundRoutes(api, 'api').filter(catchAll)).toEqual([]);
    const vhs = hcm(listener(gateway, 'public')).route_config.virtual_hosts;
    const shop = vhs.find((v: Boot) => v.name === 'shop.example.com');
    // "wild" has no match in the mesh, so it accepts every path: its own catch-all, kept last
    expect(shop.routes.map((r: Boot) => [r.name, catchAll(r)])).toEqual([
      ['shop', false],
      ['wild', true],
    ]);
    for (const v of vhs) expect(v).not.toHaveProperty('retry_policy');
  });

  it('splits 90/10 with weighted_clusters on the version clusters', () => {
    expect(canary()[0].route.weighted_clusters).toEqual({
      clusters: [
        { name: 'api|v1', weight: 90 },
        { name: 'api|v2', weight: 10 },
      ],
    });
  });

  it('matches path prefix, headers (present, exact), :method and query parameters', () => {
    expect(canary()[0].match).toEqual({
      prefix: '/api/',
      headers: [
        { name: 'x-canary', string_match: { exact: 'yes' } },
        { name: 'x-any', present_match: true },
        { name: ':method', string_match: { exact: 'POST' } },
      ],
      query_parameters: [{ name: 'debug', string_match: { safe_regex: { regex: '[01]' } } }],
    });
    expect(canary()[1].match).toEqual({ prefix: '/v0/' });
    const [exact, regex] = outboundRoutes(api, 'api').slice(2);
    expect(exact.match).toEqual({ path: '/one' });
    expect(regex.match).toEqual({ safe_regex: { regex: '/items/[0-9]+' } });
  });

  it('counts retries: attempts 3 is num_retries 3, conditions in retry_on, status codes apart, per_try_timeout', () => {
    const p = canary()[0].route.retry_policy;
    expect(p.num_retries).toBe(3);
    expect(p.retry_on).toBe('5xx,gateway-error,connect-failure,reset,retriable-4xx,retriable-status-codes');
    expect(p.retriable_status_codes).toEqual([503, 429]);
    expect(p.per_try_timeout).toBe('1.5s');
    expect(p.retry_host_predicate[0].name).toBe('envoy.retry_host_predicates.previous_hosts');
  });

  it('sets no retry_policy without retries: Envoy then retries nothing, not even a connect failure', () => {
    const r = outboundRoutes(api, 'api')[2];
    expect(r.route).not.toHaveProperty('retry_policy');
    const vh = hcm(listener(api, 'outbound|api')).route_config.virtual_hosts[0];
    expect(vh).not.toHaveProperty('retry_policy');
  });

  it('sets the route timeout, and says Envoy 15s default applies where there is none', () => {
    expect(canary()[0].route.timeout).toBe('5s');
    expect(outboundRoutes(api, 'api')[2].route).not.toHaveProperty('timeout');
    const d = out.diagnostics.find((x) => x.code === 'MG3005' && x.message.includes('"exact-and-regex"'));
    expect(d?.message).toMatch(/15s/);
    expect(d?.severity).toBe('info');
  });

  it('injects faults per route through the fault filter, with percentages', () => {
    const f = canary()[0].typed_per_filter_config['envoy.filters.http.fault'];
    expect(f['@type']).toBe('type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault');
    expect(f.delay).toEqual({ fixed_delay: '2s', percentage: { numerator: 5, denominator: 'HUNDRED' } });
    expect(f.abort).toEqual({
      http_status: 503,
      percentage: { numerator: 150, denominator: 'TEN_THOUSAND' },
    });
    const filters = hcm(listener(api, 'outbound|api')).http_filters.map((x: Boot) => x.name);
    expect(filters).toEqual(['envoy.filters.http.fault', 'envoy.filters.http.router']);
    // no fault filter where no route has a fault
    expect(hcm(listener(api, 'outbound|lr')).http_filters.map((x: Boot) => x.name)).toEqual([
      'envoy.filters.http.router',
    ]);
  });

  it('mirrors a share of requests with runtime_fraction', () => {
    expect(canary()[0].route.request_mirror_policies).toEqual([
      { cluster: 'api|v3', runtime_fraction: { default_value: { numerator: 10, denominator: 'HUNDRED' } } },
    ]);
    const info = out.diagnostics.filter((d) => d.code === 'MG3005' && d.message.includes('mirror'));
    expect(info.map((d) => d.pointer)).toEqual(['/spec/routes/0/mirror']);
    expect(info[0]!.message).toMatch(/-shadow/);
  });

  it('rewrites the path prefix and the host', () => {
    expect(canary()[0].route.prefix_rewrite).toBe('/v2/');
    expect(canary()[0].route.host_rewrite_literal).toBe('api.internal');
  });

  it('sets, adds and removes request and response headers', () => {
    const r = canary()[0];
    expect(r.request_headers_to_add).toEqual([
      { header: { key: 'x-env', value: 'prod' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' },
      { header: { key: 'x-via', value: 'meshgen' }, append_action: 'APPEND_IF_EXISTS_OR_ADD' },
    ]);
    expect(r.request_headers_to_remove).toEqual(['x-debug']);
    expect(r.response_headers_to_add).toEqual([
      { header: { key: 'x-served-by', value: 'api' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' },
      { header: { key: 'x-trace', value: 'on' }, append_action: 'APPEND_IF_EXISTS_OR_ADD' },
    ]);
    expect(r.response_headers_to_remove).toEqual(['server']);
    expect(
      out.diagnostics.some((d) => d.code === 'MG3002' && d.pointer === '/spec/routes/0/headers/response'),
    ).toBe(true);
  });

  it('hashes on the ring-hash backend key', () => {
    expect(canary()[0].route.hash_policy).toEqual([{ header: { header_name: 'x-user' } }]);
  });

  it('answers the names of the backend, with and without the port', () => {
    const vh = hcm(listener(api, 'outbound|grpc')).route_config.virtual_hosts[0];
    expect(vh.domains).toEqual(
      expect.arrayContaining([
        'grpc',
        'grpc.ns',
        'grpc.ns.svc.cluster.local',
        'grpc:9000',
        'grpc.ns:9000',
        'grpc.ns.svc.cluster.local:9000',
      ]),
    );
  });

  it('binds each backend on its local address and port, shared ports on their own loopback addresses', () => {
    const grpcAddr = listener(api, 'outbound|grpc').address.socket_address;
    const lrAddr = listener(api, 'outbound|lr').address.socket_address;
    expect(grpcAddr.port_value).toBe(9000);
    expect(lrAddr.port_value).toBe(9000);
    expect(grpcAddr.address).not.toBe(lrAddr.address);
    expect(grpcAddr.address).toMatch(/^127\./);
    expect(out.texts['hosts']).toContain(`${grpcAddr.address} grpc grpc.ns\n`);
  });
});

describe('clusters', () => {
  it('has one cluster per version and one for all versions, with STATIC or STRICT_DNS endpoints', () => {
    const v1 = cluster(api, 'api|v1');
    expect(v1.type).toBe('STATIC');
    expect(
      v1.load_assignment.endpoints[0].lb_endpoints.map((e: Boot) => e.endpoint.address.socket_address),
    ).toEqual([
      { address: '10.0.0.1', port_value: 18080 },
      { address: '10.0.0.11', port_value: 18080 },
    ]);
    expect(cluster(api, 'api|v3').type).toBe('STRICT_DNS');
    const all = cluster(api, 'api');
    expect(all.type).toBe('STRICT_DNS');
    expect(all.load_assignment.endpoints[0].lb_endpoints).toHaveLength(4);
    expect(
      cluster(api, 'plain').load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address,
    ).toEqual({ address: '::1', port_value: 7001 });
  });

  it('maps load balancers to lb_policy', () => {
    expect(cluster(api, 'api|v1').lb_policy).toBe('RING_HASH');
    expect(cluster(api, 'grpc').lb_policy).toBe('RANDOM');
    expect(cluster(api, 'lr').lb_policy).toBe('LEAST_REQUEST');
    expect(cluster(api, 'plain').lb_policy).toBe('ROUND_ROBIN');
  });

  it('sets circuit breaker thresholds', () => {
    expect(cluster(api, 'api|v1').circuit_breakers).toEqual({
      thresholds: [{ max_connections: 100, max_pending_requests: 10, max_requests: 200, max_retries: 4 }],
    });
    expect(cluster(api, 'grpc')).not.toHaveProperty('circuit_breakers');
  });

  it('ejects outliers on consecutive errors only', () => {
    expect(cluster(api, 'api|v1').outlier_detection).toEqual({
      consecutive_5xx: 7,
      interval: '10s',
      base_ejection_time: '30s',
      max_ejection_percent: 50,
      enforcing_success_rate: 0,
    });
  });

  it('checks health over HTTP', () => {
    expect(cluster(api, 'api|v2').health_checks).toEqual([
      {
        timeout: '1s',
        interval: '5s',
        healthy_threshold: 2,
        unhealthy_threshold: 3,
        http_health_check: { path: '/healthz' },
      },
    ]);
  });

  it('speaks HTTP/2 upstream to grpc backends', () => {
    const opts = cluster(api, 'grpc').typed_extension_protocol_options[
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions'
    ];
    expect(opts).toEqual({
      '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
      explicit_http_config: { http2_protocol_options: {} },
    });
    expect(cluster(api, 'api|v1')).not.toHaveProperty('typed_extension_protocol_options');
  });

  it('talks mTLS to mTLS backends with the caller certificate, checking the upstream SPIFFE identity', () => {
    const grpc = effective(out, 'sidecar-grpc.yaml');
    const tls = cluster(grpc, 'api|v1').transport_socket;
    expect(tls.name).toBe('envoy.transport_sockets.tls');
    expect(tls.typed_config['@type']).toBe(
      'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
    );
    const ctx = tls.typed_config.common_tls_context;
    // the shared cluster presents the sidecar's workload secret: grpc's certificate in grpc's sidecar
    expect(ctx.tls_certificate_sds_secret_configs).toEqual([{ name: 'workload' }]);
    expect(grpc.static_resources.secrets).toEqual([
      {
        name: 'workload',
        tls_certificate: {
          certificate_chain: { filename: 'certs/grpc.crt' },
          private_key: { filename: 'certs/grpc.key' },
        },
      },
    ]);
    expect(ctx.validation_context).toEqual({
      trusted_ca: { filename: 'certs/ca.crt' },
      match_typed_subject_alt_names: [
        { san_type: 'URI', matcher: { exact: 'spiffe://example.org/ns/ns/sa/api' } },
      ],
    });
    expect(cluster(api, 'plain')).not.toHaveProperty('transport_socket');
    expect(cluster(api, 'lr')).toHaveProperty('transport_socket'); // permissive: callers still send mTLS
  });
});

describe('the sidecar inbound side', () => {
  const chains = (boot: Boot) => listener(boot, 'inbound').filter_chains;

  it('listens on 15006, matches the original destination port and forwards to the app on loopback', () => {
    const l = listener(api, 'inbound');
    expect(l.address.socket_address).toEqual({ address: '0.0.0.0', port_value: 15006 });
    expect(l.listener_filters.map((f: Boot) => f.name)).toEqual(['envoy.filters.listener.original_dst']);
    expect(chains(api).map((c: Boot) => c.filter_chain_match.destination_port)).toEqual([18080, 8081]);
    expect(hcm(l).route_config.virtual_hosts[0].routes[0].route).toEqual({
      cluster: 'inbound|18080',
      timeout: '0s',
    });
    expect(
      cluster(api, 'inbound|18080').load_assignment.endpoints[0].lb_endpoints[0].endpoint.address
        .socket_address,
    ).toEqual({
      address: '127.0.0.1',
      port_value: 18080,
    });
  });

  it('terminates mTLS requiring a client certificate of the trust domain', () => {
    const ts = chains(api)[0].transport_socket.typed_config;
    expect(ts['@type']).toBe(
      'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
    );
    expect(ts.require_client_certificate).toBe(true);
    expect(ts.common_tls_context.tls_certificates[0].certificate_chain.filename).toBe('certs/api.crt');
    expect(ts.common_tls_context.validation_context.match_typed_subject_alt_names).toEqual([
      { san_type: 'URI', matcher: { prefix: 'spiffe://example.org/' } },
    ]);
  });

  it('accepts TLS and plaintext when permissive, plaintext only when disabled', () => {
    const lr = effective(out, 'sidecar-lr.yaml');
    expect(listener(lr, 'inbound').listener_filters.map((f: Boot) => f.name)).toEqual([
      'envoy.filters.listener.original_dst',
      'envoy.filters.listener.tls_inspector',
    ]);
    expect(
      chains(lr).map((c: Boot) => [c.filter_chain_match.transport_protocol, 'transport_socket' in c]),
    ).toEqual([
      ['tls', true],
      ['raw_buffer', false],
    ]);
    expect(chains(effective(out, 'sidecar-plain.yaml')).every((c: Boot) => !('transport_socket' in c))).toBe(
      true,
    );
  });

  it('applies access rules with the HTTP RBAC filter: principals by identity, paths (trailing * a prefix) and methods', () => {
    const rbac = hcm(listener(api, 'inbound')).http_filters[0];
    expect(rbac.name).toBe('envoy.filters.http.rbac');
    const rules = rbac.typed_config.rules;
    expect(rules.action).toBe('ALLOW');
    expect(rules.policies['allow-0']).toEqual({
      permissions: [
        {
          and_rules: {
            rules: [
              {
                or_rules: {
                  rules: [
                    { url_path: { path: { prefix: '/api/' } } },
                    { url_path: { path: { exact: '/v0/status' } } },
                  ],
                },
              },
              {
                or_rules: {
                  rules: [
                    { header: { name: ':method', string_match: { exact: 'GET' } } },
                    { header: { name: ':method', string_match: { exact: 'POST' } } },
                  ],
                },
              },
            ],
          },
        },
      ],
      principals: [
        { authenticated: { principal_name: { exact: 'spiffe://example.org/ns/ns/sa/public' } } },
        { authenticated: { principal_name: { exact: 'spiffe://example.org/ns/ns/sa/grpc' } } },
      ],
    });
    expect(rules.policies['allow-1']).toEqual({
      permissions: [{ url_path: { path: { prefix: '/public/' } } }],
      principals: [{ authenticated: { principal_name: { prefix: 'spiffe://example.org/' } } }],
    });
    // callers' health checks must pass: the check path is open to GET, and that is reported
    expect(rules.policies['health-check'].principals).toEqual([{ any: true }]);
    expect(
      out.diagnostics.some((d) => d.code === 'MG3002' && d.pointer === '/spec/backends/0/healthCheck'),
    ).toBe(true);
  });

  it('denies everything with defaultAccess deny (ALLOW with no policy) and uses the network RBAC filter for TCP', () => {
    const grpcRbac = hcm(listener(effective(out, 'sidecar-grpc.yaml'), 'inbound')).http_filters[0];
    expect(grpcRbac.typed_config.rules).toEqual({ action: 'ALLOW', policies: {} });
    const db = chains(effective(out, 'sidecar-db.yaml'))[0].filters;
    expect(db.map((f: Boot) => f.name)).toEqual([
      'envoy.filters.network.rbac',
      'envoy.filters.network.tcp_proxy',
    ]);
    expect(db[0].typed_config.rules.policies['allow-0'].principals).toEqual([
      { authenticated: { principal_name: { exact: 'spiffe://example.org/ns/ns/sa/api' } } },
      { authenticated: { principal_name: { exact: 'spiffe://example.org/ns/ns/sa/dbin' } } },
    ]);
  });
});

describe('TCP', () => {
  it('splits connections with tcp_proxy weighted clusters and bounds them by the timeout', () => {
    const tp = listener(api, 'outbound|db').filter_chains[0].filters[0];
    expect(tp.name).toBe('envoy.filters.network.tcp_proxy');
    expect(tp.typed_config.weighted_clusters).toEqual({
      clusters: [
        { name: 'db|a', weight: 70 },
        { name: 'db|b', weight: 30 },
      ],
    });
    expect(tp.typed_config.max_downstream_connection_duration).toBe('600s');
  });
});

describe('the gateway', () => {
  it('terminates TLS with the frontend files and requires client certificates signed by clientCa', () => {
    const ts = listener(gateway, 'public').filter_chains[0].transport_socket.typed_config;
    expect(ts.common_tls_context.tls_certificates).toEqual([
      { certificate_chain: { filename: 'certs/shop.crt' }, private_key: { filename: 'certs/shop.key' } },
    ]);
    expect(ts.common_tls_context.validation_context).toEqual({
      trusted_ca: { filename: 'certs/clients.crt' },
    });
    expect(ts.require_client_certificate).toBe(true);
  });

  it('has a virtual host per host, each with every route covering it, in order', () => {
    const vhs = hcm(listener(gateway, 'public')).route_config.virtual_hosts;
    expect(vhs.map((v: Boot) => [v.domains, v.routes.map((r: Boot) => r.name)])).toEqual([
      [['shop.example.com'], ['shop', 'wild']],
      [['*.example.com'], ['wild']],
    ]);
    expect(vhs[0].routes[0].route).toEqual({
      cluster: 'public|api|v1',
      timeout: '2s',
      hash_policy: [{ header: { header_name: 'x-user' } }],
    });
  });

  it('presents the frontend identity to backends', () => {
    const ctx = cluster(gateway, 'public|api|v1').transport_socket.typed_config.common_tls_context;
    expect(ctx.tls_certificates[0].certificate_chain.filename).toBe('certs/frontends/public.crt');
  });

  it('passes TLS through by server name, in first-match order, with the tls_inspector', () => {
    const l = listener(gateway, 'pass');
    expect(l.listener_filters.map((f: Boot) => f.name)).toEqual(['envoy.filters.listener.tls_inspector']);
    expect(
      l.filter_chains.map((c: Boot) => [
        c.filter_chain_match?.server_names,
        c.filters[0].typed_config.cluster,
      ]),
    ).toEqual([
      [['a.example.net'], 'pass|db|a'],
      [['b.example.net', '*.example.net'], 'pass|db|b'],
    ]);
  });

  it('proxies TCP frontends with tcp_proxy and states the idle default without a timeout', () => {
    const tp = listener(gateway, 'dbin').filter_chains[0].filters[0].typed_config;
    expect(tp.cluster).toBe('dbin|db');
    expect(
      out.diagnostics.some(
        (d) => d.code === 'MG3005' && d.message.includes('"dbin"') && d.message.includes('idle_timeout'),
      ),
    ).toBe(true);
  });

  it('strips x-envoy-* headers from outside callers', () => {
    expect(hcm(listener(gateway, 'public')).use_remote_address).toBe(true);
  });
});
