import { durationMs, fraction, type Obj } from '../config/common.js';
import type { HttpFilterDefinition } from '../http/filter.js';
import type { Ctx } from '../http/stream.js';

/**
 * Envoy's fault filter (envoy.filters.http.fault): a delay and an abort, each for a fraction of
 * the requests; a route's typed_per_filter_config HTTPFault replaces the filter's own.
 */
export const FAULT = 'envoy.extensions.filters.http.fault.v3.HTTPFault';

export interface FaultConfig {
  delay?: { ms: number; percent: number };
  abort?: { status: number; percent: number };
}

function faultConfig(tc: Obj): FaultConfig {
  return {
    delay: tc.delay
      ? { ms: durationMs(tc.delay.fixed_delay, 0), percent: fraction(tc.delay.percentage) }
      : undefined,
    abort: tc.abort
      ? { status: Number(tc.abort.http_status ?? 503), percent: fraction(tc.abort.percentage) }
      : undefined,
  };
}

/** The fault filter's entry in the registry. */
export const faultFilter: HttpFilterDefinition<FaultConfig> = {
  supported: {
    [FAULT]: ['delay', 'abort'],
    'envoy.extensions.filters.common.fault.v3.FaultDelay': ['fixed_delay', 'percentage'],
    'envoy.extensions.filters.http.fault.v3.FaultAbort': ['http_status', 'percentage'],
  },
  convert: (tc) => faultConfig(tc),
  create: (config, cb) => {
    /** An abort, if the dice say so (true: the filter answered). */
    const abort = (ctx: Ctx, fault: FaultConfig): boolean => {
      if (!fault.abort || Math.random() >= fault.abort.percent) return false;
      cb.stats.inc(`${cb.p}fault.aborts_injected`);
      cb.local(ctx, fault.abort.status, 'fault filter abort', ctx.flags === 'DI' ? 'DI,FI' : 'FI');
      return true;
    };
    return {
      decodeHeaders(ctx) {
        // as Envoy: the route's typed_per_filter_config replaces the filter's own configuration
        const fault = (cb.routeOf(ctx)?.route.perFilter.get(FAULT) as FaultConfig | undefined) ?? config;
        const delay = fault.delay;
        if (!delay || delay.ms <= 0 || Math.random() >= delay.percent || ctx.flags.includes('DI'))
          return abort(ctx, fault) ? 'stop' : 'continue';
        cb.stats.inc(`${cb.p}fault.delays_injected`);
        ctx.flags = 'DI';
        const t = setTimeout(() => {
          if (!ctx.done && !abort(ctx, fault)) cb.continueDecoding(ctx);
        }, delay.ms);
        ctx.cancel = { cancel: () => clearTimeout(t) };
        return 'stop';
      },
    };
  },
  perRoute: {
    filter: FAULT,
    type: FAULT,
    label: 'the fault filter (HTTPFault)',
    route(r) {
      let fault: FaultConfig | undefined;
      for (const fc of Object.values((r.typed_per_filter_config ?? {}) as Record<string, Obj>))
        if (fc?.['@type'] === FAULT) fault = faultConfig(fc);
      return fault;
    },
  },
};
