import type protobuf from 'protobufjs';
import { lookupType, nameOf } from '../../envoy/check.js';
import { protobufjs } from '../../envoy/protos.js';

/**
 * What meshgen proxy implements, as an allow-list of proto field names per Envoy message type.
 * A field set in a bootstrap but absent here is an error naming its path, as Envoy names unknown
 * fields: the proxy never ignores configuration silently. The HTTP filters' messages come from
 * their own modules (filters/registry.ts), passed to supportedWalk.
 */
const ALLOW: Record<string, string[]> = {
  'envoy.config.bootstrap.v3.Bootstrap': ['node', 'static_resources', 'dynamic_resources', 'admin'],
  'envoy.config.bootstrap.v3.Bootstrap.StaticResources': ['listeners', 'clusters', 'secrets'],
  // LDS and CDS from files (config/discovery.ts)
  'envoy.config.bootstrap.v3.Bootstrap.DynamicResources': ['lds_config', 'cds_config'],
  'envoy.config.core.v3.ConfigSource': ['path_config_source', 'path', 'resource_api_version'],
  'envoy.config.core.v3.PathConfigSource': ['path'],
  'envoy.service.discovery.v3.DiscoveryResponse': ['version_info', 'resources', 'type_url'],
  // static secrets, named by tls_certificate_sds_secret_configs
  'envoy.extensions.transport_sockets.tls.v3.Secret': ['name', 'tls_certificate'],
  'envoy.extensions.transport_sockets.tls.v3.SdsSecretConfig': ['name'],
  'envoy.config.bootstrap.v3.Admin': ['address', 'access_log_path', 'access_log'],
  'envoy.config.core.v3.Node': ['id', 'cluster', 'metadata', 'locality', 'user_agent_name'],
  'envoy.config.core.v3.Locality': ['region', 'zone', 'sub_zone'],
  'envoy.config.core.v3.Address': ['socket_address'],
  'envoy.config.core.v3.SocketAddress': ['address', 'port_value', 'protocol'],
  'envoy.config.listener.v3.Listener': [
    'name',
    'address',
    'filter_chains',
    'traffic_direction',
    'listener_filters',
    'per_connection_buffer_limit_bytes',
  ],
  'envoy.config.listener.v3.ListenerFilter': ['name', 'typed_config'],
  'envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector': [],
  'envoy.extensions.filters.listener.original_dst.v3.OriginalDst': [],
  'envoy.config.listener.v3.FilterChain': ['filters', 'name', 'transport_socket', 'filter_chain_match'],
  'envoy.config.listener.v3.FilterChainMatch': [
    'server_names',
    'transport_protocol',
    'application_protocols',
    'destination_port',
  ],
  'envoy.config.core.v3.TransportSocket': ['name', 'typed_config'],
  'envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext': [
    'common_tls_context',
    'require_client_certificate',
  ],
  'envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext': ['common_tls_context', 'sni'],
  'envoy.extensions.transport_sockets.tls.v3.CommonTlsContext': [
    'tls_certificates',
    'tls_certificate_sds_secret_configs',
    'validation_context',
    'alpn_protocols',
  ],
  'envoy.extensions.transport_sockets.tls.v3.TlsCertificate': ['certificate_chain', 'private_key'],
  'envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext': [
    'trusted_ca',
    'match_typed_subject_alt_names',
  ],
  'envoy.extensions.transport_sockets.tls.v3.SubjectAltNameMatcher': ['san_type', 'matcher'],
  'envoy.config.listener.v3.Filter': ['name', 'typed_config'],
  'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager': [
    'stat_prefix',
    'route_config',
    'http_filters',
    'codec_type',
    'access_log',
    'use_remote_address',
    'generate_request_id',
    'preserve_external_request_id',
    'strip_any_host_port',
    'http2_protocol_options',
    'upgrade_configs',
    'common_http_protocol_options',
    'max_request_headers_kb',
    'request_headers_timeout',
    'drain_timeout',
    // http/path.ts
    'normalize_path',
    'merge_slashes',
    'path_with_escaped_slashes_action',
  ],
  'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.UpgradeConfig': [
    'upgrade_type',
    'enabled',
  ],
  'envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter': ['name', 'typed_config'],
  'envoy.type.v3.FractionalPercent': ['numerator', 'denominator'],
  'envoy.extensions.filters.network.rbac.v3.RBAC': ['rules', 'stat_prefix'],
  'envoy.config.rbac.v3.RBAC': ['action', 'policies'],
  'envoy.config.rbac.v3.Policy': ['permissions', 'principals'],
  'envoy.config.rbac.v3.Permission': ['any', 'header', 'url_path', 'and_rules', 'or_rules', 'not_rule'],
  'envoy.config.rbac.v3.Permission.Set': ['rules'],
  'envoy.config.rbac.v3.Principal': ['any', 'authenticated', 'header', 'and_ids', 'or_ids', 'not_id'],
  'envoy.config.rbac.v3.Principal.Set': ['ids'],
  'envoy.config.rbac.v3.Principal.Authenticated': ['principal_name'],
  'envoy.type.matcher.v3.PathMatcher': ['path'],
  'envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy': [
    'stat_prefix',
    'cluster',
    'weighted_clusters',
    'idle_timeout',
    'access_log',
    'max_downstream_connection_duration',
  ],
  'envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.WeightedCluster': ['clusters'],
  'envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.WeightedCluster.ClusterWeight': ['name', 'weight'],
  'envoy.config.route.v3.RouteConfiguration': [
    'name',
    'virtual_hosts',
    'request_headers_to_add',
    'request_headers_to_remove',
    'response_headers_to_add',
    'response_headers_to_remove',
  ],
  'envoy.config.route.v3.VirtualHost': [
    'name',
    'domains',
    'routes',
    'request_headers_to_add',
    'request_headers_to_remove',
    'response_headers_to_add',
    'response_headers_to_remove',
    'retry_policy',
    'typed_per_filter_config',
    'cors',
  ],
  'envoy.config.route.v3.Route': [
    'name',
    'match',
    'route',
    'redirect',
    'direct_response',
    'request_headers_to_add',
    'request_headers_to_remove',
    'response_headers_to_add',
    'response_headers_to_remove',
    'typed_per_filter_config',
  ],
  'envoy.config.route.v3.RouteMatch': [
    'prefix',
    'path',
    'safe_regex',
    'headers',
    'query_parameters',
    'case_sensitive',
  ],
  'envoy.type.matcher.v3.RegexMatcher': ['google_re2', 'regex'],
  'envoy.type.matcher.v3.RegexMatcher.GoogleRE2': [],
  'envoy.config.route.v3.HeaderMatcher': [
    'name',
    'exact_match',
    'safe_regex_match',
    'present_match',
    'prefix_match',
    'suffix_match',
    'contains_match',
    'string_match',
    'invert_match',
  ],
  'envoy.type.matcher.v3.StringMatcher': [
    'exact',
    'prefix',
    'suffix',
    'safe_regex',
    'contains',
    'ignore_case',
  ],
  'envoy.config.route.v3.QueryParameterMatcher': ['name', 'string_match', 'present_match'],
  'envoy.config.route.v3.RouteAction': [
    'cluster',
    'weighted_clusters',
    'prefix_rewrite',
    'regex_rewrite',
    'host_rewrite_literal',
    'timeout',
    'retry_policy',
    'request_mirror_policies',
    'hash_policy',
    'upgrade_configs',
    'cors',
  ],
  'envoy.config.route.v3.RouteAction.UpgradeConfig': ['upgrade_type', 'enabled'],
  'envoy.config.route.v3.WeightedCluster': ['clusters', 'total_weight'],
  'envoy.config.route.v3.WeightedCluster.ClusterWeight': ['name', 'weight'],
  'envoy.type.matcher.v3.RegexMatchAndSubstitute': ['pattern', 'substitution'],
  'envoy.config.route.v3.RetryPolicy': [
    'retry_on',
    'num_retries',
    'per_try_timeout',
    'retriable_status_codes',
    'retry_back_off',
    'retry_host_predicate',
    'host_selection_retry_max_attempts',
  ],
  'envoy.config.route.v3.RetryPolicy.RetryBackOff': ['base_interval', 'max_interval'],
  'envoy.config.route.v3.RetryPolicy.RetryHostPredicate': ['name', 'typed_config'],
  'envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate': [],
  'envoy.config.route.v3.RouteAction.RequestMirrorPolicy': ['cluster', 'runtime_fraction'],
  'envoy.config.core.v3.RuntimeFractionalPercent': ['default_value'],
  'envoy.config.route.v3.RouteAction.HashPolicy': ['header', 'cookie', 'connection_properties', 'terminal'],
  'envoy.config.route.v3.RouteAction.HashPolicy.Header': ['header_name'],
  'envoy.config.route.v3.RouteAction.HashPolicy.Cookie': ['name'],
  'envoy.config.route.v3.RouteAction.HashPolicy.ConnectionProperties': ['source_ip'],
  'envoy.config.route.v3.RedirectAction': [
    'host_redirect',
    'port_redirect',
    'path_redirect',
    'prefix_rewrite',
    'response_code',
    'https_redirect',
    'scheme_redirect',
    'strip_query',
  ],
  'envoy.config.route.v3.DirectResponseAction': ['status', 'body'],
  'envoy.config.core.v3.DataSource': ['inline_string', 'inline_bytes', 'filename'],
  'envoy.config.core.v3.HeaderValueOption': ['header', 'append', 'append_action', 'keep_empty_value'],
  'envoy.config.core.v3.HeaderValue': ['key', 'value'],
  'envoy.config.cluster.v3.Cluster': [
    'per_connection_buffer_limit_bytes',
    'name',
    'type',
    'connect_timeout',
    'lb_policy',
    'load_assignment',
    'circuit_breakers',
    'outlier_detection',
    'health_checks',
    'dns_lookup_family',
    'transport_socket',
    'typed_extension_protocol_options',
    'http2_protocol_options',
  ],
  // HTTP/2 (codec/h2.ts, upstream/h2-pool.ts): the settings node:http2 can honour
  'envoy.config.core.v3.Http2ProtocolOptions': [
    'hpack_table_size',
    'max_concurrent_streams',
    'initial_stream_window_size',
    'initial_connection_window_size',
  ],
  'envoy.config.core.v3.Http1ProtocolOptions': [],
  'envoy.config.core.v3.HttpProtocolOptions': ['idle_timeout', 'max_headers_count'],
  'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': [
    'explicit_http_config',
    'use_downstream_protocol_config',
  ],
  'envoy.extensions.upstreams.http.v3.HttpProtocolOptions.ExplicitHttpConfig': [
    'http_protocol_options',
    'http2_protocol_options',
  ],
  'envoy.extensions.upstreams.http.v3.HttpProtocolOptions.UseDownstreamHttpConfig': [
    'http_protocol_options',
    'http2_protocol_options',
  ],
  'envoy.config.endpoint.v3.ClusterLoadAssignment': ['cluster_name', 'endpoints'],
  'envoy.config.endpoint.v3.LocalityLbEndpoints': ['lb_endpoints', 'locality'],
  'envoy.config.endpoint.v3.LbEndpoint': ['endpoint', 'load_balancing_weight'],
  'envoy.config.endpoint.v3.Endpoint': ['address'],
  'envoy.config.cluster.v3.CircuitBreakers': ['thresholds'],
  'envoy.config.cluster.v3.CircuitBreakers.Thresholds': [
    'priority',
    'max_connections',
    'max_pending_requests',
    'max_requests',
    'max_retries',
  ],
  'envoy.config.cluster.v3.OutlierDetection': [
    'consecutive_5xx',
    'interval',
    'base_ejection_time',
    'max_ejection_percent',
    'enforcing_consecutive_5xx',
    'enforcing_success_rate',
    'success_rate_minimum_hosts',
    'success_rate_request_volume',
    'success_rate_stdev_factor',
    'consecutive_gateway_failure',
    'enforcing_consecutive_gateway_failure',
    'failure_percentage_threshold',
    'enforcing_failure_percentage',
    'failure_percentage_minimum_hosts',
    'failure_percentage_request_volume',
    'max_ejection_time',
    'max_ejection_time_jitter',
    'successful_active_health_check_uneject_host',
  ],
  'envoy.config.core.v3.HealthCheck': [
    'timeout',
    'interval',
    'unhealthy_threshold',
    'healthy_threshold',
    'http_health_check',
    'tcp_health_check',
  ],
  'envoy.config.core.v3.HealthCheck.HttpHealthCheck': ['path', 'host'],
  'envoy.config.core.v3.HealthCheck.TcpHealthCheck': [],
  'envoy.config.accesslog.v3.AccessLog': ['name', 'typed_config'],
  'envoy.extensions.access_loggers.file.v3.FileAccessLog': ['path'],
  'envoy.extensions.access_loggers.stream.v3.StdoutAccessLog': [],
  'envoy.extensions.access_loggers.stream.v3.StderrAccessLog': [],
};

