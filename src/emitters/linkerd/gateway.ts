import { diagnostic } from '../../model/diagnostics.js';
import type { ResolvedFrontend } from '../../model/types.js';
import { k8sObject } from '../../kubernetes/objects.js';
import { GATEWAY_API, TARGET, type EmitContext } from './context.js';

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
