import { diagnostic, inFamily } from '../../model/diagnostics.js';
import type { ResolvedRoute, Retries } from '../../model/types.js';
import { TARGET, type EmitContext } from './context.js';
import { linkerdDuration } from './matches.js';

/**
 * Retries on a Service parent, as Linkerd reads them (policy-controller `parse_http_retry`):
 * `retry.linkerd.io/http` lists status codes, ranges, `5xx` or `gateway-error`;
 * `retry.linkerd.io/limit` is the number of retries (not tries), as the mesh counts them;
 * `retry.linkerd.io/timeout` bounds each try and a try that runs past it is retried. They are
 * annotations of the HTTPRoute, so routes with different retries need HTTPRoutes of their own.
 */
export function retryAnnotations(ctx: EmitContext, r: ResolvedRoute): Record<string, string> {
  const retries = r.retries;
  if (!retries) return {};
  const out: Record<string, string> = {};
  const statuses: string[] = [];
  for (const c of retries.on) {
    if (c === '5xx' || c === 'gateway-error') statuses.push(c);
    else if (c === 'retriable-4xx') statuses.push('409');
    else if (/^\d+$/.test(c)) statuses.push(c);
  }
  if (statuses.length) out['retry.linkerd.io/http'] = [...new Set(statuses)].join(',');
  out['retry.linkerd.io/limit'] = String(retries.attempts);
  if (retries.perTryTimeoutMs !== undefined)
    out['retry.linkerd.io/timeout'] = linkerdDuration(retries.perTryTimeoutMs);
  const connectionLevel = retries.on.filter(
    (c) => c === '5xx' || c === 'gateway-error' || c === 'connect-failure' || c === 'reset',
  );
  if (connectionLevel.length) {
    // the conditions named are not quoted: the routes naming the same ones are one family
    const named = connectionLevel.join(', ');
    ctx.diagnostics.push(
      inFamily(
        `linkerd: retries leave ${named} to the load balancer`,
        diagnostic(
          'MG3002',
          `route "${r.name}": Linkerd retries on response status and per-try timeout only; the connection failures and resets that ${named} also cover are left to its load balancer, and requests with bodies over 64KiB are not retried`,
          { pointer: `${r.pointer}/retries/on`, target: TARGET },
        ),
      ),
    );
  }
  if (
    retries.perTryTimeoutMs !== undefined &&
    !retries.on.some((c) => c === '5xx' || c === 'gateway-error' || c === 'reset')
  )
    ctx.diagnostics.push(
      diagnostic(
        'MG3002',
        `route "${r.name}": Linkerd always retries a try that runs past retry.linkerd.io/timeout, though retries.on names no condition that covers a per-try timeout`,
        { pointer: `${r.pointer}/retries/perTryTimeout`, target: TARGET },
      ),
    );
  return out;
}

/** Status codes for the Gateway API `retry.codes` (400-599) of a frontend route. */
export function retryCodes(retries: Retries): number[] {
  const codes = new Set<number>();
  for (const c of retries.on) {
    if (c === '5xx') for (let s = 500; s <= 599; s++) codes.add(s);
    else if (c === 'gateway-error') [502, 503, 504].forEach((s) => codes.add(s));
    else if (c === 'retriable-4xx') codes.add(409);
    else if (/^\d+$/.test(c)) codes.add(Number(c));
  }
  return [...codes].sort((a, b) => a - b);
}

/** A Gateway API duration (GEP-2257): up to four `<1-5 digits><unit>` parts, e.g. `1m30s`. */
export function gepDuration(ms: number): string {
  let rest = Math.round(ms);
  const parts: string[] = [];
  for (const [unit, size] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
    ['ms', 1],
  ] as const) {
    const n = Math.floor(rest / size);
    rest -= n * size;
    if (n) parts.push(`${n}${unit}`);
  }
  return parts.join('') || '0s';
}
