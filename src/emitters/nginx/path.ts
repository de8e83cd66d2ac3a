import { q } from './syntax.js';

/**
 * nginx matches locations, and this emitter's routes and access rules, on `$uri`: the path with
 * every escape decoded, `.` and `..` segments resolved and slashes merged, which is what an access
 * rule should read. Two gaps remain between it and the app:
 *
 * - a backslash is no separator to nginx on Unix, to many apps it is: `/refund/..\admin` (or
 *   `..%5c`) is under `/refund` in `$uri`, and `/admin` to such an app. Refused (400) in every HTTP
 *   server, before routing.
 * - `proxy_pass` without a URI sends the request line as the client wrote it, not `$uri`, so the app
 *   would resolve the path again, its own way. A `rewrite` to `$uri` (nginx escapes it again when it
 *   forwards a changed URI, query kept) sends what the rules read.
 */
export const REFUSE_BACKSLASH = `if ($uri ~ ${q('\\\\')}) { return 400 "bad path\\n"; }`;

/** The last rewrite directive of a route without a path rewrite of its own. */
export const FORWARD_NORMALIZED = 'rewrite ^ $uri break';
