import { diagnostic, type Diagnostic } from '../../model/diagnostics.js';
import type { Feature } from '../../model/features.js';
import type { ResolvedMesh } from '../../model/types.js';
import {
  k8sObject,
  namesIn,
  ObjectFileSink,
  type K8sObject,
  type ObjectCollector,
} from '../../kubernetes/objects.js';
import type { EmitOptions, EmitResult, Emitter, Fidelity, TargetSetting } from '../types.js';
import { versionSetting } from '../settings.js';
import { NETWORKING, Notes, SECURITY, TARGET } from './common.js';
import { frontendVirtualServices, gatewaySpec } from './gateways.js';
import { backendVirtualService } from './routes.js';
import {
  authorizationPolicySpec,
  backendPeerAuthenticationSpec,
  meshPeerAuthentications,
  type GatewayAccount,
} from './security.js';
import { destinationRuleSpec, serviceSpec } from './services.js';
import { ISTIO_VERSIONS } from './versions.js';
import { readVersion } from '../versions.js';

/** What Istio keeps of each feature; approximations are explained where they occur (MG3002). */
const ISTIO_FIDELITY: Readonly<Record<Feature, Fidelity>> = {
  split: 'exact',
  'header-match': 'exact',
  'query-match': 'exact',
  'method-match': 'exact',
  'regex-path': 'exact',
  timeout: 'exact',
  retries: 'exact',
  'per-try-timeout': 'exact',
  // Istio documents that timeouts and retries are not applied next to client-side faults
  'fault-delay': 'approximate',
  'fault-abort': 'approximate',
  mirror: 'exact',
  'rewrite-path': 'exact',
  'rewrite-host': 'exact',
  'request-headers': 'exact',
  // Envoy applies route response header operations to its own 503/504 replies as well
  'response-headers': 'approximate',
  'load-balancer': 'exact',
  'ring-hash': 'exact',
  // Istio has no active health checking: it relies on Kubernetes readiness probes
  'health-check': 'unsupported',
  'circuit-breaker': 'exact',
  'outlier-detection': 'exact',
  mtls: 'exact',
  access: 'exact',
  'access-l7': 'exact',
  'https-frontend': 'exact',
  'client-certificates': 'exact',
  tcp: 'exact',
  'tls-passthrough': 'exact',
};

const DEFAULT_GATEWAY_SELECTOR: Readonly<Record<string, string>> = { istio: 'ingressgateway' };

const LABEL_KEY =
  /^(?:[a-z0-9](?:[-a-z0-9.]{0,251}[a-z0-9])?\/)?[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

/** `--set gatewaySelector=key=value[,key=value]`: the labels of the ingress gateway pods. */
function parseGatewaySelector(text: string | undefined): {
  selector: Record<string, string>;
  diagnostics: Diagnostic[];
} {
  if (text === undefined) return { selector: { ...DEFAULT_GATEWAY_SELECTOR }, diagnostics: [] };
  const selector: Record<string, string> = {};
  for (const pair of text.split(',')) {
    const eq = pair.indexOf('=');
    const key = eq < 0 ? pair : pair.slice(0, eq);
    const value = eq < 0 ? '' : pair.slice(eq + 1);
    if (eq < 1 || !LABEL_KEY.test(key) || !LABEL_VALUE.test(value))
      return {
        selector: { ...DEFAULT_GATEWAY_SELECTOR },
        diagnostics: [
          diagnostic(
            'MG4003',
            `--set gatewaySelector="${text}" is not a list of Kubernetes labels key=value`,
            {
              target: TARGET,
              hint: 'for example --set gatewaySelector=istio=ingressgateway or app=gw,tier=edge',
            },
          ),
        ],
      };
    selector[key] = value;
  }
  return { selector, diagnostics: [] };
}

const DNS_LABEL = /^[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9](?:[-a-z0-9.]{0,251}[a-z0-9])?$/;

/** `--set gatewayServiceAccount=<namespace>/<name>`: the identity of the ingress gateway pods. */
function parseGatewayAccount(text: string | undefined): {
  account?: GatewayAccount;
  diagnostics: Diagnostic[];
} {
  if (text === undefined) return { diagnostics: [] };
  const [namespace = '', serviceAccount = '', ...rest] = text.split('/');
  if (!rest.length && DNS_LABEL.test(namespace) && DNS_SUBDOMAIN.test(serviceAccount))
    return { account: { namespace, serviceAccount }, diagnostics: [] };
  return {
    diagnostics: [
      diagnostic('MG4003', `--set gatewayServiceAccount="${text}" is not <namespace>/<service account>`, {
        target: TARGET,
        hint: 'for example --set gatewayServiceAccount=istio-system/istio-ingressgateway-service-account',
      }),
    ],
  };
}

function hostLabel(host: string): string {
  const label = host
    .toLowerCase()
    .replace(/^\*$/, 'wildcard')
    .replace(/^\*\./, 'wildcard.')
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 180); // with the frontend name, within the 253 characters of an object name
  return label.replace(/-+$/, '') || 'host';
}

