import { diagnostic } from '../../model/diagnostics.js';
import type { Caller, ResolvedFrontend } from '../../model/types.js';
import { k8sObject } from '../../kubernetes/objects.js';
import { GATEWAY_API, TARGET, linkerdIdentity, type EmitContext } from './context.js';

/**
 * Linkerd has no ingress of its own: a frontend is a Gateway API Gateway served by whatever
 * implementation the class names (Envoy Gateway's quickstart class `eg` unless
 * `--set gatewayClass=...`), its pods meshed by Linkerd.
 */
export const DEFAULT_GATEWAY_CLASS = 'eg';

function listeners(ctx: EmitContext, f: ResolvedFrontend): Record<string, unknown>[] {
  if (f.protocol === 'tcp' || f.protocol === 'tls-passthrough') {
    if (f.protocol === 'tls-passthrough')
      ctx.diagnostics.push(
        diagnostic(
          'MG3002',
          `frontend "${f.name}": tls-passthrough becomes a TCP listener forwarding the TLS stream as is${f.hosts.includes('*') ? '' : `; SNI hosts (${f.hosts.join(', ')}) are not checked`}`,
          { pointer: `${f.pointer}/protocol`, target: TARGET },
        ),
      );
    return [{ name: 'tcp', port: f.port, protocol: 'TCP' }];
  }
  const protocol = f.protocol === 'https' ? 'HTTPS' : 'HTTP';
  let tls: Record<string, unknown> | undefined;
  if (f.protocol === 'https') {
    const secret = f.tls?.secretName ?? `${f.name}-tls`;
    if (!f.tls?.secretName)
      ctx.diagnostics.push(
        diagnostic(
          'MG3005',
          `frontend "${f.name}": the Gateway reads its certificate from the Secret "${secret}"`,
          {
            pointer: `${f.pointer}/tls`,
            target: TARGET,
            hint: `kubectl -n ${ctx.mesh.namespace} create secret tls ${secret} --cert=${f.tls?.certificate ?? 'tls.crt'} --key=${f.tls?.key ?? 'tls.key'}`,
          },
        ),
      );
    tls = { mode: 'Terminate', certificateRefs: [{ group: '', kind: 'Secret', name: secret }] };
  }
  const base = protocol.toLowerCase();
  const hosts = f.hosts.includes('*') ? [undefined] : f.hosts;
  return hosts.map((hostname, i) => ({
    name: hosts.length === 1 ? base : `${base}-${i}`,
    hostname,
    port: f.port,
    protocol,
    tls,
  }));
}

/** True when `value` is a valid GatewayClass name (a DNS subdomain). */
export function isGatewayClassName(value: string): boolean {
  return (
    value.length <= 253 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(value)
  );
}

/** The Gateway class: `--set gatewayClass=...` when it is a valid object name, else the default. */
function gatewayClass(ctx: EmitContext): string {
  const value = ctx.settings.gatewayClass;
  if (value === undefined) return DEFAULT_GATEWAY_CLASS;
  return isGatewayClassName(value) ? value : DEFAULT_GATEWAY_CLASS;
}

/** True when frontends are Envoy Gateway's (the default class). */
export function isDefaultGatewayClass(ctx: EmitContext): boolean {
  return gatewayClass(ctx) === DEFAULT_GATEWAY_CLASS;
}

/** Reports a gatewayClass setting that is not a valid GatewayClass name. */
export function checkGatewayClass(ctx: EmitContext): void {
  const value = ctx.settings.gatewayClass;
  if (value !== undefined && gatewayClass(ctx) !== value)
    ctx.diagnostics.push(
      diagnostic('MG4003', `gatewayClass "${value}" is not a valid GatewayClass name`, {
        target: TARGET,
        hint: 'a lower-case DNS subdomain such as istio, eg or envoy-gateway',
      }),
    );
}

/** One Gateway per frontend, in the mesh's namespace. */
export function emitGateway(ctx: EmitContext, f: ResolvedFrontend): void {
  const spec: Record<string, unknown> = {
    gatewayClassName: gatewayClass(ctx),
    listeners: listeners(ctx, f),
  };
  if (f.tls?.clientCa && f.protocol === 'https') {
    const name = `${f.name}-client-ca`;
    spec.tls = {
      frontend: { default: { validation: { caCertificateRefs: [{ group: '', kind: 'ConfigMap', name }] } } },
    };
    ctx.diagnostics.push(
      diagnostic(
        'MG3005',
        `frontend "${f.name}": the Gateway checks client certificates against the ConfigMap "${name}" (key ca.crt)`,
        {
          pointer: `${f.pointer}/tls/clientCa`,
          target: TARGET,
          hint: `kubectl -n ${ctx.mesh.namespace} create configmap ${name} --from-file=ca.crt=${f.tls.clientCa}`,
        },
      ),
    );
  }
  ctx.objects.push(
    k8sObject(ctx.mesh, GATEWAY_API, 'Gateway', { name: f.name, namespace: ctx.mesh.namespace }, { spec }),
  );
}

