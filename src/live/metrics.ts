/** `metrics.prom`: the watcher's state in Prometheus' text format, for node_exporter's textfile collector. */

export interface WatchMetrics {
  generation: number;
  reloads: number;
  /** Endpoint changes applied over HAProxy's runtime API, without a reload. */
  runtimeUpdates: number;
  failures: number;
  lastSuccess: boolean;
  lastChangeMs: number;
  /** Endpoints per backend and version of the configuration serving. */
  endpoints: ReadonlyMap<string, number>;
}

/** Prometheus label values escape backslash, double quote and newline. */
const label = (v: string): string => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/** The text of metrics.prom. */
export function metricsText(m: WatchMetrics): string {
  const lines = [
    '# HELP meshgen_watch_generation The generation of the configuration serving (0: none yet).',
    '# TYPE meshgen_watch_generation gauge',
    `meshgen_watch_generation ${m.generation}`,
    '# HELP meshgen_watch_reloads_total Configurations written and reloaded.',
    '# TYPE meshgen_watch_reloads_total counter',
    `meshgen_watch_reloads_total ${m.reloads}`,
    "# HELP meshgen_watch_runtime_updates_total Endpoint changes applied over the proxy's runtime API, without a reload.",
    '# TYPE meshgen_watch_runtime_updates_total counter',
    `meshgen_watch_runtime_updates_total ${m.runtimeUpdates}`,
    '# HELP meshgen_watch_failures_total Changes refused: an invalid mesh, a failed check or reload.',
    '# TYPE meshgen_watch_failures_total counter',
    `meshgen_watch_failures_total ${m.failures}`,
    '# HELP meshgen_watch_last_success Whether the last change was applied (1) or refused (0).',
    '# TYPE meshgen_watch_last_success gauge',
    `meshgen_watch_last_success ${m.lastSuccess ? 1 : 0}`,
    '# HELP meshgen_watch_last_change_timestamp_seconds When the last change was handled.',
    '# TYPE meshgen_watch_last_change_timestamp_seconds gauge',
    `meshgen_watch_last_change_timestamp_seconds ${(m.lastChangeMs / 1000).toFixed(3)}`,
    '# HELP meshgen_watch_endpoints Endpoints per backend version in the configuration serving.',
    '# TYPE meshgen_watch_endpoints gauge',
  ];
  for (const [key, n] of [...m.endpoints].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const [backend, version] = key.split('/') as [string, string];
    lines.push(`meshgen_watch_endpoints{backend="${label(backend)}",version="${label(version)}"} ${n}`);
  }
  return lines.join('\n') + '\n';
}