/** Keeps object names unique per kind and namespace (a frontend and a backend may share a name). */
class Names {
  /** Names taken, by kind and namespace. */
  private readonly taken = new Map<string, Map<string, Set<string>>>();
  claim(kind: string, namespace: string, name: string, suffix: string): string {
    let byNamespace = this.taken.get(kind);
    if (byNamespace === undefined) this.taken.set(kind, (byNamespace = new Map()));
    const names = namesIn(byNamespace, namespace);
    let candidate = name;
    for (let i = 2; names.has(candidate); i++)
      candidate = i === 2 ? `${name}-${suffix}` : `${name}-${suffix}-${i - 1}`;
    names.add(candidate);
    return candidate;
  }
}

/** Istio's CRDs reject durations under 1ms: each one raised to 1ms is reported. */
function reportShortDurations(mesh: ResolvedMesh, notes: Notes): void {
  // subject and pointer are built only for a duration that is reported
  const check = (
    ms: number | undefined,
    entity: { name: string; pointer: string },
    kind: string,
    feature: string,
    field: string,
  ) => {
    if (ms !== undefined && ms < 1)
      notes.approx(
        `${kind} "${entity.name}"`,
        feature,
        `${ms}ms is raised to 1ms, the shortest duration Istio accepts`,
        `${entity.pointer}/${field}`,
      );
  };
  for (const r of mesh.routes) {
    check(r.timeoutMs, r, 'route', 'timeout', 'timeout');
    check(r.retries?.perTryTimeoutMs, r, 'route', 'per-try-timeout', 'retries/perTryTimeout');
    check(r.fault?.delay?.ms, r, 'route', 'fault-delay', 'fault/delay/duration');
  }
  for (const b of mesh.backends) {
    const od = b.outlierDetection;
    check(od?.intervalMs, b, 'backend', 'outlier-detection', 'outlierDetection/interval');
    check(od?.baseEjectionTimeMs, b, 'backend', 'outlier-detection', 'outlierDetection/baseEjectionTime');
  }
}

/**
 * The Istio objects of a mesh, with the emitter's own diagnostics: collected in an array, or handed
 * to a sink that serialises them as they come (`emit`).
 */
