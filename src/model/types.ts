/**
 * The resolved model: what every emitter, the diff and the simulator read. Defaults are filled,
 * durations are milliseconds, names are resolved, implicit routes added, identities computed. Every
 * entity keeps the JSON pointer of its source so diagnostics can point at the file.
 */
export type { Mesh as MeshDocument } from './mesh.generated.js';

export type MtlsMode = 'strict' | 'permissive' | 'disabled';
export type BackendProtocol = 'http' | 'http2' | 'grpc' | 'tcp';
export type FrontendProtocol = 'http' | 'https' | 'tcp' | 'tls-passthrough';
export type LoadBalancer = 'round-robin' | 'least-request' | 'random' | 'ring-hash';
export type HttpMethod =
  'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE' | 'CONNECT' | 'OPTIONS' | 'TRACE' | 'PATCH';
export type RetryCondition = '5xx' | 'gateway-error' | 'connect-failure' | 'reset' | 'retriable-4xx';

export interface ResolvedMesh {
  readonly name: string;
  /** Labels for every emitted object: the mesh's own plus managed-by and the mesh name. */
  readonly labels: Readonly<Record<string, string>>;
  readonly namespace: string;
  readonly trustDomain: string;
  readonly mtlsMode: MtlsMode;
  readonly defaultAccess: 'allow' | 'deny';
  /** In file order. */
  readonly backends: readonly ResolvedBackend[];
  readonly frontends: readonly ResolvedFrontend[];
  /** Every route, in file order, then the implicit ones. */
  readonly routes: readonly ResolvedRoute[];
  readonly backendsByName: ReadonlyMap<string, ResolvedBackend>;
  readonly frontendsByName: ReadonlyMap<string, ResolvedFrontend>;
}

export interface Endpoint {
  /** As written: `10.0.0.1:8080`, `[::1]:8080`, `db.internal:5432`. */
  readonly address: string;
  /** Without brackets for IPv6. */
  readonly host: string;
  readonly port: number;
  readonly family: 'ipv4' | 'ipv6' | 'dns';
}

export interface ResolvedVersion {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly endpoints: readonly Endpoint[];
  readonly pointer: string;
}

export type HashOn = { readonly header: string } | { readonly cookie: string } | { readonly sourceIp: true };

export interface HealthCheck {
  readonly path: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly healthyThreshold: number;
  readonly unhealthyThreshold: number;
}

export interface CircuitBreaker {
  readonly maxConnections?: number;
  readonly maxPendingRequests?: number;
  readonly maxRequests?: number;
  readonly maxRetries?: number;
}

export interface OutlierDetection {
  readonly consecutiveErrors: number;
  readonly intervalMs: number;
  readonly baseEjectionTimeMs: number;
  readonly maxEjectionPercent: number;
}

/** A caller named by an access rule. */
export type Caller =
  | { readonly kind: 'any' }
  | {
      readonly kind: 'backend' | 'frontend';
      readonly name: string;
      readonly namespace: string;
      readonly serviceAccount: string;
      readonly identity: string;
    };

export interface ResolvedAllow {
  readonly from: readonly Caller[];
  /** Path patterns as written: `/pay` exact, `/refund/*` a prefix. Undefined: every path. */
  readonly paths?: readonly PathPattern[];
  /** Undefined: every method. */
  readonly methods?: readonly HttpMethod[];
  readonly pointer: string;
}

export interface PathPattern {
  readonly kind: 'exact' | 'prefix';
  /** For prefix, without the trailing `*`. */
  readonly value: string;
  /** As written. */
  readonly pattern: string;
}

/**
 * Who may call a backend: `allow-all` and `deny-all` come from `defaultAccess` when no rule names the
 * backend; `rules` when one does (requests no rule accepts are denied).
 */
export type AccessPolicy =
  | { readonly mode: 'allow-all' | 'deny-all' }
  | { readonly mode: 'rules'; readonly rules: readonly ResolvedAllow[]; readonly pointer: string };

