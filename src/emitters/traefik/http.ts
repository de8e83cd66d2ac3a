import type { HeaderOps, ResolvedFrontend, ResolvedRoute } from '../../model/types.js';
import {
  accessDecision,
  callerIdentity,
  routeHosts,
  sameDecision,
  type AccessDecision,
} from '../../smartstack/index.js';
import { DENY, DENY_ALL, report, type Ctx } from './model.js';
import { accessRule, allOf, hostRule, matchRule } from './rules.js';
import { routeService } from './services.js';
import { goDuration, literalReplacement, quoteMeta } from './syntax.js';

type Obj = Record<string, unknown>;

/** One router to write: its rule and middlewares, in the mesh's first-match order. */
interface Slot {
  readonly name: string;
  readonly rule: string;
  readonly service: string;
  readonly middlewares: readonly string[];
}

/** Percent-escapes Traefik decodes before matching (all but RFC 3986's reserved characters and `%`). */
const DECODED_ESCAPE = /%(?!3A|2F|3F|23|5B|5D|40|21|24|26|27|28|29|2A|2B|2C|3B|3D|25)[0-9A-F]{2}/i;

/** The access decision for a route's traffic, the same for all its destinations or reported. */
function routeAccess(route: ResolvedRoute, ctx: Ctx): AccessDecision {
  const caller = callerIdentity(ctx.mesh, route, ctx.identity);
  const decisions = route.to
    .filter((t) => t.weight > 0)
    .map((t) => ({ backend: ctx.mesh.backendsByName.get(t.backend)!, to: t }))
    .map(({ backend }) => ({ backend, decision: accessDecision(backend, caller) }));
  const first = decisions[0]!;
  if (decisions.some((d) => !sameDecision(d.decision, first.decision)))
    report(
      ctx,
      'MG3037',
      `route "${route.name}": its destinations have different access rules for this caller; Traefik applies middlewares per router, before the split, so the rules of backend "${first.backend.name}" are applied to all of them`,
      `${route.pointer}/to`,
    );
  if (first.decision.kind === 'unknown-caller') {
    const b = first.backend;
    report(
      ctx,
      'MG3037',
      `${route.implicit ? `the implicit route of backend "${b.name}"` : `route "${route.name}"`}: cannot enforce the access rules of backend "${b.name}": its east-west callers are not known`,
      b.access.mode === 'rules' ? b.access.pointer : b.pointer,
      'render with --set identity=<backend> for the workload this node runs',
    );
  }
  return first.decision;
}

function headerOps(ops: HeaderOps, what: string, route: ResolvedRoute, ctx: Ctx): Record<string, string> {
  const out: Record<string, string> = {};
  const pointer = `${route.pointer}/headers/${what}`;
  for (const [name, value] of ops.set) {
    if (value === '')
      report(
        ctx,
        'MG3035',
        `route "${route.name}": Traefik's headers middleware removes a header set to the empty value: ${what} header "${name}" is removed, not set empty`,
        pointer,
      );
    out[name] = value;
  }
  for (const [name, value] of ops.add) {
    report(
      ctx,
      'MG3035',
      `route "${route.name}": Traefik's headers middleware sets headers and cannot append one: ${what} header "${name}" replaces the values present instead of adding to them`,
      pointer,
    );
    out[name] = value;
  }
  for (const name of ops.remove) out[name] = '';
  return out;
}

/** The middlewares of a route (apart from access and rewrite, which depend on the router). */
function routeMiddlewares(base: string, route: ResolvedRoute, ctx: Ctx): string[] {
  const mw = ctx.out.http.middlewares;
  const names: string[] = [];
  const request = headerOps(route.requestHeaders, 'request', route, ctx);
  if (route.rewrite?.host !== undefined) request['Host'] = route.rewrite.host;
  const response = headerOps(route.responseHeaders, 'response', route, ctx);
  if (Object.keys(request).length || Object.keys(response).length) {
    const headers: Obj = {};
    if (Object.keys(request).length) headers.customRequestHeaders = request;
    if (Object.keys(response).length) headers.customResponseHeaders = response;
    mw[`${base}.headers`] = { headers };
    names.push(`${base}.headers`);
  }
  const r = route.retries;
  if (r) {
    // Traefik's attempts count tries; the mesh counts retries
    mw[`${base}.retry`] = { retry: { attempts: r.attempts + 1 } };
    names.push(`${base}.retry`);
    const lost = r.on.filter((c) => c !== 'connect-failure' && c !== 'reset');
    if (lost.length)
      report(
        ctx,
        'MG3031',
        `route "${route.name}": Traefik retries only when the backend cannot be reached or fails before answering; it never retries on a response status, so ${lost.join(', ')} ${lost.length > 1 ? 'are' : 'is'} not kept`,
        `${route.pointer}/retries/on`,
      );
  }
  return names;
}

