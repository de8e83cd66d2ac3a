import type { Endpoint, ResolvedBackend, ResolvedRoute } from '../../model/types.js';
import { destinationEndpoints, upstreamMtls } from '../../smartstack/index.js';
import { report, type Ctx } from './model.js';
import { goDuration } from './syntax.js';

type Obj = Record<string, unknown>;

function hostPort(e: Endpoint): string {
  return e.family === 'ipv6' ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`;
}

/** Options of the services of one route. */
export interface ServiceOptions {
  /** The caller's TLS goes through untouched (tls-passthrough frontends): no upstream TLS. */
  readonly passthrough: boolean;
  /** How long each try waits for response headers (forwardingTimeouts.responseHeaderTimeout). */
  readonly headerTimeoutMs?: number;
}

/**
 * A servers transport for traffic from a route's parent to a backend: the mesh CA, the identity
 * the parent presents, the backend's SPIFFE identity checked in its certificate's URI SAN
 * (`peerCertURI`), and the per-try timeout. Undefined when nothing differs from Traefik's default.
 */
function transport(
  route: ResolvedRoute,
  backend: ResolvedBackend,
  tcp: boolean,
  opts: ServiceOptions,
  ctx: Ctx,
): string | undefined {
  const mtls = upstreamMtls(backend) && !opts.passthrough;
  const timeout = tcp ? undefined : opts.headerTimeoutMs;
  if (!mtls && timeout === undefined) return undefined;
  const client = ctx.certs.client(route.parent);
  const stem = route.parent.kind === 'frontend' ? `fe-${route.parent.name}` : (ctx.identity ?? backend.name);
  const name = [
    backend.name,
    mtls ? `from-${stem}` : 'plain',
    ...(timeout !== undefined ? [goDuration(timeout)] : []),
  ].join('.');
  const tls = mtls
    ? {
        rootCAs: [ctx.certs.ca],
        certificates: [{ certFile: client.cert, keyFile: client.key }],
        peerCertURI: backend.identity,
      }
    : undefined;
  if (tcp) ctx.out.tcp.serversTransports[name] = { tls: tls! };
  else
    ctx.out.http.serversTransports[name] = {
      ...tls,
      ...(timeout !== undefined
        ? { forwardingTimeouts: { responseHeaderTimeout: goDuration(timeout) } }
        : {}),
    };
  return name;
}

/** The load-balancer service of one set of versions of a backend, named `name`. */
function poolService(
  name: string,
  route: ResolvedRoute,
  backend: ResolvedBackend,
  to: { readonly versions: readonly string[] },
  opts: ServiceOptions,
  ctx: Ctx,
): void {
  const tcp = route.protocol === 'tcp';
  const mtls = upstreamMtls(backend) && !opts.passthrough;
  const endpoints = destinationEndpoints(backend, to).map((e) => e.endpoint);
  const transportName = transport(route, backend, tcp, opts, ctx);
  if (tcp) {
    ctx.out.tcp.services[name] = {
      loadBalancer: {
        servers: endpoints.map((e) => ({ address: hostPort(e), ...(mtls ? { tls: true } : {}) })),
        ...(transportName ? { serversTransport: transportName } : {}),
      },
    };
    return;
  }
  // h2c: HTTP/2 without TLS for http2 and grpc backends; over TLS, ALPN chooses
  const scheme = mtls ? 'https' : backend.protocol === 'http' ? 'http' : 'h2c';
  const lb: Obj = { servers: endpoints.map((e) => ({ url: `${scheme}://${hostPort(e)}` })) };
  const hc = backend.healthCheck;
  if (hc) {
    lb.healthCheck = {
      path: hc.path,
      interval: goDuration(hc.intervalMs),
      timeout: goDuration(hc.timeoutMs),
    };
    if (hc.healthyThreshold !== 1 || hc.unhealthyThreshold !== 1)
      report(
        ctx,
        'MG3034',
        `backend "${backend.name}": Traefik takes a server out at its first failed check and back at its first good one: healthyThreshold ${hc.healthyThreshold} and unhealthyThreshold ${hc.unhealthyThreshold} are not kept`,
        `${backend.pointer}/healthCheck`,
      );
  }
  if (transportName) lb.serversTransport = transportName;
  ctx.out.http.services[name] = { loadBalancer: lb };
}

/**
 * The service a route's routers name: its one destination's pool, or a weighted service over the
 * pools (Traefik's smooth weighted round robin keeps the shares exactly over every cycle of the
 * weights), wrapped in a mirroring service when the route mirrors.
 */
export function routeService(base: string, route: ResolvedRoute, opts: ServiceOptions, ctx: Ctx): string {
  const tcp = route.protocol === 'tcp';
  const services = tcp ? ctx.out.tcp.services : ctx.out.http.services;
  const pools: { name: string; weight: number }[] = [];
  route.to.forEach((to, i) => {
    if (to.weight <= 0) return;
    const backend = ctx.mesh.backendsByName.get(to.backend)!;
    const name = `${base}.${i}.${to.backend}.${to.version ?? 'all'}`;
    poolService(name, route, backend, to, opts, ctx);
    pools.push({ name, weight: to.weight });
  });
  let main = pools[0]!.name;
  if (pools.length > 1) {
    main = `${base}.split`;
    services[main] = { weighted: { services: pools } };
  }
  if (route.mirror && !tcp) {
    const m = route.mirror;
    const backend = ctx.mesh.backendsByName.get(m.backend)!;
    const mirror = `${base}.mirror.${m.backend}.${m.version ?? 'all'}`;
    poolService(mirror, route, backend, m, { ...opts, headerTimeoutMs: undefined }, ctx);
    const mirrored = `${base}.mirrored`;
    services[mirrored] = { mirroring: { service: main, mirrors: [{ name: mirror, percent: m.percent }] } };
    return mirrored;
  }
  return main;
}
