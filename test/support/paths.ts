/**
 * Paths that try to reach what an access rule denies through one it allows: with an allow rule for
 * `POST /refund*` and nothing for `/admin`, a proxy may read each of these as under /refund (as
 * sent, or as it normalizes it), yet an app that resolves it reaches /admin. Every proxy target must
 * refuse them, or pass them on only in a form the app reads as what the rule checked.
 */
export const TRAVERSALS: readonly string[] = [
  '/refund/../admin',
  '/refund/%2e%2e/admin',
  '/refund/%2E%2E/admin',
  '/refund/.%2e/admin',
  '/refund/..%2fadmin',
  '/refund/..%2Fadmin',
  '/refund/%2e%2e%2fadmin',
  '/refund%2f..%2fadmin',
  '/refund//../admin',
  '/refund/./../admin',
  '/REFUND/../admin',
  '/refund/..\\admin',
  '/refund/..%5cadmin',
  '/refund/..%5Cadmin',
  '/refund/x/../../admin?then=/refund',
  // under /refund once slashes are merged, under /admin to an app that keeps the empty segment
  '/admin//../refund/x',
];

const decode = (p: string) =>
  p.replace(/%([0-9a-f]{2})/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16)));

/** RFC 3986 remove_dot_segments on `/`-separated segments; `merge` drops empty segments first. */
function resolveDots(path: string, merge: boolean): string {
  const out: string[] = [];
  const segments = path.split('/').slice(1);
  segments.forEach((seg, i) => {
    const last = i === segments.length - 1;
    if (seg === '.' || seg === '..') {
      if (seg === '..' && out.length) out.pop();
      if (last) out.push('');
    } else if (!(merge && seg === '' && !last)) out.push(seg);
  });
  return `/${out.join('/')}`;
}

/**
 * The ways an app may read a path (the query dropped, case ignored): escapes decoded before dot
 * segments are resolved, `\` a separator, slashes merged or not; or dot segments resolved on the
 * path as sent and escapes decoded after.
 */
function appReadings(path: string): string[] {
  const bare = path.split('?')[0]!;
  const decoded = decode(bare).replace(/\\/g, '/');
  return [resolveDots(decoded, true), resolveDots(decoded, false), decode(resolveDots(bare, false))].map(
    (p) => p.toLowerCase(),
  );
}

/**
 * The requests an app received that it may read outside `prefix` (the rule allows `/refund*`: what
 * the app reads as anything else got past the rule).
 */
export function outside(seenPaths: readonly string[], prefix: string): string[] {
  return seenPaths.filter((p) => appReadings(p).some((r) => !r.startsWith(prefix.toLowerCase())));
}