/** Enum values implemented, by `<message>.<field>`; others are errors. */
const ENUMS: Record<string, string[]> = {
  'envoy.config.core.v3.ConfigSource.resource_api_version': ['V3'],
  'envoy.config.core.v3.SocketAddress.protocol': ['TCP'],
  'envoy.config.rbac.v3.RBAC.action': ['ALLOW', 'DENY'],
  'envoy.extensions.transport_sockets.tls.v3.SubjectAltNameMatcher.san_type': [
    'DNS',
    'URI',
    'EMAIL',
    'IP_ADDRESS',
  ],
  'envoy.config.cluster.v3.Cluster.type': ['STATIC', 'STRICT_DNS', 'LOGICAL_DNS'],
  'envoy.config.cluster.v3.Cluster.lb_policy': ['ROUND_ROBIN', 'LEAST_REQUEST', 'RANDOM', 'RING_HASH'],
  'envoy.config.cluster.v3.Cluster.dns_lookup_family': ['AUTO', 'V4_ONLY', 'V6_ONLY', 'V4_PREFERRED', 'ALL'],
  'envoy.config.cluster.v3.CircuitBreakers.Thresholds.priority': ['DEFAULT'],
  'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.codec_type': [
    'AUTO',
    'HTTP1',
    'HTTP2',
  ],
};

