/** A case's expectations against what a target showed, real or simulated, and targets against each other. */
import { parseDuration } from '../model/duration.js';
import type { Observation, TestCase } from './types.js';

export interface Failure {
  readonly what: string;
  readonly expected: string;
  readonly observed: string;
}

/** The default tolerance of a share: five points. */
const DEFAULT_TOLERANCE = 0.05;

const show = (v: unknown): string =>
  v === undefined ? '(none)' : v === null ? '(absent)' : JSON.stringify(v);

/** Sums observed "backend/version" shares into the keys the case names ("backend" or "backend/version"). */
function shareOf(shares: Readonly<Record<string, number>>, key: string): number {
  return Object.entries(shares)
    .filter(([k]) => k === key || k.startsWith(key + '/'))
    .reduce((sum, [, v]) => sum + v, 0);
}

/** Every expectation of the case that the observation does not meet. */
export function compareExpectations(c: TestCase, o: Observation, simulated: boolean): Failure[] {
  const e = c.expect ?? {};
  const out: Failure[] = [];
  const check = (what: string, expected: unknown, observed: unknown) => {
    if (expected !== observed) out.push({ what, expected: show(expected), observed: show(observed) });
  };
  if (e.timeout) {
    check('status', 504, o.status);
    const within = parseDuration(e.timeout.within) ?? 0;
    if (!simulated && o.elapsedMs !== undefined && o.elapsedMs > within)
      out.push({
        what: 'answered within',
        expected: `${within} ms`,
        observed: `${Math.round(o.elapsedMs)} ms`,
      });
  }
  if (e.status !== undefined) check('status', e.status, o.status);
  if (e.denied !== undefined) check('denied', e.denied, o.denied === true);
  if (e.denied && e.backend === undefined) check('backend', null, o.backend ?? null);
  if (e.backend !== undefined) check('backend', e.backend, o.backend ?? null);
  if (e.version !== undefined) check('version', e.version, o.version);
  if (e.path !== undefined) check('path received', e.path, o.path);
  if (e.tries !== undefined) check('tries', e.tries, o.tries ?? 0);
  for (const [name, value] of Object.entries(e.requestHeaders ?? {}))
    check(`request header ${name}`, value, o.requestHeaders?.[name.toLowerCase()] ?? null);
  for (const [name, value] of Object.entries(e.responseHeaders ?? {}))
    check(`response header ${name}`, value, o.responseHeaders?.[name.toLowerCase()] ?? null);
  if (e.shares) {
    const tolerance = e.tolerance ?? DEFAULT_TOLERANCE;
    for (const [key, expected] of Object.entries(e.shares)) {
      const observed = shareOf(o.shares ?? {}, key);
      if (Math.abs(observed - expected) > tolerance + 1e-9)
        out.push({
          what: `share of ${key}`,
          expected: `${expected} ± ${tolerance}`,
          observed: String(Math.round(observed * 1000) / 1000),
        });
    }
  }
  return out;
}

/** A case without expectations: what is compared between targets. */
export function behaviourKey(o: Observation): string {
  return JSON.stringify({
    status: o.status,
    backend: o.backend ?? null,
    version: o.version ?? null,
    denied: o.denied === true,
    path: o.path ?? null,
  });
}