/** The timeout each try waits for response headers, and what is reported about it. */
function headerTimeout(route: ResolvedRoute, ctx: Ctx): number | undefined {
  const perTry = route.retries?.perTryTimeoutMs;
  const total = route.timeoutMs;
  if (perTry !== undefined) {
    report(
      ctx,
      'MG3030',
      `route "${route.name}": perTryTimeout on Traefik bounds each try's wait for response headers (responseHeaderTimeout ${goDuration(perTry)}), not the body`,
      `${route.pointer}/retries/perTryTimeout`,
    );
    if (total !== undefined)
      report(
        ctx,
        'MG3030',
        `route "${route.name}": Traefik has no per-route limit on the whole request: timeout ${goDuration(total)} is not kept (each try is bounded by perTryTimeout)`,
        `${route.pointer}/timeout`,
      );
    return perTry;
  }
  if (total === undefined) return undefined;
  report(
    ctx,
    'MG3030',
    route.retries
      ? `route "${route.name}": Traefik has no per-route limit on the whole request: timeout ${goDuration(total)} bounds each try's wait for response headers (responseHeaderTimeout), so tries together may take longer`
      : `route "${route.name}": timeout on Traefik bounds the wait for response headers (responseHeaderTimeout ${goDuration(total)}), not the body`,
    `${route.pointer}/timeout`,
  );
  return total;
}

/**
 * The routers of one HTTP entry point. Traefik tries routers by priority, highest first, and a
 * router without one gets the length of its rule (pkg/muxer/http/mux.go), which orders routes by
 * how long their rules are written, not by the mesh's order; equal priorities leave the order to
 * an unstable sort. Each router gets an explicit priority: the number of routers after it, plus
 * one, so the first match in the mesh is the first router Traefik tries.
 */
export function httpRouters(
  ep: string,
  routes: readonly ResolvedRoute[],
  frontend: ResolvedFrontend | undefined,
  ctx: Ctx,
): void {
  const slots: Slot[] = [];
  for (const route of routes) {
    const base = `${ep}.${route.name}`;
    const hosts = frontend ? routeHosts(route, frontend.hosts) : undefined;
    const host = hosts ? hostRule(hosts) : undefined;
    const service = routeService(
      base,
      route,
      { passthrough: false, headerTimeoutMs: headerTimeout(route, ctx) },
      ctx,
    );
    const shared = routeMiddlewares(base, route, ctx);
    const access = routeAccess(route, ctx);
    if (route.fault)
      report(
        ctx,
        'MG3032',
        `route "${route.name}": Traefik has no fault-injection middleware: the route's fault is left out`,
        `${route.pointer}/fault`,
        'test fault tolerance on a target that injects faults (envoy, istio)',
      );
    const entries = route.matches.length ? route.matches : [undefined];
    entries.forEach((m, i) => {
      const name = `${base}.${i}`;
      const middlewares = [...shared];
      if (route.rewrite?.pathPrefix !== undefined && m?.path?.kind === 'prefix') {
        ctx.out.http.middlewares[`${name}.rewrite`] = {
          replacePathRegex: {
            regex: `^${quoteMeta(m.path.value)}(.*)$`,
            replacement: `${literalReplacement(route.rewrite.pathPrefix)}$1`,
          },
        };
        middlewares.unshift(`${name}.rewrite`);
      }
      if (m?.path && m.path.kind !== 'regex' && DECODED_ESCAPE.test(m.path.value))
        report(
          ctx,
          'MG3039',
          `route "${route.name}": Traefik decodes percent-escapes of unreserved characters before matching paths, so path "${m.path.value}" never matches as written`,
          `${m.pointer}/path`,
          'write the character itself instead of its escape',
        );
      for (const h of m?.headers ?? [])
        if (h.name === 'host')
          report(
            ctx,
            'MG3039',
            `route "${route.name}": Go's HTTP server moves the Host header out of the headers Traefik's Header matchers read: the match on header "host" never matches`,
            `${m!.pointer}/headers`,
            "match hosts with the frontend's or the route's hosts",
          );
      const rule = allOf([host, m ? matchRule(m) : undefined]);
      if (access.kind === 'deny') {
        slots.push({ name, rule, service, middlewares: [DENY] });
      } else if (access.kind === 'some') {
        // allowed requests first; the rest of the route's requests meet the deny middleware
        slots.push({ name, rule: allOf([rule, accessRule(access.entries)]), service, middlewares });
        slots.push({ name: `${name}.denied`, rule, service, middlewares: [DENY] });
      } else slots.push({ name, rule, service, middlewares });
    });
  }
  if (slots.some((s) => s.middlewares.includes(DENY))) ctx.out.http.middlewares[DENY] = DENY_ALL;
  slots.forEach((s, k) => {
    const router: Obj = { entryPoints: [ep], rule: s.rule, priority: slots.length - k, service: s.service };
    if (s.middlewares.length) router.middlewares = s.middlewares;
    if (frontend?.protocol === 'https') router.tls = frontend.tls?.clientCa ? { options: ep } : {};
    ctx.out.http.routers[s.name] = router;
  });
}
