/**
 * Paths that try to reach what an access rule denies through one it allows: with an allow rule for
 * `POST /refund*` and nothing for `/admin`, each of these starts with something a naive prefix
 * match reads as /refund, yet an app that resolves it reaches /admin. Every proxy target must
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
];

/**
 * The path as the most lenient app reads it: every escape decoded, `\` a separator, dot segments
 * resolved, slashes merged, case ignored (the query dropped).
 */
export function appReading(path: string): string {
  const bare = path.split('?')[0]!;
  const decoded = bare.replace(/%([0-9a-f]{2})/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
  const out: string[] = [];
  for (const seg of decoded.replace(/\\/g, '/').split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  return `/${out.join('/')}`.toLowerCase();
}

/**
 * The requests an app received that it reads outside `prefix` (the rule allows `/refund*`: what the
 * app read as anything else got past the rule).
 */
export function outside(seenPaths: readonly string[], prefix: string): string[] {
  return seenPaths.filter((p) => !appReading(p).startsWith(prefix.toLowerCase()));
}
