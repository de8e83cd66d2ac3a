/* Generated from schemas/mesh.schema.json by `npm run gen:types`: do not edit by hand. */

/**
 * An endpoint: ipv4:port, [ipv6]:port or hostname:port.
 */
export type Endpoint = string;
/**
 * A host name served: a DNS name in lower case, '*.' then a DNS name (a wildcard), or '*' alone; at most 253 characters.
 */
export type Host = string;
/**
 * An HTTP header value: visible characters, spaces and tabs (non-ASCII allowed), without line breaks, NUL or other control characters, and not beginning or ending with a space or tab (HTTP strips them: no proxy can carry them), at most 4096 characters.
 */
export type HeaderValue = string;
/**
 * An HTTP header name: an RFC 9110 token (letters, digits and !#$%&'*+-.^_`|~), case-insensitive, at most 256 characters.
 */
export type HeaderName = string;

/**
 * A meshgen mesh: one mesh-neutral description of frontends, backends, routes and access rules, rendered by meshgen to Istio, Linkerd, Consul, HAProxy, NGINX, Envoy and iptables.
 */
export interface Mesh {
  /**
   * The format version. Always meshgen.io/v1alpha1.
   */
  apiVersion: 'meshgen.io/v1alpha1';
  /**
   * Always Mesh.
   */
  kind: 'Mesh';
  /**
   * The mesh's identity.
   */
  metadata: {
    /**
     * The mesh's name (DNS-1123 label). Every emitted object carries it as a label.
     */
    name: string;
    labels?: Labels;
  };
  /**
   * What the mesh contains.
   */
  spec: {
    /**
     * Default Kubernetes namespace of every backend. Default: default.
     */
    namespace?: string;
    /**
     * The trust domain of workload identities: spiffe://<trustDomain>/ns/<namespace>/sa/<serviceAccount>. Default: cluster.local.
     */
    trustDomain?: string;
    mtls?: Mtls;
    /**
     * What happens to traffic to a backend that no access rule names: allow (default) or deny.
     */
    defaultAccess?: 'allow' | 'deny';
    /**
     * The services that receive traffic.
     *
     * @minItems 1
     */
    backends: [Backend, ...Backend[]];
    /**
     * Where traffic enters the mesh (ingress).
     */
    frontends?: Frontend[];
    /**
     * How requests pick their destination. Routes of one parent are tried in the order written; the first whose match accepts the request wins.
     */
    routes?: Route[];
    /**
     * Who may call whom. Once a rule names a backend, requests to it that no allow entry accepts are denied.
     */
    access?: AccessRule[];
  };
}
/**
 * Extra labels put on every emitted Kubernetes object.
 */
export interface Labels {
  [k: string]: string;
}
/**
 * Mesh-wide mutual TLS. Default: permissive.
 */
export interface Mtls {
  /**
   * strict: only mTLS is accepted; permissive: mTLS and plain text are accepted; disabled: plain text.
   */
  mode: 'strict' | 'permissive' | 'disabled';
}
/**
 * A service that receives traffic, with one or more versions.
 */
export interface Backend {
  /**
   * The backend's name, unique in the mesh.
   */
  name: string;
  /**
   * Kubernetes namespace. Default: spec.namespace.
   */
  namespace?: string;
  /**
   * The workload identity's service account. Default: the backend's name.
   */
  serviceAccount?: string;
  /**
   * The port callers use: the Kubernetes Service port, and the local listener of proxy targets.
   */
  port: number;
  /**
   * The application protocol. Default: http.
   */
  protocol?: 'http' | 'http2' | 'grpc' | 'tcp';
  /**
   * The backend's versions (subsets of its workload). At least one.
   *
   * @minItems 1
   */
  versions: [Version, ...Version[]];
  /**
   * How requests are spread over endpoints. Default: round-robin.
   */
  loadBalancer?: 'round-robin' | 'least-request' | 'random' | 'ring-hash';
  /**
   * What ring-hash hashes on (only with loadBalancer: ring-hash): a header, a cookie, or the source IP.
   */
  hashOn?: {
    /**
     * Hash on this request header.
     */
    header?: string;
    /**
     * Hash on this cookie.
     */
    cookie?: string;
    /**
     * Hash on the caller's IP address.
     */
    sourceIp?: true;
  };
  /**
   * Active HTTP health checking of each endpoint.
   */
  healthCheck?: {
    /**
     * The path requested, with an optional query string; a 2xx answer is healthy. RFC 3986 characters and %XX escapes, at most 1024 characters.
     */
    path: string;
    /**
     * Time between checks. Default: 10s.
     */
    interval?: string;
    /**
     * Time a check may take. Default: 1s.
     */
    timeout?: string;
    /**
     * Successes in a row that make an endpoint healthy. Default: 2.
     */
    healthyThreshold?: number;
    /**
     * Failures in a row that make an endpoint unhealthy. Default: 3.
     */
    unhealthyThreshold?: number;
  };
  /**
   * Limits on what callers may have open at once towards this backend.
   */
  circuitBreaker?: {
    /**
     * Most connections.
     */
    maxConnections?: number;
    /**
     * Most requests waiting for a connection.
     */
    maxPendingRequests?: number;
    /**
     * Most requests in flight.
     */
    maxRequests?: number;
    /**
     * Most retries in flight.
     */
    maxRetries?: number;
  };
  /**
   * Passive health checking: endpoints that keep failing are ejected for a while.
   */
  outlierDetection?: {
    /**
     * 5xx answers in a row that eject an endpoint. Default: 5.
     */
    consecutiveErrors?: number;
    /**
     * How often ejection is evaluated. Default: 10s.
     */
    interval?: string;
    /**
     * How long an endpoint stays ejected (times the number of ejections). Default: 30s.
     */
    baseEjectionTime?: string;
    /**
     * Most endpoints that may be ejected at once, in percent. Default: 10.
     */
    maxEjectionPercent?: number;
  };
  mtls?: Mtls1;
}
/**
 * One version of a backend: a subset of its workload.
 */
