import type { Stats } from '../admin/stats.js';

/**
 * Outlier detection (passive health checking) as Envoy's OutlierDetection: consecutive 5xx,
 * consecutive gateway failures, success rate and failure percentage, with ejection times that grow
 * with each ejection and max_ejection_percent. Local origin errors (connect failure, reset,
 * timeout) count as gateway errors (split_external_local_origin_errors is not implemented).
 */
export interface OutlierConfig {
  intervalMs: number;
  baseEjectionMs: number;
  maxEjectionMs: number;
  jitterMs: number;
  maxEjectionPercent: number;
  consecutive5xx: number;
  enforcingConsecutive5xx: number;
  consecutiveGatewayFailure: number;
  enforcingConsecutiveGatewayFailure: number;
  enforcingSuccessRate: number;
  successRateMinimumHosts: number;
  successRateRequestVolume: number;
  /** success_rate_stdev_factor / 1000. */
  successRateStdevFactor: number;
  failurePercentageThreshold: number;
  enforcingFailurePercentage: number;
  failurePercentageMinimumHosts: number;
  failurePercentageRequestVolume: number;
  /** successful_active_health_check_uneject_host. */
  unejectOnHealthCheck: boolean;
}

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function dur(d: unknown, dflt: number): number {
  return typeof d === 'string' ? Math.round(parseFloat(d.slice(0, -1)) * 1000) : dflt;
}

/** Envoy's defaults (outlier_detection.proto). */
export function outlierConfig(od: Obj): OutlierConfig {
  const n = (v: unknown, d: number) => (v === undefined || v === null ? d : Number(v));
  const base = dur(od.base_ejection_time, 30_000);
  return {
    intervalMs: dur(od.interval, 10_000),
    baseEjectionMs: base,
    maxEjectionMs: Math.max(dur(od.max_ejection_time, 300_000), base),
    jitterMs: dur(od.max_ejection_time_jitter, 0),
    maxEjectionPercent: n(od.max_ejection_percent, 10),
    consecutive5xx: n(od.consecutive_5xx, 5),
    enforcingConsecutive5xx: n(od.enforcing_consecutive_5xx, 100),
    consecutiveGatewayFailure: n(od.consecutive_gateway_failure, 5),
    enforcingConsecutiveGatewayFailure: n(od.enforcing_consecutive_gateway_failure, 0),
    enforcingSuccessRate: n(od.enforcing_success_rate, 100),
    successRateMinimumHosts: n(od.success_rate_minimum_hosts, 5),
    successRateRequestVolume: n(od.success_rate_request_volume, 100),
    successRateStdevFactor: n(od.success_rate_stdev_factor, 1900) / 1000,
    failurePercentageThreshold: n(od.failure_percentage_threshold, 85),
    enforcingFailurePercentage: n(od.enforcing_failure_percentage, 0),
    failurePercentageMinimumHosts: n(od.failure_percentage_minimum_hosts, 5),
    failurePercentageRequestVolume: n(od.failure_percentage_request_volume, 50),
    unejectOnHealthCheck: od.successful_active_health_check_uneject_host !== false,
  };
}

/** What the detector needs of a host (upstream.ts's Host). */
export interface OutlierHost {
  ejected: boolean;
  od?: HostOutlierState;
}

export class HostOutlierState {
  consecutive5xx = 0;
  consecutiveGw = 0;
  /** Requests and successes in the current interval. */
  total = 0;
  ok = 0;
  /** Ejection time multiplier: grows with each ejection, shrinks while the host stays healthy. */
  backoff = 0;
  ejectedAt = 0;
  unejectedAt = 0;
  jitter = 0;
  /** Success rate of the last interval (percent), -1 without enough requests (admin /clusters). */
  successRate = -1;
}

type Kind = 'consecutive_5xx' | 'consecutive_gateway_failure' | 'success_rate' | 'failure_percentage';

export class OutlierDetector {
  private readonly p: string;
  /** Of the last evaluation, -1 when there was none (admin /clusters, as Envoy's). */
  srAverage = -1;
  srThreshold = -1;

  constructor(
    readonly cfg: OutlierConfig,
    private readonly stats: Stats,
    clusterPrefix: string,
    private readonly hosts: () => OutlierHost[],
    private readonly changed: () => void,
  ) {
    this.p = `${clusterPrefix}outlier_detection.`;
  }

  private state(h: OutlierHost): HostOutlierState {
    return (h.od ??= new HostOutlierState());
  }

  /** One response (or local failure, as 503) from host. */
  report(h: OutlierHost, status: number): void {
    const s = this.state(h);
    const c = this.cfg;
    s.total++;
    if (status < 500) {
      s.ok++;
      s.consecutive5xx = 0;
      s.consecutiveGw = 0;
      return;
    }
    if (status === 502 || status === 503 || status === 504) {
      if (++s.consecutiveGw === c.consecutiveGatewayFailure)
        this.consecutive(h, 'consecutive_gateway_failure');
    } else s.consecutiveGw = 0;
    if (++s.consecutive5xx === c.consecutive5xx) this.consecutive(h, 'consecutive_5xx');
  }