export function istioObjects<C extends ObjectCollector = K8sObject[]>(
  mesh: ResolvedMesh,
  options: EmitOptions,
  objects: C = [] as unknown as C,
): { objects: C; diagnostics: Diagnostic[] } {
  const read = readVersion(TARGET, ISTIO_VERSIONS, options.settings);
  const notes = new Notes(read.version);
  const { selector, diagnostics } = parseGatewaySelector(options.settings?.['gatewaySelector']);
  diagnostics.push(...read.diagnostics);
  const gatewayAccount = parseGatewayAccount(options.settings?.['gatewayServiceAccount']);
  diagnostics.push(...gatewayAccount.diagnostics);
  const names = new Names();
  const add = (
    apiVersion: string,
    kind: string,
    namespace: string,
    name: string,
    body: Record<string, unknown>,
    suffix = 'meshgen',
  ) =>
    objects.push(
      k8sObject(
        mesh,
        apiVersion,
        kind,
        { name: names.claim(kind, namespace, name, suffix), namespace },
        body,
      ),
    );

  for (const { namespace, spec } of meshPeerAuthentications(mesh))
    add(SECURITY, 'PeerAuthentication', namespace, 'default', { spec });

  const accounts = new Set<string>();
  for (const b of mesh.backends) {
    const ns = b.namespace;
    if (!accounts.has(`${ns}/${b.serviceAccount}`)) {
      accounts.add(`${ns}/${b.serviceAccount}`);
      add('v1', 'ServiceAccount', ns, b.serviceAccount, {});
    }
    add('v1', 'Service', ns, b.name, serviceSpec(b));
    add(NETWORKING, 'DestinationRule', ns, b.name, { spec: destinationRuleSpec(b, notes) });
    const vs = backendVirtualService(mesh, b, notes);
    // a backend whose every route is left out (MG3001) gets none: its callers reach every version
    if (vs.http || vs.tcp) add(NETWORKING, 'VirtualService', ns, b.name, { spec: vs });
    const peer = backendPeerAuthenticationSpec(mesh, b);
    if (peer) add(SECURITY, 'PeerAuthentication', ns, b.name, { spec: peer });
    const authz = authorizationPolicySpec(mesh, b, gatewayAccount.account, notes);
    if (authz) add(SECURITY, 'AuthorizationPolicy', ns, b.name, { spec: authz });
  }

  for (const f of mesh.frontends) {
    const ns = mesh.namespace;
    const gateway = names.claim('Gateway', ns, f.name, 'gateway');
    objects.push(
      k8sObject(
        mesh,
        NETWORKING,
        'Gateway',
        { name: gateway, namespace: ns },
        { spec: gatewaySpec(f, selector, notes) },
      ),
    );
    for (const vs of frontendVirtualServices(mesh, f, `${ns}/${gateway}`, notes))
      // a host whose every route is left out gets no VirtualService: the gateway answers 404
      if ((vs.spec.http as unknown[] | undefined)?.length !== 0)
        add(
          NETWORKING,
          'VirtualService',
          ns,
          vs.host === undefined ? f.name : `${f.name}-${hostLabel(vs.host)}`,
          { spec: vs.spec },
          'frontend',
        );
  }

  reportShortDurations(mesh, notes);

  const untimed = [
    ...new Set(
      mesh.routes.filter((r) => r.protocol === 'http' && r.timeoutMs === undefined).map((r) => r.name),
    ),
  ];
  if (untimed.length) {
    const named = untimed.slice(0, 5).map((n) => `"${n}"`);
    if (untimed.length > 5) named.push('...');
    notes.info(
      `HTTP route${untimed.length === 1 ? '' : 's'} without timeout (${named.join(', ')}) ${untimed.length === 1 ? 'gets' : 'get'} no request timeout from Istio, which turns Envoy's 15s route default off`,
    );
  }

  return { objects, diagnostics: [...diagnostics, ...notes.list] };
}

function emitIstio(mesh: ResolvedMesh, options: EmitOptions): EmitResult {
  const { objects, diagnostics } = istioObjects(mesh, options, new ObjectFileSink());
  return { files: objects.files(), diagnostics };
}

/** The settings of `--set`, for the checks, `meshgen targets --target istio` and docs/istio.md. */
const ISTIO_SETTINGS: readonly TargetSetting[] = [
  {
    name: 'gatewaySelector',
    default: 'istio=ingressgateway',
    accepts: 'Kubernetes labels `key=value[,key=value]`',
    check: (v) => !parseGatewaySelector(v).diagnostics.length,
    description: 'the `selector` of every Gateway: the labels of the ingress gateway pods',
  },
  {
    name: 'gatewayServiceAccount',
    defaultText: "each frontend's own identity",
    accepts: '`<namespace>/<service account>`',
    check: (v) => !parseGatewayAccount(v).diagnostics.length,
    description:
      'the service account the ingress gateway pods run as: the principal access rules use for frontend callers',
  },
  versionSetting(TARGET, ISTIO_VERSIONS),
];

export const istio: Emitter = {
  target: TARGET,
  summary:
    'Istio (networking.istio.io/v1, security.istio.io/v1): Gateway, VirtualService, DestinationRule, Service, PeerAuthentication, AuthorizationPolicy',
  fidelity: ISTIO_FIDELITY,
  versions: ISTIO_VERSIONS,
  settings: ISTIO_SETTINGS,
  emit: emitIstio,
};
