/**
 * The field names Consul's config-entry decoder knows, per entry kind, copied by hand from the Go
 * structs of hashicorp/consul `api/`: config_entry_discoverychain.go @ d87055b3 (ServiceRouter,
 * ServiceSplitter, ServiceResolver, LoadBalancer, HashPolicy, HTTPHeaderModifiers),
 * config_entry_intentions.go @ 14be1c68 (ServiceIntentions, SourceIntention, IntentionPermission),
 * config_entry.go (ServiceConfigEntry with MutualTLSMode, UpstreamConfiguration, UpstreamConfig,
 * UpstreamLimits, PassiveHealthCheck with EnforcingConsecutive5xx/MaxEjectionPercent/BaseEjectionTime)
 * config_entry_gateways.go @ d27588d4 (IngressGateway, IngressListener, IngressService) and
 * config_entry_mesh.go (MeshConfigEntry, AllowEnablingPermissiveMutualTLS).
 * `time.Duration` fields take Go duration strings.
 */
type Spec =
  | 'string'
  | 'number'
  | 'bool'
  | 'duration'
  | 'any'
  | { readonly obj: Readonly<Record<string, Spec>> }
  | { readonly list: Spec }
  | { readonly map: Spec };

const str = 'string' as const;
const num = 'number' as const;
const bool = 'bool' as const;
const dur = 'duration' as const;
const list = (s: Spec): Spec => ({ list: s });
const map = (s: Spec): Spec => ({ map: s });
const obj = (o: Record<string, Spec>): Spec => ({ obj: o });

const common = {
  Kind: str,
  Name: str,
  Partition: str,
  Namespace: str,
  Meta: map(str),
  CreateIndex: num,
  ModifyIndex: num,
};

const HTTPHeaderModifiers = obj({ Add: map(str), Set: map(str), Remove: list(str) });

const ServiceRouteDestination = obj({
  Service: str,
  ServiceSubset: str,
  Namespace: str,
  Partition: str,
  PrefixRewrite: str,
  RequestTimeout: dur,
  IdleTimeout: dur,
  NumRetries: num,
  RetryOnConnectFailure: bool,
  RetryOnStatusCodes: list(num),
  RetryOn: list(str),
  RequestHeaders: HTTPHeaderModifiers,
  ResponseHeaders: HTTPHeaderModifiers,
});

const ServiceRouteHTTPMatch = obj({
  PathExact: str,
  PathPrefix: str,
  PathRegex: str,
  Header: list(
    obj({ Name: str, Present: bool, Exact: str, Prefix: str, Suffix: str, Regex: str, Invert: bool }),
  ),
  QueryParam: list(obj({ Name: str, Present: bool, Exact: str, Regex: str })),
  Methods: list(str),
});

const PassiveHealthCheck = obj({
  Interval: dur,
  MaxFailures: num,
  EnforcingConsecutive5xx: num,
  MaxEjectionPercent: num,
  BaseEjectionTime: dur,
});

const UpstreamConfig = obj({
  Name: str,
  Partition: str,
  Namespace: str,
  Peer: str,
  EnvoyListenerJSON: str,
  EnvoyClusterJSON: str,
  Protocol: str,
  ConnectTimeoutMs: num,
  Limits: obj({ MaxConnections: num, MaxPendingRequests: num, MaxConcurrentRequests: num }),
  PassiveHealthCheck,
  MeshGateway: obj({ Mode: str }),
  BalanceOutboundConnections: str,
});

const GatewayTLSSDSConfig = obj({ ClusterName: str, CertResource: str });
const GatewayTLSConfig = obj({
  Enabled: bool,
  SDS: GatewayTLSSDSConfig,
  TLSMinVersion: str,
  TLSMaxVersion: str,
  CipherSuites: list(str),
});

const IntentionHTTPPermission = obj({
  PathExact: str,
  PathPrefix: str,
  PathRegex: str,
  Header: list(
    obj({ Name: str, Present: bool, Exact: str, Prefix: str, Suffix: str, Regex: str, Invert: bool }),
  ),
  Methods: list(str),
});