export interface Version {
  /**
   * The version's name, unique within the backend.
   */
  name: string;
  labels?: Labels1;
  /**
   * Where proxy targets send this version's traffic: ipv4:port, [ipv6]:port or hostname:port.
   */
  endpoints?: Endpoint[];
}
/**
 * The pod labels that select this version on Kubernetes targets. Default: { version: <name> }.
 */
export interface Labels1 {
  [k: string]: string;
}
/**
 * Overrides spec.mtls for traffic to this backend.
 */
export interface Mtls1 {
  /**
   * strict: only mTLS is accepted; permissive: mTLS and plain text are accepted; disabled: plain text.
   */
  mode: 'strict' | 'permissive' | 'disabled';
}
/**
 * An entry point into the mesh (ingress).
 */
export interface Frontend {
  /**
   * The frontend's name, unique in the mesh.
   */
  name: string;
  /**
   * The address proxy targets listen on: IPv4 or IPv6. Default: 0.0.0.0.
   */
  address?: string;
  /**
   * The port the frontend listens on.
   */
  port: number;
  /**
   * http, https (TLS terminated here), tcp, or tls-passthrough (TLS forwarded by SNI).
   */
  protocol: 'http' | 'https' | 'tcp' | 'tls-passthrough';
  /**
   * The host names served. Default: ["*"]. A leading "*." is a wildcard.
   *
   * @minItems 1
   */
  hosts?: [Host, ...Host[]];
  /**
   * TLS termination: required for https.
   */
  tls?: {
    /**
     * Certificate file (PEM), for proxy targets.
     */
    certificate?: string;
    /**
     * Private key file (PEM), for proxy targets.
     */
    key?: string;
    /**
     * Kubernetes TLS secret, for mesh targets (a DNS subdomain name).
     */
    secretName?: string;
    /**
     * CA file (PEM): when set, clients must present a certificate signed by it.
     */
    clientCa?: string;
  };
}
/**
 * A route: which requests of its parent it accepts, and where they go.
 */
