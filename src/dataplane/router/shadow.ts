import type { Cluster } from '../upstream/cluster.js';

/** A mirrored request: sent, its response read and dropped. */
export function shadow(cluster: Cluster, head: string, body: Buffer, noBody: boolean): void {
  const host = cluster.choose();
  if (!host) return;
  cluster.sRqTotal.value++;
  cluster.acquire(host, (err, conn) => {
    if (err || !conn) return;
    conn.send(
      head,
      body,
      {
        head: (h) => cluster.stats.inc(`${cluster.p}upstream_rq_${h.status}`),
        data: () => {},
        end: () => cluster.release(conn, conn.parser.keepAlive),
        error: () => {},
      },
      noBody,
    );
  });
}
