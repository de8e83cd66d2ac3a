import { getHeader, type Headers } from '../codec/http1.js';
import type { FilterCallbacks, HttpFilterDefinition } from '../http/filter.js';
import type { Ctx } from '../http/stream.js';
import { forward } from '../router/forward.js';
import { pickWeighted, redirectLocation } from '../router/route-match.js';
import { connectionUpgrade, forwardUpgrade, upgradeAllowed } from '../router/upgrade.js';

/**
 * Envoy's router filter (envoy.filters.http.router), last in the chain: the request's route (matched
 * once, router/route-match.ts) answers directly, redirects, or sends the request to a cluster
 * (router/forward.ts), an upgrade request through its own connection (router/upgrade.ts).
 */
export const ROUTER = 'envoy.extensions.filters.http.router.v3.Router';

function route(cb: FilterCallbacks, ctx: Ctx): void {
  const m = cb.routeOf(ctx);
  if (!m) {
    cb.stats.inc(`${cb.p}no_route`);
    return cb.local(ctx, 404, '', 'NR');
  }
  const a = m.route.action;
  if (a.kind === 'direct') {
    cb.stats.inc(`${cb.p}rq_direct_response`);
    return cb.local(ctx, a.status, a.body ?? '', ctx.flags, m);
  }
  if (a.kind === 'redirect') {
    cb.stats.inc(`${cb.p}rq_redirect`);
    const h: Headers = [['location', redirectLocation(m.route, ctx, cb.scheme)]];
    return cb.local(ctx, a.status, '', ctx.flags, m, h);
  }
  const upgrade = getHeader(ctx.req.headers, 'upgrade');
  if (
    upgrade &&
    upgrade.toLowerCase() !== 'h2c' &&
    ctx.req.version !== 2 &&
    connectionUpgrade(ctx.req.headers)
  ) {
    // refused as Envoy when upgrade_configs do not enable them
    if (!upgradeAllowed(cb.cfg.upgrades, a.upgrades, upgrade)) {
      cb.stats.inc(`${cb.p}downstream_rq_ws_on_non_ws_route`);
      return cb.local(ctx, 403, '', ctx.flags, m);
    }
    const c = cb.rt.clusters.get(pickWeighted(a.clusters, a.totalWeight, Math.random()))!;
    return forwardUpgrade(cb, ctx, m, c, upgrade);
  }
  const name =
    a.clusters.length === 1 ? a.clusters[0]!.name : pickWeighted(a.clusters, a.totalWeight, Math.random());
  forward(cb, ctx, m, cb.rt.clusters.get(name)!);
}

/** The router filter's entry in the registry: the last filter, it sends the request upstream. */
export const routerFilter: HttpFilterDefinition<object> = {
  terminal: true,
  supported: { [ROUTER]: [] },
  convert: () => ({}),
  create: (_config, cb) => ({
    decodeHeaders(ctx) {
      route(cb, ctx);
      return 'stop';
    },
  }),
};