  private consecutive(h: OutlierHost, kind: Kind): void {
    if (h.ejected) return;
    this.stats.inc(`${this.p}ejections_detected_${kind}`);
    this.eject(h, kind);
    const s = this.state(h);
    if (kind === 'consecutive_5xx') s.consecutive5xx = 0;
    else s.consecutiveGw = 0;
  }

  private enforcing(kind: Kind): number {
    const c = this.cfg;
    switch (kind) {
      case 'consecutive_5xx':
        return c.enforcingConsecutive5xx;
      case 'consecutive_gateway_failure':
        return c.enforcingConsecutiveGatewayFailure;
      case 'success_rate':
        return c.enforcingSuccessRate;
      case 'failure_percentage':
        return c.enforcingFailurePercentage;
    }
  }

  /** As Envoy: ejects while the hosts already ejected are under max_ejection_percent. */
  private eject(h: OutlierHost, kind: Kind): void {
    const hosts = this.hosts();
    let active = 0;
    for (const x of hosts) if (x.ejected) active++;
    if ((100 * active) / hosts.length >= Math.min(100, this.cfg.maxEjectionPercent)) {
      this.stats.inc(`${this.p}ejections_overflow`);
      return;
    }
    if (!(Math.random() * 100 < this.enforcing(kind))) return;
    const s = this.state(h);
    h.ejected = true;
    s.ejectedAt = Date.now();
    s.jitter = this.cfg.jitterMs ? Math.random() * this.cfg.jitterMs : 0;
    if (s.backoff * this.cfg.baseEjectionMs < this.cfg.maxEjectionMs + this.cfg.baseEjectionMs) s.backoff++;
    this.stats.inc(`${this.p}ejections_enforced_total`);
    this.stats.inc(`${this.p}ejections_enforced_${kind}`);
    this.stats.gauge(`${this.p}ejections_active`, 1);
    this.changed();
  }

  private uneject(h: OutlierHost, now: number): void {
    const s = this.state(h);
    h.ejected = false;
    s.unejectedAt = now;
    s.consecutive5xx = 0;
    s.consecutiveGw = 0;
    this.stats.gauge(`${this.p}ejections_active`, -1);
  }

  /** An active health check passed: as Envoy (successful_active_health_check_uneject_host), the host returns. */
  healthCheckPassed(h: OutlierHost): void {
    if (!h.ejected || !this.cfg.unejectOnHealthCheck) return;
    this.uneject(h, Date.now());
    this.changed();
  }

  /** The interval timer: returns hosts whose ejection time is over, then success rate and failure percentage. */
  tick(now = Date.now()): void {
    const c = this.cfg;
    const hosts = this.hosts();
    let changed = false;
    const counts: { h: OutlierHost; total: number; ok: number }[] = [];
    for (const h of hosts) {
      const s = this.state(h);
      if (h.ejected) {
        const t = Math.min(c.baseEjectionMs * s.backoff, c.maxEjectionMs) + s.jitter;
        if (now - s.ejectedAt >= t) {
          this.uneject(h, now);
          changed = true;
        }
      } else {
        s.successRate =
          s.total > 0 && s.total >= Math.min(c.successRateRequestVolume, c.failurePercentageRequestVolume)
            ? (100 * s.ok) / s.total
            : -1;
        if (s.backoff > 0 && s.unejectedAt && now - s.unejectedAt >= c.baseEjectionMs) {
          s.backoff--; // as Envoy: one step per interval once a base ejection time has passed
        }
        counts.push({ h, total: s.total, ok: s.ok });
      }
      s.total = 0;
      s.ok = 0;
    }
    if (changed) this.changed();
    this.srAverage = -1;
    this.srThreshold = -1;
    if (hosts.length < c.successRateMinimumHosts && hosts.length < c.failurePercentageMinimumHosts) return;
    const sr = counts.filter((x) => x.total > 0 && x.total >= c.successRateRequestVolume);
    if (sr.length && sr.length >= c.successRateMinimumHosts) {
      const rates = sr.map((x) => (100 * x.ok) / x.total);
      const mean = rates.reduce((a, b) => a + b, 0) / rates.length;
      const variance = rates.reduce((a, r) => a + (r - mean) ** 2, 0) / rates.length;
      const threshold = mean - c.successRateStdevFactor * Math.sqrt(variance);
      this.srAverage = mean;
      this.srThreshold = threshold;
      sr.forEach((x, i) => {
        if (rates[i]! < threshold && !x.h.ejected) {
          this.stats.inc(`${this.p}ejections_detected_success_rate`);
          this.eject(x.h, 'success_rate');
        }
      });
    }
    const fp = counts.filter((x) => x.total > 0 && x.total >= c.failurePercentageRequestVolume);
    if (fp.length && fp.length >= c.failurePercentageMinimumHosts) {
      for (const x of fp) {
        if (100 - (100 * x.ok) / x.total >= c.failurePercentageThreshold && !x.h.ejected) {
          this.stats.inc(`${this.p}ejections_detected_failure_percentage`);
          this.eject(x.h, 'failure_percentage');
        }
      }
    }
  }
}
