import { routeSubject } from '../../model/describe.js';
import { diagnostic } from '../../model/diagnostics.js';
import type { ResolvedBackend, ResolvedFrontend, ResolvedRoute } from '../../model/types.js';
import {
  accessDecision,
  callerIdentity,
  destinationEndpoints,
  ident,
  proxyDuration,
  routeHosts,
  upstreamMtls,
} from '../../smartstack/index.js';
import { hostRegex } from './conditions.js';
import { TARGET, type RouteContext } from './route.js';
import { failTimeout, q } from './syntax.js';
import { upstreamText, type BlockView, type ServerView } from './view.js';

/** The target of one TCP route: an upstream, or a split_clients variable choosing one. */
function streamTarget(
  route: ResolvedRoute,
  ctx: RouteContext,
  block: BlockView,
): { target: string; tls: ResolvedBackend[]; directives: string[] } {
  const id = `${route.implicit ? 'b' : 'r'}_${ident(route.name)}`;
  const pools = route.to
    .map((to, i) => ({ to, i }))
    .filter(({ to }) => to.weight > 0)
    .map(({ to, i }) => {
      const backend = ctx.mesh.backendsByName.get(to.backend)!;
      const name = `mg_${id}_${i}`;
      const directives =
        backend.loadBalancer === 'least-request'
          ? ['least_conn']
          : backend.loadBalancer === 'random'
            ? ['random']
            : backend.loadBalancer === 'ring-hash'
              ? ['hash $remote_addr consistent']
              : [];
      const od = backend.outlierDetection;
      const fails = od
        ? `max_fails=${od.consecutiveErrors} fail_timeout=${failTimeout(od.baseEjectionTimeMs)}`
        : 'max_fails=0';
      block.upstreams.push(
        upstreamText({
          comment: `${routeSubject(route)} -> backend "${backend.name}", ${to.version ? `version ${to.version}` : 'all versions'}, ${to.weight}%`,
          name,
          directives,
          servers: destinationEndpoints(backend, to).map(
            ({ endpoint }) =>
              `${endpoint.family === 'ipv6' ? `[${endpoint.host}]` : endpoint.host}:${endpoint.port} ${fails}`,
          ),
        }),
      );
      return { name, backend, weight: to.weight };
    });
  let target = pools[0]!.name;
  if (pools.length > 1) {
    target = `$mg_pool_${id}`;
    block.splits.push({
      comment: `${routeSubject(route)}: split per connection`,
      key: q('${remote_addr}${remote_port}${msec}'),
      variable: target,
      entries: pools.map((p, n) => ({ share: n === pools.length - 1 ? '*' : `${p.weight}%`, value: p.name })),
    });
  }
  const directives: string[] = [];
  if (route.timeoutMs !== undefined) {
    directives.push(`proxy_timeout ${proxyDuration(route.timeoutMs)}`);
    ctx.diagnostics.push(
      diagnostic(
        'MG3002',
        `${routeSubject(route)}: timeout on nginx is an idle timeout on the TCP connection (proxy_timeout), not a limit on its life`,
        {
          pointer: `${route.pointer}/timeout`,
          target: TARGET,
        },
      ),
    );
  }
  return { target, tls: pools.filter((p) => upstreamMtls(p.backend)).map((p) => p.backend), directives };
}

function tlsDirectives(route: ResolvedRoute, tls: ResolvedBackend[], ctx: RouteContext): string[] {
  if (!tls.length) return [];
  const client = ctx.certs.client(
    route.parent.kind === 'frontend' ? route.parent : { kind: 'backend', name: route.parent.name },
  );
  return [
    'proxy_ssl on',
    `proxy_ssl_certificate ${client.cert}`,
    `proxy_ssl_certificate_key ${client.key}`,
    `proxy_ssl_trusted_certificate ${ctx.certs.ca}`,
    'proxy_ssl_verify on',
    'proxy_ssl_server_name on',
    `proxy_ssl_name ${tls[0]!.fqdn}`,
  ];
}

/** A TCP or tls-passthrough listener in the stream block: the first route takes the connection. */
export function streamServer(
  listen: string,
  comment: string,
  routes: readonly ResolvedRoute[],
  frontend: ResolvedFrontend | undefined,
  ctx: RouteContext,
  block: BlockView,
): ServerView {
  const directives = [`listen ${listen}`];
  if (!routes.length || streamDenied(routes[0]!, ctx))
    return {
      comment,
      directives: [...directives, 'deny all', `proxy_pass ${rejectUpstream(block)}`],
      locations: [],
    };
  const sni = frontend?.protocol === 'tls-passthrough';
  if (sni) {
    // Route by the SNI name of the ClientHello, without terminating TLS.
    directives.push('ssl_preread on');
    const variable = `$mg_sni_${ident(frontend!.name)}`;
    const entries: { key: string; value: string }[] = [];
    for (const route of routes) {
      const { target, directives: more } = streamTarget(route, ctx, block);
      const hosts = routeHosts(route, frontend!.hosts);
      entries.push({
        key: hosts ? q(`~${hostRegex(hosts)}`) : q('~'),
        value: target.startsWith('$') ? target : target,
      });
      directives.push(...more.filter((m) => !directives.includes(m)));
    }
    block.maps.push({
      comment: `frontend "${frontend!.name}": route by SNI`,
      source: '$ssl_preread_server_name',
      variable,
      entries: [...entries, { key: 'default', value: 'mg_reject' }],
    });
    rejectUpstream(block, 'connections no route accepts: closed (nothing listens on port 1)');
    directives.push(`proxy_pass ${variable}`);
    return { comment, directives, locations: [] };
  }
  const route = routes[0]!;
  const { target, tls, directives: more } = streamTarget(route, ctx, block);
  directives.push(
    ...more,
    ...tlsDirectives(route, tls, ctx),
    'proxy_next_upstream off',
    `proxy_pass ${target}`,
  );
  return { comment, directives, locations: [] };
}

/** The blocks that have the upstream `mg_reject` (no other upstream is named so). */
const rejecting = new WeakSet<BlockView>();

/**
 * An upstream whose only server is down: connections sent there are closed. Added once to a
 * block, with the comment of the listener that needs it first.
 */
function rejectUpstream(
  block: BlockView,
  comment = 'connections no route accepts (or access denies): closed',
): string {
  // not a search of the upstreams: a mesh may have many listeners that reject
  if (!rejecting.has(block)) {
    rejecting.add(block);
    block.upstreams.push(
      upstreamText({
        comment,
        name: 'mg_reject',
        directives: [],
        servers: ['127.0.0.1:1 down'],
      }),
    );
  }
  return 'mg_reject';
}

/**
 * Access on a TCP listener, for the identity the proxy presents: the connection is refused when the
 * first route's first destination does not let that caller in (paths and methods do not apply).
 */
function streamDenied(route: ResolvedRoute, ctx: RouteContext): boolean {
  const to = route.to.find((t) => t.weight > 0);
  const backend = to && ctx.mesh.backendsByName.get(to.backend);
  if (!backend) return false;
  const d = accessDecision(backend, callerIdentity(ctx.mesh, route, ctx.identity));
  if (d.kind === 'unknown-caller')
    ctx.diagnostics.push(
      diagnostic(
        'MG3002',
        `${routeSubject(route)}: access on nginx cannot enforce the access rules of backend "${backend.name}": its east-west callers are not known`,
        {
          pointer: backend.access.mode === 'rules' ? backend.access.pointer : backend.pointer,
          target: TARGET,
          hint: 'render with --set identity=<backend> for the workload this node runs',
        },
      ),
    );
  return d.kind === 'deny';
}
