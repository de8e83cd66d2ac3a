import { fraction, stringMatcher, type Obj, type StrMatch } from '../config/common.js';
import type { PathError } from '../config/supported.js';
import type { HttpFilterDefinition } from '../http/filter.js';
import type { Headers } from '../codec/http1.js';
import type { RouteRequest } from '../router/route-match.js';

/**
 * Envoy's CORS filter (envoy.filters.http.cors). The policy of a route is merged from its
 * CorsPolicy list, most specific first (route, then virtual host): each field from the first
 * policy that sets it, enabled/shadow from the first policy, as Envoy's CorsFilter does.
 */
interface CorsPolicyConfig {
  origins?: StrMatch[];
  allowMethods?: string;
  allowHeaders?: string;
  exposeHeaders?: string;
  maxAge?: string;
  allowCredentials?: boolean;
  forwardNotMatchingPreflights?: boolean;
  /** filter_enabled default_value as a fraction (unset: 1). */
  enabled?: number;
  /** shadow_enabled default_value as a fraction (unset: 0). */
  shadow?: number;
}

interface CorsPolicy {
  origins: StrMatch[];
  allowMethods: string;
  allowHeaders: string;
  exposeHeaders: string;
  maxAge: string;
  allowCredentials: boolean;
  forwardNotMatchingPreflights: boolean;
  enabled: number;
  shadow: number;
}

function mergeCors(list: CorsPolicyConfig[]): CorsPolicy | undefined {
  if (!list.length) return undefined;
  const first = <T>(f: (p: CorsPolicyConfig) => T | undefined, empty: (v: T) => boolean = () => false) => {
    for (const p of list) {
      const v = f(p);
      if (v !== undefined && !empty(v)) return v;
    }
    return undefined;
  };
  const blank = (s: string) => s === '';
  return {
    origins:
      first(
        (p) => p.origins,
        (o) => o.length === 0,
      ) ?? [],
    allowMethods: first((p) => p.allowMethods, blank) ?? '',
    allowHeaders: first((p) => p.allowHeaders, blank) ?? '',
    exposeHeaders: first((p) => p.exposeHeaders, blank) ?? '',
    maxAge: first((p) => p.maxAge, blank) ?? '',
    allowCredentials: first((p) => p.allowCredentials) ?? false,
    forwardNotMatchingPreflights: first((p) => p.forwardNotMatchingPreflights) ?? true,
    enabled: list[0]!.enabled ?? 1,
    shadow: list[0]!.shadow ?? 0,
  };
}

const hit = (fraction: number) => fraction >= 1 || (fraction > 0 && Math.random() < fraction);

/** What the filter decided for one request. */
type CorsDecision =
  | { kind: 'none' }
  /** Headers to set on the response (a simple request from an allowed origin). */
  | { kind: 'simple'; headers: Headers }
  /** A preflight the proxy answers itself (200 with these headers). */
  | { kind: 'preflight'; headers: Headers };

const NONE: CorsDecision = { kind: 'none' };

/** decodeHeaders of Envoy's CorsFilter; `count` receives origin_valid / origin_invalid. */
function corsDecide(
  pol: CorsPolicy,
  rr: RouteRequest,
  count: (stat: 'origin_valid' | 'origin_invalid') => void,
): CorsDecision {
  const enabled = hit(pol.enabled);
  const shadow = hit(pol.shadow);
  if (!enabled && !shadow) return NONE;
  const origin = rr.header('origin');
  if (!origin) return NONE;
  let allowed = false;
  for (const m of pol.origins)
    if (m('*') || m(origin)) {
      allowed = true;
      break;
    }
  count(allowed ? 'origin_valid' : 'origin_invalid');
  if (shadow && !enabled) return NONE;
  const simple: Headers = [];
  if (allowed) {
    simple.push(['access-control-allow-origin', origin]);
    if (pol.allowCredentials) simple.push(['access-control-allow-credentials', 'true']);
    if (pol.exposeHeaders) simple.push(['access-control-expose-headers', pol.exposeHeaders]);
  }
  const result: CorsDecision = allowed ? { kind: 'simple', headers: simple } : NONE;
  if (rr.method !== 'OPTIONS') return result;
  const method = rr.header('access-control-request-method');
  if (!method) return result;
  if (!allowed && pol.forwardNotMatchingPreflights) return result;
  const h: Headers = [];
  if (allowed) h.push(['access-control-allow-origin', origin]);
  if (pol.allowCredentials) h.push(['access-control-allow-credentials', 'true']);
  if (pol.allowMethods)
    h.push(['access-control-allow-methods', pol.allowMethods === '*' ? method : pol.allowMethods]);
  if (pol.allowHeaders)
    h.push([
      'access-control-allow-headers',
      pol.allowHeaders === '*' ? (rr.header('access-control-request-headers') ?? '') : pol.allowHeaders,
    ]);
  if (pol.maxAge) h.push(['access-control-max-age', pol.maxAge]);
  return { kind: 'preflight', headers: h };
}

