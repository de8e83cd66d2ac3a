import type { Cluster } from '../upstream/cluster.js';
import type { Stats } from './stats.js';

/** Where a listener is bound: with port 0, the port the OS picked. */
export interface BoundListener {
  name: string;
  host: string;
  port: number;
}

/**
 * What the admin endpoints read and change of the running proxy (the server implements it), so
 * that admin/ does not depend on the server that starts it.
 */
export interface AdminTarget {
  readonly state: 'LIVE' | 'DRAINING' | 'PRE_INITIALIZING';
  /** Set by /healthcheck/fail, cleared by /healthcheck/ok. */
  healthFailed: boolean;
  /** The node and the bootstrap as read (for /server_info and /config_dump). */
  readonly config: { node: { id: string; cluster: string }; raw: unknown };
  /** The body of /config_dump: the bootstrap and the resources loaded, with versions and times. */
  configDump(): unknown;
  readonly uptimeS: number;
  readonly stats: Stats;
  readonly clusters: Map<string, Cluster>;
  listeners(): BoundListener[];
}