const allowSets = new Map(Object.entries(ALLOW).map(([k, v]) => [k, new Set(v)]));

/** Message types and the fields implemented, by type name. */
export type Allowed = Readonly<Record<string, readonly string[]>>;

/** One walk: the allow-list (ALLOW and the extra messages it was given) and the errors found. */
interface Walk {
  allowed: Map<string, Set<string>>;
  errors: PathError[];
}
export interface PathError {
  path: string;
  message: string;
}

/**
 * Walks a bootstrap that `checkEnvoy` accepted, reports every field meshgen proxy does not
 * implement, and returns a copy with proto field names (snake_case), repeated fields as arrays.
 */
export function supportedWalk(
  obj: unknown,
  extra: Allowed = {},
  typeName = 'envoy.config.bootstrap.v3.Bootstrap',
): { errors: PathError[]; value: unknown } {
  const errors: PathError[] = [];
  const T = lookupType(typeName);
  if (!T) return { errors: [{ path: '/', message: `unknown type ${typeName}` }], value: obj };
  const allowed = new Map(allowSets);
  for (const [k, v] of Object.entries(extra)) allowed.set(k, new Set(v));
  const value = walkMessage(T, obj, '', { allowed, errors });
  return { errors, value };
}

function walkMessage(T: protobuf.Type, v: unknown, p: string, w: Walk): unknown {
  const errors = w.errors;
  const name = nameOf(T);
  if (name.startsWith('google.protobuf.')) {
    if (name === 'google.protobuf.Any') return walkAny(v as Record<string, unknown>, p, w);
    return v;
  }
  const allowed = w.allowed.get(name);
  if (!allowed) {
    errors.push({ path: p || '/', message: `${name} is not implemented by meshgen proxy` });
    return v;
  }
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, fv] of Object.entries(v as Record<string, unknown>)) {
    if (fv === null || fv === undefined) continue;
    const f = T.fields[k] ?? T.fieldsArray.find((x) => protobufjs().util.camelCase(x.name) === k);
    const fp = `${p}/${k}`;
    if (!f) continue; // checkEnvoy reports unknown fields
    if (!allowed.has(f.name)) {
      errors.push({ path: fp, message: `field ${f.name} of ${name} is not implemented by meshgen proxy` });
      continue;
    }
    f.resolve();
    const walkOne = (x: unknown, xp: string): unknown => {
      if (f.resolvedType instanceof protobufjs().Type) return walkMessage(f.resolvedType, x, xp, w);
      if (f.resolvedType instanceof protobufjs().Enum) {
        const ok = ENUMS[`${name}.${f.name}`];
        const canon =
          typeof x === 'string'
            ? x.toUpperCase()
            : Object.entries(f.resolvedType.values).find(([, n]) => n === x)?.[0];
        if (ok && canon && !ok.includes(canon))
          errors.push({
            path: xp,
            message: `${f.name} ${canon} of ${name} is not implemented by meshgen proxy (implemented: ${ok.join(', ')})`,
          });
        return canon ?? x;
      }
      return x;
    };
    if (f.map) {
      out[f.name] = Object.fromEntries(
        Object.entries(fv as Record<string, unknown>).map(([mk, mv]) => [mk, walkOne(mv, `${fp}/${mk}`)]),
      );
    } else if (f.repeated) {
      const arr = Array.isArray(fv) ? fv : [fv];
      out[f.name] = arr.map((x, i) => walkOne(x, Array.isArray(fv) ? `${fp}/${i}` : fp));
    } else out[f.name] = walkOne(fv, fp);
  }
  return out;
}

function walkAny(v: Record<string, unknown>, p: string, w: Walk): unknown {
  const url = String(v['@type']);
  const inner = lookupType(url.slice(url.lastIndexOf('/') + 1));
  if (!inner) return v;
  const innerName = nameOf(inner);
  if (!w.allowed.has(innerName)) {
    w.errors.push({ path: `${p}/@type`, message: `${innerName} is not implemented by meshgen proxy` });
    return v;
  }
  const rest = { ...v };
  delete rest['@type'];
  return { '@type': innerName, ...(walkMessage(inner, rest, p, w) as Record<string, unknown>) };
}
