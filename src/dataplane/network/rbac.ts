import type { Stats } from '../admin/stats.js';
import type { RbacConfig } from '../config/rbac.js';
import { rbacAllows } from '../filters/rbac.js';
import type { RouteRequest } from '../router/route-match.js';

/** Network RBAC sees no HTTP request: header and path permissions never match. */
const NETWORK_REQUEST: RouteRequest = { method: '', path: '', authority: '', header: () => undefined };

/**
 * envoy.filters.network.rbac: the chain's RBAC filters in order, on the connection's peer
 * identities; false when one denies (the connection is then closed). Stats under `prefix`.
 */
export function networkRbacAllows(
  rules: RbacConfig[],
  peer: string[] | null,
  stats: Stats,
  prefix: string,
): boolean {
  for (const r of rules) {
    if (!rbacAllows(r, NETWORK_REQUEST, peer)) {
      stats.inc(`${prefix}rbac.denied`);
      return false;
    }
    stats.inc(`${prefix}rbac.allowed`);
  }
  return true;
}
