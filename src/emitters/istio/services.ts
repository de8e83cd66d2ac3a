import type { BackendProtocol, ResolvedBackend } from '../../model/types.js';
import { istioDuration, podSelector, type Notes } from './common.js';

type Obj = Record<string, unknown>;

/** Istio reads a port's protocol from its name prefix and from appProtocol. */
const PORT_PROTOCOL: Record<BackendProtocol, string> = {
  http: 'http',
  http2: 'http2',
  grpc: 'grpc',
  tcp: 'tcp',
};

/** The Kubernetes Service of a backend: its port named `<protocol>-<port>` (at most 15 characters). */
export function serviceSpec(b: ResolvedBackend): Obj {
  const protocol = PORT_PROTOCOL[b.protocol];
  return {
    spec: {
      selector: podSelector(b),
      ports: [
        {
          name: `${protocol}-${b.port}`,
          port: b.port,
          targetPort: b.port,
          protocol: 'TCP',
          appProtocol: protocol,
        },
      ],
    },
  };
}

const SIMPLE: Record<string, string> = {
  'round-robin': 'ROUND_ROBIN',
  'least-request': 'LEAST_REQUEST',
  random: 'RANDOM',
};

function loadBalancer(b: ResolvedBackend): Obj {
  // always explicit: Istio's own default is LEAST_REQUEST, ours is round-robin
  if (b.loadBalancer !== 'ring-hash') return { simple: SIMPLE[b.loadBalancer] };
  const h = b.hashOn;
  const key: Obj = !h
    ? {}
    : 'header' in h
      ? { httpHeaderName: h.header }
      : 'cookie' in h
        ? { httpCookie: { name: h.cookie } }
        : { useSourceIp: true };
  return { consistentHash: { ...key, ringHash: {} } };
}

function connectionPool(b: ResolvedBackend, notes: Notes): Obj | undefined {
  const cb = b.circuitBreaker;
  if (!cb) return undefined;
  const tcp = cb.maxConnections !== undefined ? { maxConnections: cb.maxConnections } : undefined;
  const httpLimits = {
    http1MaxPendingRequests: cb.maxPendingRequests,
    http2MaxRequests: cb.maxRequests,
    maxRetries: cb.maxRetries,
  };
  const hasHttp = Object.values(httpLimits).some((v) => v !== undefined);
  if (b.protocol === 'tcp' && hasHttp) {
    notes.approx(
      `backend "${b.name}"`,
      'circuit-breaker',
      'maxPendingRequests, maxRequests and maxRetries count HTTP requests and do not apply to a TCP backend; only maxConnections is kept',
      `${b.pointer}/circuitBreaker`,
    );
    return tcp && { tcp };
  }
  return { tcp, http: hasHttp ? httpLimits : undefined };
}

/** The DestinationRule of a backend: subsets by version labels and its traffic policy. */
export function destinationRuleSpec(b: ResolvedBackend, notes: Notes): Obj {
  const od = b.outlierDetection;
  return {
    host: b.fqdn,
    trafficPolicy: {
      loadBalancer: loadBalancer(b),
      connectionPool: connectionPool(b, notes),
      outlierDetection: od && {
        consecutive5xxErrors: od.consecutiveErrors,
        interval: istioDuration(od.intervalMs),
        baseEjectionTime: istioDuration(od.baseEjectionTimeMs),
        maxEjectionPercent: od.maxEjectionPercent,
      },
      // callers must not send mTLS to a backend whose sidecar does not accept it
      tls: { mode: b.mtlsMode === 'disabled' ? 'DISABLE' : 'ISTIO_MUTUAL' },
    },
    subsets: b.versions.map((v) => ({ name: v.name, labels: { ...v.labels } })),
  };
}