/** encodeHeaders: the CORS headers replace any the response already has. */
function applyCors(h: Headers, cors: Headers): void {
  for (const [k] of cors) for (let i = h.length - 1; i >= 0; i--) if (h[i]![0] === k) h.splice(i, 1);
  for (const kv of cors) h.push(kv);
}

const CORS_POLICY = 'envoy.extensions.filters.http.cors.v3.CorsPolicy';

/** A route's or virtual host's CORS policy: typed_per_filter_config, and the deprecated `cors` field. */
function corsOf(
  o: Obj,
  p: string,
  errors: PathError[],
  legacy: Obj | undefined = o.cors,
  legacyPath = `${p}/cors`,
): { typed?: CorsPolicyConfig; legacy?: CorsPolicyConfig } {
  let typed: CorsPolicyConfig | undefined;
  for (const [fname, fc] of Object.entries((o.typed_per_filter_config ?? {}) as Record<string, Obj>))
    if (fc?.['@type'] === CORS_POLICY)
      typed = corsPolicy(fc, `${p}/typed_per_filter_config/${fname}`, errors);
  return { typed, legacy: legacy ? corsPolicy(legacy, legacyPath, errors) : undefined };
}

function corsPolicy(c: Obj, p: string, errors: PathError[]): CorsPolicyConfig {
  const nonEmpty = (v: unknown) => (v === undefined || v === '' ? undefined : String(v));
  return {
    origins: c.allow_origin_string_match
      ? (c.allow_origin_string_match as Obj[]).map((m, i) =>
          stringMatcher(m, `${p}/allow_origin_string_match/${i}`, errors),
        )
      : undefined,
    allowMethods: nonEmpty(c.allow_methods),
    allowHeaders: nonEmpty(c.allow_headers),
    exposeHeaders: nonEmpty(c.expose_headers),
    maxAge: nonEmpty(c.max_age),
    allowCredentials: c.allow_credentials === undefined ? undefined : Boolean(c.allow_credentials),
    forwardNotMatchingPreflights:
      c.forward_not_matching_preflights === undefined
        ? undefined
        : Boolean(c.forward_not_matching_preflights),
    enabled: c.filter_enabled ? fraction(c.filter_enabled.default_value, 0) : undefined,
    shadow: c.shadow_enabled ? fraction(c.shadow_enabled.default_value, 0) : undefined,
  };
}

export const CORS = 'envoy.extensions.filters.http.cors.v3.Cors';

const CORS_FIELDS = [
  'allow_origin_string_match',
  'allow_methods',
  'allow_headers',
  'expose_headers',
  'max_age',
  'allow_credentials',
  'filter_enabled',
  'shadow_enabled',
  'forward_not_matching_preflights',
];

type CorsOf = ReturnType<typeof corsOf>;

/** The CORS filter's entry in the registry: its policy is per route (and virtual host). */
export const corsFilter: HttpFilterDefinition<object> = {
  supported: {
    [CORS]: [],
    [CORS_POLICY]: CORS_FIELDS,
    // the deprecated `cors` field of a virtual host and of a route action
    'envoy.config.route.v3.CorsPolicy': CORS_FIELDS,
  },
  convert: () => ({}),
  create: (_config, cb, index) => ({
    // only routes with a policy; a preflight from an allowed origin is answered here
    decodeHeaders(ctx) {
      const pol = cb.routeOf(ctx)?.route.perFilter.get(CORS) as CorsPolicy | undefined;
      if (!pol) return 'continue';
      const d = corsDecide(pol, ctx, (s) => cb.stats.inc(`${cb.p}cors.${s}`));
      if (d.kind === 'preflight') {
        cb.local(ctx, 200, '', ctx.flags, undefined, d.headers);
        return 'stop';
      }
      if (d.kind === 'simple') (ctx.filterState ??= [])[index] = d.headers;
      return 'continue';
    },
    encodeHeaders(ctx, _status, h) {
      const cors = ctx.filterState?.[index] as Headers | undefined;
      if (cors) applyCors(h, cors);
    },
  }),
  perRoute: {
    filter: CORS,
    type: CORS_POLICY,
    label: 'CORS (CorsPolicy)',
    virtualHost: (vh, p, errors): CorsOf => corsOf(vh, p, errors),
    route(r, p, vh, action, errors) {
      // as Envoy: the per-filter policies (route, then virtual host); the deprecated cors fields only without them
      const vhCors = vh as CorsOf | undefined;
      const own = corsOf(r, p, errors, r.route?.cors as Obj | undefined, `${p}/route/cors`);
      const typed = [own.typed, vhCors?.typed].filter((x): x is CorsPolicyConfig => !!x);
      const legacy = [own.legacy, vhCors?.legacy].filter((x): x is CorsPolicyConfig => !!x);
      return action.kind === 'route' ? mergeCors(typed.length ? typed : legacy) : undefined;
    },
  },
};
