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

/**
 * A shadow of the request: at once for a whole body; for a streamed one, once it has all arrived,
 * if it stayed within the buffer limit (else it is not sent: retry_or_shadow_abandoned, as Envoy).
 */
function mirror(cb: FilterCallbacks, mc: Cluster, head: string, ctx: Ctx, noBody: boolean): void {
  const body = ctx.req.bodyStream;
  if (body === undefined) return shadow(mc, head, ctx.req.body, noBody);
  body.keep(() => cb.stats.inc(`${mc.p}retry_or_shadow_abandoned`));
  body.whenEnded(() => {
    const whole = body.whole();
    if (whole === undefined) return;
    // the whole body goes with its length (the original may be chunked)
    shadow(
      mc,
      head.replace('transfer-encoding: chunked\r\n', `content-length: ${whole.length}\r\n`),
      whole,
      noBody,
    );
  });
}

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
    if (mc) mirror(cb, mc, head.replace(/^host: ([^\r:]*)/m, '$&-shadow'), ctx, noBody);
  }
  const u = new UpstreamRequest(cb, ctx, m, cluster, head, noBody, ringHashKey(ctx, cluster, m));
  ctx.cancel = u;
  u.attempt();
}