const API_FIELDS: Readonly<Record<string, Spec>> = {
  // api/config_entry_mesh.go: a singleton with no Name field (GetName returns "mesh")
  mesh: obj({
    Kind: str,
    Partition: str,
    Namespace: str,
    TransparentProxy: obj({ MeshDestinationsOnly: bool }),
    AllowEnablingPermissiveMutualTLS: bool,
    ValidateClusters: bool,
    TLS: 'any',
    HTTP: 'any',
    Peering: obj({ PeerThroughMeshGateways: bool }),
    Meta: map(str),
    CreateIndex: num,
    ModifyIndex: num,
  }),
  'service-router': obj({
    ...common,
    Routes: list(obj({ Match: obj({ HTTP: ServiceRouteHTTPMatch }), Destination: ServiceRouteDestination })),
  }),
  'service-splitter': obj({
    ...common,
    Splits: list(
      obj({
        Weight: num,
        Service: str,
        ServiceSubset: str,
        Namespace: str,
        Partition: str,
        RequestHeaders: HTTPHeaderModifiers,
        ResponseHeaders: HTTPHeaderModifiers,
      }),
    ),
  }),
  'service-resolver': obj({
    ...common,
    DefaultSubset: str,
    Subsets: map(obj({ Filter: str, OnlyPassing: bool })),
    Redirect: obj({
      Service: str,
      ServiceSubset: str,
      Namespace: str,
      Partition: str,
      Datacenter: str,
      Peer: str,
      SamenessGroup: str,
    }),
    Failover: map('any'),
    ConnectTimeout: dur,
    RequestTimeout: dur,
    PrioritizeByLocality: obj({ Mode: str }),
    LoadBalancer: obj({
      Policy: str,
      RingHashConfig: obj({ MinimumRingSize: num, MaximumRingSize: num }),
      LeastRequestConfig: obj({ ChoiceCount: num }),
      HashPolicies: list(
        obj({
          Field: str,
          FieldValue: str,
          CookieConfig: obj({ Session: bool, TTL: dur, Path: str }),
          SourceIP: bool,
          Terminal: bool,
        }),
      ),
    }),
  }),
  'service-intentions': obj({
    ...common,
    Sources: list(
      obj({
        Name: str,
        Peer: str,
        Partition: str,
        Namespace: str,
        SamenessGroup: str,
        Action: str,
        Permissions: list(obj({ Action: str, HTTP: IntentionHTTPPermission, JWT: 'any' })),
        Precedence: num,
        Type: str,
        Description: str,
      }),
    ),
    JWT: 'any',
  }),
  'service-defaults': obj({
    ...common,
    Protocol: str,
    Mode: str,
    TransparentProxy: obj({ OutboundListenerPort: num, DialedDirectly: bool }),
    MutualTLSMode: str,
    MeshGateway: obj({ Mode: str }),
    Expose: 'any',
    ExternalSNI: str,
    UpstreamConfig: obj({ Overrides: list(UpstreamConfig), Defaults: UpstreamConfig }),
    Destination: obj({ Addresses: list(str), Port: num }),
    MaxInboundConnections: num,
    LocalConnectTimeoutMs: num,
    LocalRequestTimeoutMs: num,
    BalanceInboundConnections: str,
    RateLimits: 'any',
    EnvoyExtensions: 'any',
  }),
  'ingress-gateway': obj({
    ...common,
    TLS: GatewayTLSConfig,
    Listeners: list(
      obj({
        Port: num,
        Protocol: str,
        TLS: GatewayTLSConfig,
        Services: list(
          obj({
            Name: str,
            Hosts: list(str),
            Namespace: str,
            Partition: str,
            TLS: obj({ SDS: GatewayTLSSDSConfig }),
            RequestHeaders: HTTPHeaderModifiers,
            ResponseHeaders: HTTPHeaderModifiers,
            MaxConnections: num,
            MaxPendingRequests: num,
            MaxConcurrentRequests: num,
            PassiveHealthCheck,
          }),
        ),
      }),
    ),
    Defaults: obj({
      MaxConnections: num,
      MaxPendingRequests: num,
      MaxConcurrentRequests: num,
      PassiveHealthCheck,
    }),
  }),
};

const GO_DURATION = /^(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$/;

/** Checks a decoded JSON config entry against the struct tables: unknown keys and wrong types are errors. */
export function checkEntry(entry: Record<string, unknown>): string[] {
  const spec = API_FIELDS[String(entry.Kind)];
  if (!spec) return [`unknown Kind ${String(entry.Kind)}`];
  const errors: string[] = [];
  check(entry, spec, '', errors);
  return errors;
}

function check(v: unknown, spec: Spec, path: string, errors: string[]): void {
  if (spec === 'any') return;
  if (spec === 'string') {
    if (typeof v !== 'string') errors.push(`${path}: expected a string`);
  } else if (spec === 'number') {
    if (typeof v !== 'number') errors.push(`${path}: expected a number`);
  } else if (spec === 'bool') {
    if (typeof v !== 'boolean') errors.push(`${path}: expected a boolean`);
  } else if (spec === 'duration') {
    if (typeof v !== 'string' || !GO_DURATION.test(v))
      errors.push(`${path}: expected a Go duration, got ${JSON.stringify(v)}`);
  } else if ('list' in spec) {
    if (!Array.isArray(v)) errors.push(`${path}: expected a list`);
    else v.forEach((x, i) => check(x, spec.list, `${path}/${i}`, errors));
  } else if ('map' in spec) {
    if (!v || typeof v !== 'object' || Array.isArray(v)) errors.push(`${path}: expected a map`);
    else for (const [k, x] of Object.entries(v)) check(x, spec.map, `${path}/${k}`, errors);
  } else {
    if (!v || typeof v !== 'object' || Array.isArray(v)) {
      errors.push(`${path}: expected an object`);
      return;
    }
    for (const [k, x] of Object.entries(v)) {
      const field = spec.obj[k];
      if (!field) errors.push(`${path}/${k}: unknown field`);
      else check(x, field, `${path}/${k}`, errors);
    }
  }
}