export interface Route {
  /**
   * The route's name, unique in the mesh.
   */
  name: string;
  /**
   * What the route attaches to: a frontend (north-south) or a backend (east-west).
   */
  parent: {
    /**
     * East-west: requests callers send to this backend.
     */
    backend?: string;
    /**
     * North-south: requests entering by this frontend.
     */
    frontend?: string;
    /**
     * With frontend: the hosts of the frontend this route serves. Default: all of them.
     *
     * @minItems 1
     */
    hosts?: [Host, ...Host[]];
  };
  /**
   * Which requests the route accepts: any entry may match (OR). Without match, every request.
   *
   * @minItems 1
   */
  match?: [Match, ...Match[]];
  /**
   * The split: destinations with integer weights summing to 100.
   *
   * @minItems 1
   */
  to: [Destination, ...Destination[]];
  /**
   * Bounds the whole request, all retries included; when it fires the caller gets 504.
   */
  timeout?: string;
  /**
   * Retries after a failed try. Without it, nothing is retried.
   */
  retries?: {
    /**
     * Retries after the first try (attempts: 3 means up to 4 tries).
     */
    attempts: number;
    /**
     * Bounds each try.
     */
    perTryTimeout?: string;
    /**
     * What is retried. Default: [gateway-error, connect-failure, reset].
     *
     * @minItems 1
     */
    on?: [
      ('5xx' | 'gateway-error' | 'connect-failure' | 'reset' | 'retriable-4xx') | string,
      ...(('5xx' | 'gateway-error' | 'connect-failure' | 'reset' | 'retriable-4xx') | string)[],
    ];
  };
  /**
   * Fault injection, for testing resilience.
   */
  fault?: {
    /**
     * Delay a share of requests.
     */
    delay?: {
      /**
       * How long.
       */
      duration: string;
      /**
       * Share of requests delayed.
       */
      percent: number;
    };
    /**
     * Answer a share of requests with an error status instead of forwarding them.
     */
    abort?: {
      /**
       * The HTTP status returned.
       */
      status: number;
      /**
       * Share of requests aborted.
       */
      percent: number;
    };
  };
  /**
   * Send a copy of a share of requests to another destination; its answers are discarded.
   */
  mirror?: {
    /**
     * The backend receiving copies.
     */
    backend: string;
    /**
     * Its version. Default: all versions.
     */
    version?: string;
    /**
     * Share of requests copied. Default: 100.
     */
    percent?: number;
  };
  /**
   * Rewrite the request before it leaves.
   */
  rewrite?: {
    /**
     * Replaces the matched path prefix (every match entry must use path.prefix).
     */
    pathPrefix?: string;
    /**
     * Replaces the Host header (:authority): a host name or [IPv6] address, with an optional :port; at most 261 characters.
     */
    host?: string;
  };
  /**
   * Header operations on the request (before it leaves) and on the backend's response.
   */
  headers?: {
    request?: HeaderOps;
    response?: HeaderOps;
  };
}
/**
 * One way a request may match: every condition given must hold.
 */
export interface Match {
  /**
   * How the path (without query string) matches: exactly one of exact, prefix or regex.
   */
  path?: {
    /**
     * The whole path equals this.
     */
    exact?: string;
    /**
     * The path starts with this plain string (/static also accepts /staticx).
     */
    prefix?: string;
    /**
     * RE2 expression the whole path must match.
     */
    regex?: string;
  };
  /**
   * Request headers, by name (case-insensitive), and how their values match.
   */
  headers?: {
    [k: string]: StringMatch;
  };
  /**
   * Query parameters, by name, and how their values match.
   */
  queryParams?: {
    [k: string]: StringMatch;
  };
  /**
   * The HTTP method (GET accepts GET only).
   */
  method?: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE' | 'CONNECT' | 'OPTIONS' | 'TRACE' | 'PATCH';
}
/**
 * How a header or query value matches: exactly one of exact, prefix, regex (RE2, whole value) or present.
 */
export interface StringMatch {
  /**
   * The whole value equals this (case-sensitive).
   */
  exact?: string;
  /**
   * The value starts with this.
   */
  prefix?: string;
  /**
   * RE2 expression the whole value must match.
   */
  regex?: string;
  /**
   * The header or parameter is present, whatever its value.
   */
  present?: true;
}
/**
 * Where a share of a route's traffic goes.
 */
export interface Destination {
  /**
   * The backend's name.
   */
  backend: string;
  /**
   * The version's name. Without it, all versions of the backend as one pool.
   */
  version?: string;
  /**
   * The share of traffic in percent: integer weights of a route sum to 100. A single destination may omit it.
   */
  weight?: number;
}
/**
 * Header operations.
 */
export interface HeaderOps {
  /**
   * Headers set, replacing any value.
   */
  set?: {
    [k: string]: HeaderValue;
  };
  /**
   * Headers added, keeping the values present.
   */
  add?: {
    [k: string]: HeaderValue;
  };
  /**
   * Headers removed.
   */
  remove?: HeaderName[];
}
/**
 * Who may call one backend.
 */
export interface AccessRule {
  /**
   * The backend called.
   */
  backend: string;
  /**
   * What is allowed; requests no entry accepts are denied (HTTP 403, or the TCP connection closed).
   */
  allow: {
    /**
     * Callers: backend or frontend names, or "*" for any mesh identity.
     *
     * @minItems 1
     */
    from: [string, ...string[]];
    /**
     * Paths allowed; a trailing * is a prefix. Default: all.
     *
     * @minItems 1
     */
    paths?: [string, ...string[]];
    /**
     * Methods allowed. Default: all.
     *
     * @minItems 1
     */
    methods?: [
      'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE' | 'CONNECT' | 'OPTIONS' | 'TRACE' | 'PATCH',
      ...('GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE' | 'CONNECT' | 'OPTIONS' | 'TRACE' | 'PATCH')[],
    ];
  }[];
}
