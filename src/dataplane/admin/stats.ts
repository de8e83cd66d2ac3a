/** Which stat names the admin's `?filter=` keeps (an RE2 regex matched anywhere in the name). */
export interface StatFilter {
  test(name: string): boolean;
}

/** One counter or gauge. The hot path keeps a reference and adds to `value` directly. */
export class Stat {
  value = 0;
  constructor(readonly name: string) {}
}

/** Counters and gauges under Envoy's stat names (cluster.<name>.upstream_rq_total, …). */
export class Stats {
  private readonly counterMap = new Map<string, Stat>();
  private readonly gaugeMap = new Map<string, Stat>();

  /** The counter called name (created at 0, as Envoy lists counters nothing has counted yet). */
  counter(name: string): Stat {
    let s = this.counterMap.get(name);
    if (!s) this.counterMap.set(name, (s = new Stat(name)));
    return s;
  }

  gaugeStat(name: string): Stat {
    let s = this.gaugeMap.get(name);
    if (!s) this.gaugeMap.set(name, (s = new Stat(name)));
    return s;
  }

  inc(name: string, n = 1): void {
    this.counter(name).value += n;
  }

  gauge(name: string, delta: number): void {
    this.gaugeStat(name).value += delta;
  }

  setGauge(name: string, v: number): void {
    this.gaugeStat(name).value = v;
  }

  get(name: string): number {
    return this.counterMap.get(name)?.value ?? this.gaugeMap.get(name)?.value ?? 0;
  }

  private all(keep?: StatFilter): [string, number][] {
    const out: [string, number][] = [];
    for (const s of this.counterMap.values()) if (!keep || keep.test(s.name)) out.push([s.name, s.value]);
    for (const s of this.gaugeMap.values()) if (!keep || keep.test(s.name)) out.push([s.name, s.value]);
    return out.sort((a, b) => (a[0] < b[0] ? -1 : 1));
  }

  /** Envoy's /stats text: `name: value`, sorted (only the names `keep` accepts, if given). */
  text(keep?: StatFilter): string {
    return this.all(keep)
      .map(([k, v]) => `${k}: ${v}\n`)
      .join('');
  }

  json(keep?: StatFilter): { stats: { name: string; value: number }[] } {
    return { stats: this.all(keep).map(([name, value]) => ({ name, value })) };
  }

  /** Prometheus exposition with Envoy's tag extraction for cluster, HTTP and TCP prefixes and response codes. */
  prometheus(keep?: StatFilter): string {
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
    for (const s of this.counterMap.values())
      if (!keep || keep.test(s.name)) add('counter', [s.name, s.value]);
    for (const s of this.gaugeMap.values()) if (!keep || keep.test(s.name)) add('gauge', [s.name, s.value]);
    return [...families]
      .sort((a, b) => (a[0] < b[0] ? -1 : 1))
      .map(([name, f]) => `# TYPE ${name} ${f.type}\n${f.lines.sort().join('\n')}\n`)
      .join('');
  }
}
