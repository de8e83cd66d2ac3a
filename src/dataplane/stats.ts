/** Counters and gauges under Envoy's stat names (cluster.<name>.upstream_rq_total, …). */
export class Stats {
  readonly counters = new Map<string, number>();
  readonly gauges = new Map<string, number>();

  private readonly keys = new Map<string, Map<string | number, string>>();

  /** `prefix + suffix`, memoized: the hot path reuses one string (and its hash) per stat. */
  k(prefix: string, suffix: string | number): string {
    let m = this.keys.get(prefix);
    if (!m) this.keys.set(prefix, (m = new Map()));
    let s = m.get(suffix);
    if (s === undefined)
      m.set(suffix, (s = typeof suffix === 'number' ? `${prefix}${suffix}` : prefix + suffix));
    return s;
  }

  private readonly keysXX = new Map<string, string[]>();

  /** `prefix + N + 'xx'` (a response class), memoized. */
  kxx(prefix: string, n: number): string {
    let a = this.keysXX.get(prefix);
    if (!a) this.keysXX.set(prefix, (a = []));
    return (a[n] ??= `${prefix}${n}xx`);
  }

  inc(name: string, n = 1): void {
    this.counters.set(name, (this.counters.get(name) ?? 0) + n);
  }

  gauge(name: string, delta: number): void {
    this.gauges.set(name, (this.gauges.get(name) ?? 0) + delta);
  }

  setGauge(name: string, v: number): void {
    this.gauges.set(name, v);
  }

  get(name: string): number {
    return this.counters.get(name) ?? this.gauges.get(name) ?? 0;
  }

  /** Envoy's /stats text: `name: value`, sorted. */
  text(): string {
    const all = [...this.counters, ...this.gauges].sort((a, b) => (a[0] < b[0] ? -1 : 1));
    return all.map(([k, v]) => `${k}: ${v}\n`).join('');
  }

  json(): { stats: { name: string; value: number }[] } {
    const all = [...this.counters, ...this.gauges].sort((a, b) => (a[0] < b[0] ? -1 : 1));
    return { stats: all.map(([name, value]) => ({ name, value })) };
  }

  /** Prometheus exposition with Envoy's tag extraction for cluster, HTTP and TCP prefixes and response codes. */
  prometheus(): string {
    const families = new Map<string, { type: string; lines: string[] }>();
    const add = (type: string, [name, v]: [string, number]) => {
      let metric: string;
      const labels: string[] = [];
      let m: RegExpExecArray | null;
      let rest = name;
      if ((m = /^cluster\.([^.]+)\.(.*)$/.exec(name))) {
        labels.push(`envoy_cluster_name="${m[1]}"`);
        rest = `cluster.${m[2]}`;
      } else if ((m = /^http\.([^.]+)\.(.*)$/.exec(name))) {
        labels.push(`envoy_http_conn_manager_prefix="${m[1]}"`);
        rest = `http.${m[2]}`;
      } else if ((m = /^tcp\.([^.]+)\.(.*)$/.exec(name))) {
        labels.push(`envoy_tcp_prefix="${m[1]}"`);
        rest = `tcp.${m[2]}`;
      }
      if ((m = /^(.*_rq)_(\d{3})$/.exec(rest))) {
        labels.push(`envoy_response_code="${m[2]}"`);
        rest = m[1]!;
      } else if ((m = /^(.*_rq)_(\d)xx$/.exec(rest))) {
        labels.push(`envoy_response_code_class="${m[2]}"`);
        rest = `${m[1]}_xx`;
      }
      metric = `envoy_${rest.replace(/[^a-zA-Z0-9_]/g, '_')}`;
      let f = families.get(metric);
      if (!f) families.set(metric, (f = { type, lines: [] }));
      f.lines.push(`${metric}{${labels.join(',')}} ${v}`);
      metric = '';
    };
    for (const e of this.counters) add('counter', e);
    for (const e of this.gauges) add('gauge', e);
    return [...families]
      .sort((a, b) => (a[0] < b[0] ? -1 : 1))
      .map(([name, f]) => `# TYPE ${name} ${f.type}\n${f.lines.sort().join('\n')}\n`)
      .join('');
  }
}