export interface ResolvedBackend {
  readonly name: string;
  readonly namespace: string;
  readonly serviceAccount: string;
  /** `spiffe://<trustDomain>/ns/<namespace>/sa/<serviceAccount>`. */
  readonly identity: string;
  /** `<name>.<namespace>.svc.cluster.local`. */
  readonly fqdn: string;
  readonly port: number;
  readonly protocol: BackendProtocol;
  readonly versions: readonly ResolvedVersion[];
  readonly loadBalancer: LoadBalancer;
  readonly hashOn?: HashOn;
  readonly healthCheck?: HealthCheck;
  readonly circuitBreaker?: CircuitBreaker;
  readonly outlierDetection?: OutlierDetection;
  /** Effective mode: the backend's own, else the mesh's. */
  readonly mtlsMode: MtlsMode;
  readonly access: AccessPolicy;
  /** East-west routes of this backend in first-match order; the implicit route when it has none. */
  readonly routes: readonly ResolvedRoute[];
  /**
   * Where proxy targets listen for callers of this backend: 127.0.0.1:<port>, or an address of its
   * own in 127.0.0.0/8 when several backends share the port.
   */
  readonly localAddress: string;
  /** True when localAddress is not 127.0.0.1 and callers need the hosts file to find it. */
  readonly sharesPort: boolean;
  readonly pointer: string;
}

export interface FrontendTls {
  readonly certificate?: string;
  readonly key?: string;
  readonly secretName?: string;
  readonly clientCa?: string;
}

export interface ResolvedFrontend {
  readonly name: string;
  readonly address: string;
  readonly port: number;
  readonly protocol: FrontendProtocol;
  readonly hosts: readonly string[];
  readonly tls?: FrontendTls;
  /** The identity proxies of this frontend present to backends (for access rules naming it). */
  readonly serviceAccount: string;
  readonly identity: string;
  /** Routes attached to this frontend in first-match order (none: every request gets 404). */
  readonly routes: readonly ResolvedRoute[];
  readonly pointer: string;
}

export type StringMatch =
  { readonly kind: 'exact' | 'prefix' | 'regex'; readonly value: string } | { readonly kind: 'present' };

export interface PathMatch {
  readonly kind: 'exact' | 'prefix' | 'regex';
  readonly value: string;
}

export interface ResolvedMatch {
  readonly path?: PathMatch;
  /** Header names lower-cased. */
  readonly headers: readonly { readonly name: string; readonly match: StringMatch }[];
  readonly queryParams: readonly { readonly name: string; readonly match: StringMatch }[];
  readonly method?: HttpMethod;
  readonly pointer: string;
}

export interface ResolvedDestination {
  readonly backend: string;
  /** Undefined: all versions of the backend as one pool. */
  readonly version?: string;
  /** The versions this destination covers (one, or all of the backend's). */
  readonly versions: readonly string[];
  /** Percent; the weights of a route sum to 100. */
  readonly weight: number;
  readonly pointer: string;
}

export interface Retries {
  /** Retries after the first try. */
  readonly attempts: number;
  readonly perTryTimeoutMs?: number;
  /** Conditions and status codes (`"503"`). */
  readonly on: readonly (RetryCondition | `${number}`)[];
}

export interface Fault {
  readonly delay?: { readonly ms: number; readonly percent: number };
  readonly abort?: { readonly status: number; readonly percent: number };
}

export interface Mirror {
  readonly backend: string;
  readonly version?: string;
  readonly versions: readonly string[];
  readonly percent: number;
}

export interface HeaderOps {
  readonly set: readonly (readonly [string, string])[];
  readonly add: readonly (readonly [string, string])[];
  readonly remove: readonly string[];
}

export type RouteParent =
  | { readonly kind: 'backend'; readonly name: string }
  | { readonly kind: 'frontend'; readonly name: string; readonly hosts: readonly string[] };

export interface ResolvedRoute {
  readonly name: string;
  /** Added by normalize for a backend with no route of its own. */
  readonly implicit: boolean;
  readonly parent: RouteParent;
  /** tcp when the parent is a tcp backend or a tcp/tls-passthrough frontend. */
  readonly protocol: 'http' | 'tcp';
  /** Any may match; empty: the route accepts every request. */
  readonly matches: readonly ResolvedMatch[];
  readonly to: readonly ResolvedDestination[];
  readonly timeoutMs?: number;
  readonly retries?: Retries;
  readonly fault?: Fault;
  readonly mirror?: Mirror;
  readonly rewrite?: { readonly pathPrefix?: string; readonly host?: string };
  readonly requestHeaders: HeaderOps;
  readonly responseHeaders: HeaderOps;
  readonly pointer: string;
}
