import { getHeader } from '../codec/http1.js';
import type { RouteConfig } from '../config/route.js';
import type { Ctx } from '../http/stream.js';
import { escapeRegex } from '../../model/regex.js';
import { hash32 } from '../upstream/lb.js';

/** The request's hash for RING_HASH (the route's hash_policy: header, cookie, source IP). */
export function hashKey(ctx: Ctx, route: RouteConfig): number | undefined {
  const a = route.action;
  if (a.kind !== 'route' || !a.hash.length) return undefined;
  let h: number | undefined;
  for (const p of a.hash) {
    let v: string | undefined;
    if (p.kind === 'header') v = getHeader(ctx.req.headers, p.name);
    else if (p.kind === 'source_ip') v = ctx.conn.remoteIp;
    else {
      const c = getHeader(ctx.req.headers, 'cookie');
      const m = c ? new RegExp(`(?:^|;\\s*)${escapeRegex(p.name)}=([^;]*)`).exec(c) : null;
      v = m?.[1];
    }
    if (v === undefined) continue;
    const x = hash32(v);
    h = h === undefined ? x : (((h << 1) | (h >>> 31)) ^ x) >>> 0;
    if (p.terminal) break;
  }
  return h;
}
