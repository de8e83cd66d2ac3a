import type { AccessLogger } from './accesslog.js';
import type { Stats } from './admin/stats.js';
import type { Cluster } from './upstream/cluster.js';

/** What the network filters of one configuration share: its clusters, the stats, the access logs. */
export interface Runtime {
  clusters: Map<string, Cluster>;
  stats: Stats;
  logger(path: string): AccessLogger;
  /** Set while draining: responses carry `connection: close`. */
  draining: boolean;
}
