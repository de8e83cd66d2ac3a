import type { FilterCallbacks } from '../http/filter.js';
import type { Ctx } from '../http/stream.js';
import type { Cluster } from '../upstream/cluster.js';
import { hashKey } from './hash-policy.js';
import { upstreamHead } from './request-headers.js';
import type { RouteMatch } from './route-match.js';
import { shadow } from './shadow.js';
import { UpstreamRequest } from './upstream-request.js';

/**
 * The cluster's max_requests circuit breaker: at the limit, Envoy's 503 overflow reply (true).
 */
export function overflowed(cb: FilterCallbacks, ctx: Ctx, cluster: Cluster, m: RouteMatch): boolean {
  if (cluster.activeRq < cluster.config.circuit.maxRequests) return false;
  cb.stats.inc(`${cluster.p}upstream_rq_pending_overflow`);
  cb.local(
    ctx,
    503,
    'upstream connect error or disconnect/reset before headers. reset reason: overflow',
    'UO',
    m,
    [['x-envoy-overloaded', 'true']],
  );
  return true;
}

/** The host choice's hash, for a RING_HASH cluster. */
export const ringHashKey = (ctx: Ctx, cluster: Cluster, m: RouteMatch): number | undefined =>
  cluster.config.lbPolicy === 'RING_HASH' ? hashKey(ctx, m.route) : undefined;

/** Sends a routed request to cluster (with its mirrors), retried and timed out as the route says. */
export function forward(cb: FilterCallbacks, ctx: Ctx, m: RouteMatch, cluster: Cluster): void {
  const a = m.route.action;
  if (a.kind !== 'route') return;
  if (overflowed(cb, ctx, cluster, m)) return;
  const req = ctx.req;
  const head = upstreamHead(cb, ctx, m, a.retry?.perTryTimeoutMs || a.timeoutMs);
  const noBody = req.method === 'HEAD';
  // mirrors: fire and forget, Host suffixed with -shadow as Envoy does
  for (const mp of a.mirrors) {
    if (mp.fraction < 1 && Math.random() >= mp.fraction) continue;
    const mc = cb.rt.clusters.get(mp.cluster);
    if (mc) shadow(mc, head.replace(/^host: ([^\r:]*)/m, '$&-shadow'), req.body, noBody);
  }
  const u = new UpstreamRequest(cb, ctx, m, cluster, head, noBody, ringHashKey(ctx, cluster, m));
  ctx.cancel = u;
  u.attempt();
}
