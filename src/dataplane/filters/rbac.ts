import { rbacConfig, type Permission, type Principal, type RbacConfig } from '../config/rbac.js';
import type { HttpFilterDefinition } from '../http/filter.js';
import { headerMatches, type RouteRequest } from '../router/route-match.js';

/**
 * Envoy's RBAC filter (envoy.filters.http.rbac), and the policy engine the network RBAC filter
 * (network/rbac.ts) shares: ALLOW lets through requests some policy matches; DENY refuses them.
 */
export const RBAC = 'envoy.extensions.filters.http.rbac.v3.RBAC';

function permMatches(p: Permission, rr: RouteRequest): boolean {
  if ('any' in p) return true;
  if ('header' in p) return headerMatches(p.header, rr);
  if ('urlPath' in p) {
    const q = rr.path.indexOf('?');
    return p.urlPath(q < 0 ? rr.path : rr.path.slice(0, q));
  }
  if ('and' in p) return p.and.every((x) => permMatches(x, rr));
  if ('or' in p) return p.or.some((x) => permMatches(x, rr));
  return !permMatches(p.not, rr);
}

function principalMatches(p: Principal, rr: RouteRequest, peer: string[] | null): boolean {
  if ('any' in p) return true;
  if ('authenticated' in p) {
    if (!peer) return false;
    const m = p.authenticated;
    return m === null || peer.some((n) => m(n));
  }
  if ('header' in p) return headerMatches(p.header, rr);
  if ('and' in p) return p.and.every((x) => principalMatches(x, rr, peer));
  if ('or' in p) return p.or.some((x) => principalMatches(x, rr, peer));
  return !principalMatches(p.not, rr, peer);
}

/** RBAC: ALLOW lets through requests some policy matches; DENY refuses them. */
export function rbacAllows(r: RbacConfig, rr: RouteRequest, peer: string[] | null): boolean {
  const hit = r.policies.some(
    (pol) =>
      pol.permissions.some((x) => permMatches(x, rr)) &&
      pol.principals.some((x) => principalMatches(x, rr, peer)),
  );
  return r.action === 'ALLOW' ? hit : !hit;
}

/** The RBAC filter's entry in the registry (a filter without rules is left out of the chain). */
export const rbacFilter: HttpFilterDefinition<RbacConfig> = {
  supported: { [RBAC]: ['rules'] },
  convert: (tc, p) => (tc.rules ? rbacConfig(tc.rules, `${p}/rules`) : undefined),
  create: (config, cb) => ({
    decodeHeaders(ctx) {
      if (!rbacAllows(config, ctx, ctx.conn.principal)) {
        cb.stats.inc(`${cb.p}rbac.denied`);
        cb.local(ctx, 403, 'RBAC: access denied', 'RBAC');
        return 'stop';
      }
      cb.stats.inc(`${cb.p}rbac.allowed`);
      return 'continue';
    },
  }),
};
