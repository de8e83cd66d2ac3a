import { word } from './syntax.js';

/**
 * What in a path an app may read differently from HAProxy's `path` sample, which routes and access
 * rules match as sent: a dot segment (`/../`, `/./`, or one at the end), an escaped dot, slash,
 * backslash or NUL, a backslash. `/refund/../admin`, `/refund/%2e%2e/admin`, `/refund/..%2fadmin`
 * and `/refund/..\admin` all start with `/refund` for HAProxy and are `/admin` to an app that resolves
 * them. HAProxy 2.6 could normalize them (`http-request normalize-uri path-strip-dotdot`, …), but
 * there `normalize-uri` is experimental (it needs `expose-experimental-directives`), and nothing in
 * it decodes `%2F`: such paths are refused instead, as Envoy's REJECT_REQUEST does escaped slashes.
 */
const AMBIGUOUS = String.raw`%2e|%2f|%5c|%00|\\|/\.\.?(/|$)`;

/** The first rule of every HTTP frontend: 400 for a path an app could read as another one. */
export const REFUSE_AMBIGUOUS_PATH = `http-request deny deny_status 400 if { path -m reg -i ${word(AMBIGUOUS)} }`;
