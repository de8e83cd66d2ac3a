import type { Stats } from '../admin/stats.js';
import type { ClusterConfig } from '../config/cluster.js';
import { Cluster } from './cluster.js';

/**
 * The cluster manager of one configuration: its clusters by name, started together (endpoints
 * resolved, first health checks run) and stopped together when the configuration is retired.
 */
export async function startClusters(configs: ClusterConfig[], stats: Stats): Promise<Map<string, Cluster>> {
  const clusters = new Map<string, Cluster>();
  for (const c of configs) clusters.set(c.name, new Cluster(c, stats));
  await Promise.all([...clusters.values()].map((c) => c.start()));
  return clusters;
}

export function stopClusters(clusters: Map<string, Cluster>): void {
  for (const c of clusters.values()) c.stop();
}
