import { describe, expect, it } from 'vitest';
import { exampleMesh, meshFrom } from '../../support/meshes.js';
import { FULL_MESH } from './fixtures.js';
import { emitObjects } from './helpers.js';

let cached: ReturnType<typeof emitObjects> | undefined;
const full = () => (cached ??= emitObjects(meshFrom(FULL_MESH)));

describe('istio DestinationRule per backend', () => {
  it('makes one subset per version from its labels', () => {
    const dr = full().find('DestinationRule', 'reviews');
    expect(dr.spec.host).toBe('reviews.shop.svc.cluster.local');
    expect(dr.spec.subsets).toEqual([
      { name: 'v1', labels: { version: 'v1' } },
      { name: 'v2', labels: { version: 'v2', track: 'canary' } },
      { name: 'v3', labels: { version: 'v3' } },
    ]);
    // a version without labels selects version: <name>
    expect(full().find('DestinationRule', 'ratings').spec.subsets).toEqual([
      { name: 'v1', labels: { version: 'v1' } },
    ]);
  });

  it('states the load balancer, round-robin included (Istio defaults to LEAST_REQUEST)', () => {
    const lb = (name: string, mesh = full()) =>
      mesh.find('DestinationRule', name).spec.trafficPolicy.loadBalancer;
    expect(lb('checkout', emitObjects(exampleMesh('shop')))).toEqual({ simple: 'ROUND_ROBIN' });
    expect(lb('web', emitObjects(exampleMesh('shop')))).toEqual({ simple: 'LEAST_REQUEST' });
    expect(lb('ratings')).toEqual({ simple: 'RANDOM' });
  });

  it('renders ring-hash as consistentHash on the cookie, header or source IP', () => {
    const lb = (name: string) => full().find('DestinationRule', name).spec.trafficPolicy.loadBalancer;
    expect(lb('reviews')).toEqual({ consistentHash: { httpCookie: { name: 'session' }, ringHash: {} } });
    expect(lb('legacy')).toEqual({ consistentHash: { httpHeaderName: 'x-user', ringHash: {} } });
    expect(lb('sticky')).toEqual({ consistentHash: { useSourceIp: true, ringHash: {} } });
  });

  it('renders the circuit breaker as connectionPool', () => {
    expect(full().find('DestinationRule', 'reviews').spec.trafficPolicy.connectionPool).toEqual({
      tcp: { maxConnections: 100 },
      http: { http1MaxPendingRequests: 10, http2MaxRequests: 200, maxRetries: 4 },
    });
  });

  it('keeps only maxConnections for a TCP backend, and says so', () => {
    const { find, diagnostics } = full();
    expect(find('DestinationRule', 'db').spec.trafficPolicy.connectionPool).toEqual({
      tcp: { maxConnections: 50 },
    });
    const d = diagnostics.find((x) => x.code === 'MG3002' && x.pointer === '/spec/backends/4/circuitBreaker');
    expect(d?.message).toMatch(/backend "db": circuit-breaker .*istio/);
  });

  it('renders outlier detection with Istio durations', () => {
    expect(full().find('DestinationRule', 'reviews').spec.trafficPolicy.outlierDetection).toEqual({
      consecutive5xxErrors: 7,
      interval: '1.5s',
      baseEjectionTime: '60s',
      maxEjectionPercent: 30,
    });
  });

  it('asks callers for ISTIO_MUTUAL unless the backend disables mTLS', () => {
    const tls = (name: string) => full().find('DestinationRule', name).spec.trafficPolicy.tls;
    expect(tls('reviews')).toEqual({ mode: 'ISTIO_MUTUAL' });
    expect(tls('ratings')).toEqual({ mode: 'ISTIO_MUTUAL' });
    expect(tls('legacy')).toEqual({ mode: 'DISABLE' });
  });
});

describe('istio Service per backend', () => {
  it('names the port with the protocol prefix and sets appProtocol', () => {
    const port = (name: string, ns = 'shop') => full().find('Service', name, ns).spec.ports[0];
    expect(port('reviews')).toEqual({
      name: 'http-9080',
      port: 9080,
      targetPort: 9080,
      protocol: 'TCP',
      appProtocol: 'http',
    });
    expect(port('ratings', 'data')).toMatchObject({ name: 'grpc-9090', appProtocol: 'grpc' });
    expect(port('legacy')).toMatchObject({ name: 'http2-8000', appProtocol: 'http2' });
    expect(port('db')).toMatchObject({ name: 'tcp-5432', appProtocol: 'tcp' });
  });

  it('selects the pods labelled app: <backend>', () => {
    const svc = full().find('Service', 'ratings', 'data');
    expect(svc.metadata.namespace).toBe('data');
    expect(svc.spec.selector).toEqual({ app: 'ratings' });
  });

  it('emits each service account once', () => {
    const accounts = full()
      .objects.filter((o) => o.kind === 'ServiceAccount')
      .map((o) => `${o.metadata.namespace}/${o.metadata.name}`);
    expect(accounts).toContain('data/ratings-sa');
    expect(new Set(accounts).size).toBe(accounts.length);
  });
});
