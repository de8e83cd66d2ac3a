import type { ResolvedFrontend, ResolvedRoute } from '../../model/types.js';
import { accessDecision, callerIdentity, routeHosts } from '../../smartstack/index.js';
import { DENY, DENY_ALL, report, type Ctx } from './model.js';
import { hostRule } from './rules.js';
import { routeService } from './services.js';
import { goDuration } from './syntax.js';

type Obj = Record<string, unknown>;

/**
 * The TCP routers of one entry point. A plain TCP parent takes every connection with its first
 * route (`HostSNI(`*`)`); a tls-passthrough frontend routes by the SNI of the client's hello
 * (`HostSNI`, `tls.passthrough`), first match first, by explicit priorities as for HTTP.
 */
export function tcpRouters(
  ep: string,
  routes: readonly ResolvedRoute[],
  frontend: ResolvedFrontend | undefined,
  ctx: Ctx,
): void {
  const passthrough = frontend?.protocol === 'tls-passthrough';
  const slots: Obj[] = [];
  for (const route of routes) {
    const hosts = frontend && passthrough ? routeHosts(route, frontend.hosts) : undefined;
    if (route.timeoutMs !== undefined)
      report(
        ctx,
        'MG3030',
        `route "${route.name}": Traefik has no per-route limit on a TCP connection's life: timeout ${goDuration(route.timeoutMs)} is not kept`,
        `${route.pointer}/timeout`,
      );
    const service = routeService(`${ep}.${route.name}`, route, { passthrough }, ctx);
    const router: Obj = {
      entryPoints: [ep],
      rule: hosts ? hostRule(hosts, true) : 'HostSNI(`*`)',
      service,
    };
    const decision = accessDecision(
      ctx.mesh.backendsByName.get(route.to.find((t) => t.weight > 0)!.backend)!,
      callerIdentity(ctx.mesh, route, ctx.identity),
    );
    if (decision.kind === 'deny') {
      router.middlewares = [DENY];
      ctx.out.tcp.middlewares[DENY] = DENY_ALL;
    } else if (decision.kind === 'unknown-caller') {
      const b = ctx.mesh.backendsByName.get(route.to[0]!.backend)!;
      report(
        ctx,
        'MG3037',
        `route "${route.name}": cannot enforce the access rules of backend "${b.name}": its east-west callers are not known`,
        b.access.mode === 'rules' ? b.access.pointer : b.pointer,
        'render with --set identity=<backend> for the workload this node runs',
      );
    }
    if (passthrough) router.tls = { passthrough: true };
    slots.push(router);
    ctx.out.tcp.routers[`${ep}.${route.name}`] = router;
    if (!hosts) break; // a route without hosts takes every connection
  }
  slots.forEach((r, k) => (r.priority = slots.length - k));
}