/** Where a frontend's Gateway pods run: the service account Linkerd knows them by. */
export interface GatewayAccount {
  readonly namespace: string;
  readonly serviceAccount: string;
}

const DNS_LABEL = /^[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9](?:[-a-z0-9.]{0,251}[a-z0-9])?$/;

function account(text: string): GatewayAccount | undefined {
  const [namespace = '', serviceAccount = '', ...rest] = text.split('/');
  return !rest.length && DNS_LABEL.test(namespace) && DNS_SUBDOMAIN.test(serviceAccount)
    ? { namespace, serviceAccount }
    : undefined;
}

/**
 * `--set gatewayServiceAccount=<namespace>/<name>` (every frontend's Gateway pods) or
 * `<frontend>:<namespace>/<name>,...` (each frontend's own): by frontend name, `*` for all. A value of
 * neither form is reported (MG4003) and ignored.
 */
export function gatewayAccounts(ctx: EmitContext): Map<string, GatewayAccount> {
  const out = new Map<string, GatewayAccount>();
  const text = ctx.settings.gatewayServiceAccount;
  if (text === undefined) return out;
  const all = account(text);
  if (all) return out.set('*', all);
  for (const part of text.split(',')) {
    const colon = part.indexOf(':');
    const a = colon > 0 ? account(part.slice(colon + 1).trim()) : undefined;
    if (!a || !ctx.mesh.frontendsByName.has(part.slice(0, colon).trim())) {
      ctx.diagnostics.push(
        diagnostic(
          'MG4003',
          `--set gatewayServiceAccount="${text}" is not <namespace>/<service account>, nor a list of <frontend>:<namespace>/<service account>`,
          {
            target: TARGET,
            hint: 'for example --set gatewayServiceAccount=envoy-gateway-system/envoy-shop-public-1a2b3c4d',
          },
        ),
      );
      return new Map();
    }
    out.set(part.slice(0, colon).trim(), a);
  }
  return out;
}

/**
 * The Linkerd identity of a caller an access rule names. A frontend is its Gateway's pods, whose
 * service account the Gateway implementation chooses: the setting's when given, else the frontend's
 * own name in the mesh's namespace, which is stated (MG3005), or warned about (MG3009) with the
 * default class, whose Envoy Gateway names it `envoy-<namespace>-<gateway>-<hash>` in its own
 * namespace (envoyproxy/gateway internal/infrastructure/kubernetes/proxy, ExpectedResourceHashedName):
 * the rule could never match.
 */
export function callerIdentity(
  ctx: EmitContext,
  accounts: ReadonlyMap<string, GatewayAccount>,
  c: Exclude<Caller, { kind: 'any' }>,
  pointer: string,
  warned: Set<string>,
): string {
  if (c.kind !== 'frontend') return linkerdIdentity(ctx.mesh, c.serviceAccount, c.namespace);
  const set = accounts.get(c.name) ?? accounts.get('*');
  if (set) return linkerdIdentity(ctx.mesh, set.serviceAccount, set.namespace);
  if (!warned.has(c.name)) {
    warned.add(c.name);
    const assumed = `service account "${c.serviceAccount}" in namespace "${c.namespace}"`;
    const eg = isDefaultGatewayClass(ctx);
    const label = eg
      ? `gateway.envoyproxy.io/owning-gateway-name=${c.name}`
      : `gateway.networking.k8s.io/gateway-name=${c.name}`;
    const hint = `say where they run: --set gatewayServiceAccount=<namespace>/<name> (every frontend) or ${c.name}:<namespace>/<name>; kubectl get pods -A -l ${label} -o jsonpath='{.items[0].metadata.namespace}/{.items[0].spec.serviceAccountName}' shows it`;
    if (eg)
      ctx.diagnostics.push(
        diagnostic(
          'MG3009',
          `access rules naming frontend "${c.name}" are granted to the Gateway pods' identity, assumed to be ${assumed}; with gateway class "${DEFAULT_GATEWAY_CLASS}", Envoy Gateway runs them as envoy-${c.namespace}-${c.name}-<hash> in its own namespace, so these rules never match`,
          { pointer, target: TARGET, hint },
        ),
      );
    else
      ctx.diagnostics.push(
        diagnostic(
          'MG3005',
          `access rules naming frontend "${c.name}" are granted to the Gateway pods' identity, assumed to be ${assumed}`,
          { pointer, target: TARGET, hint },
        ),
      );
  }
  return linkerdIdentity(ctx.mesh, c.serviceAccount, c.namespace);
}
