/**
 * The checks istiod's validating webhook runs on a VirtualService's HTTP routes that meshgen's output
 * can meet, ported from istio/istio (read at 86c9f01fd735, the commit the vendored CRDs come from,
 * and at the release tags named):
 *
 * - header values: pkg/config/validation/validation.go `ValidateHTTPHeaderValue` (control characters
 *   but tab refused) and pkg/config/validation/header_value_validator.go `validateHeaderValue`, a
 *   port of Envoy's source/common/router/header_parser.cc: `%` starts an operator, `%%` is a literal;
 * - header operation names: validation.go `ValidateHTTPHeaderOperationName` (no Host in a request
 *   remove or any response operation) and virtualservice.go `validateAuthorityRewrite` (the authority
 *   set once only);
 * - match header names: validation.go `ValidateHTTPHeaderNameOrJwtClaimRoute`, whose regex is
 *   `^[-_A-Za-z0-9]+$` in 1.23.0 to 1.24.3 (PR 51343) and the RFC 9110 token from 1.24.4 and 1.25.0
 *   on (PR 54602, PR 55023); 1.22.0's `ValidateHTTPHeaderName` refuses only the empty name;
 * - retryOn: pkg/config/validation/agent/validation.go `ValidateHTTPRetry`: each entry an Envoy retry
 *   policy or a code Go's `http.StatusText` knows (net/http/status.go); attempts 0 with a retryOn or
 *   perTryTimeout refused.
 */

type Version = readonly [number, number, number];

function versionOf(text: string): Version {
  const [a = 0, b = 0, c = 0] = text.split('.').map(Number);
  return [a, b, c];
}

function before(v: Version, w: Version): boolean {
  return v[0] - w[0] < 0 || (v[0] === w[0] && (v[1] - w[1] < 0 || (v[1] === w[1] && v[2] < w[2])));
}

/** header_value_validator.go, validateHeaderValue, state for state. */
export function envoyHeaderFormatError(value: string): string | undefined {
  if (value === '') return undefined;
  type State = 'literal' | 'name' | 'array' | 'string' | 'instring' | 'delim' | 'argsEnd' | 'varEnd';
  let state: State = 'literal';
  for (let pos = 0; pos < value.length; pos++) {
    const ch = value[pos];
    const hasNext = pos + 1 < value.length;
    switch (state) {
      case 'literal':
        if (ch !== '%') break;
        if (!hasNext) return 'Un-escaped %';
        if (value[pos + 1] === '%') {
          pos++;
          break;
        }
        state = 'name';
        break;
      case 'name':
        if (ch === '%') state = 'literal';
        else if (ch === '(') state = 'array';
        break;
      case 'array':
        if (ch === '[') state = 'string';
        else if (ch !== ' ') state = 'instring';
        break;
      case 'delim':
        if (ch === ',') state = 'string';
        else if (ch === ']') state = 'argsEnd';
        else if (ch !== ' ') return "Expecting ',', ']', or whitespace";
        break;
      case 'string':
        if (ch === '"') state = 'instring';
        else if (ch !== ' ') return "Expecting '\"'";
        break;
      case 'instring':
        if (ch === '\\') {
          if (!hasNext) return 'Un-terminated backslash in JSON string';
          pos++;
        } else if (ch === ')') state = 'varEnd';
        else if (ch === '"') state = 'delim';
        break;
      case 'argsEnd':
        if (ch === ')') state = 'varEnd';
        else if (ch !== ' ') return "Expecting ')' or whitespace";
        break;
      case 'varEnd':
        if (ch === '%') state = 'literal';
        else if (ch !== ' ') return "Expecting '%' or whitespace";
        break;
    }
  }
  return state === 'literal' ? undefined : 'Un-terminated variable expression';
}

/** validation.go, ValidateHTTPHeaderValue. */
function headerValueError(value: string): string | undefined {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000A-\u001F\u007F]/.test(value)) return `header value ${value} is invalid`;
  return envoyHeaderFormatError(value);
}

/** Go's net/http/status.go: the codes StatusText knows. */
const GO_STATUS_TEXT = new Set([
  100, 101, 102, 103, 200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 307,
  308, 400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 418, 421,
  422, 423, 424, 425, 426, 428, 429, 431, 451, 500, 501, 502, 503, 504, 505, 506, 507, 508, 510, 511,
]);

/** agent/validation.go, supportedRetryOnPolicies. */
const RETRY_POLICIES = new Set([
  '5xx',
  'gateway-error',
  'reset',
  'reset-before-request',
  'connect-failure',
  'retriable-4xx',
  'refused-stream',
  'retriable-status-codes',
  'retriable-headers',
  'envoy-ratelimited',
  'http3-post-connect-failure',
  'cancelled',
  'deadline-exceeded',
  'internal',
  'resource-exhausted',
  'unavailable',
]);

/** agent/validation.go, ValidateHTTPRetry (strconv.Atoi of a word is 0, which StatusText does not know). */
export function retryErrors(retries: {
  attempts?: number;
  retryOn?: string;
  perTryTimeout?: string;
}): string[] {
  const errors: string[] = [];
  if (
    (retries.attempts ?? 0) === 0 &&
    (retries.perTryTimeout !== undefined || (retries.retryOn ?? '') !== '')
  )
    errors.push('http retry policy configured when attempts are set to 0 (disabled)');
  if (retries.retryOn)
    for (const policy of retries.retryOn.split(',')) {
      const code = /^[+-]?\d+$/.test(policy) ? Number(policy) : 0;
      if (!GO_STATUS_TEXT.has(code) && !RETRY_POLICIES.has(policy))
        errors.push(`"${policy}" is not a valid retryOn policy`);
    }
  return errors;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~A-Za-z0-9]+$/;

/** The match header names istiod accepts at a version. */
function matchHeaderNameError(name: string, version: string): string | undefined {
  const v = versionOf(version);
  if (name === '') return 'header name cannot be empty';
  if (before(v, [1, 23, 0])) return undefined;
  const strict = before(v, [1, 24, 4]);
  return (strict ? /^[-_A-Za-z0-9]+$/ : TOKEN).test(name)
    ? undefined
    : `header name ${name} is not a valid header name`;
}

type Ops = { set?: Record<string, string>; add?: Record<string, string>; remove?: string[] };

/** The errors istiod gives one entry of a VirtualService's `http` list, at a version. */
function httpRouteErrors(route: Record<string, any>, version: string): string[] {
  const errors: string[] = [];
  const request: Ops = route.headers?.request ?? {};
  const response: Ops = route.headers?.response ?? {};
  const isHost = (n: string) => n.toLowerCase() === 'host';
  const isAuthority = (n: string) => isHost(n) || n.toLowerCase() === ':authority';
  for (const [name, value] of [...Object.entries(request.set ?? {}), ...Object.entries(request.add ?? {})]) {
    if (name === '') errors.push('header name cannot be empty');
    if (name.startsWith(':') && !isAuthority(name)) errors.push(`invalid header ${name}`);
    const e = headerValueError(value);
    if (e) errors.push(`request header ${name}: ${e}`);
  }
  for (const name of request.remove ?? [])
    if (isHost(name) || name.startsWith(':')) errors.push(`remove ${name}`);
  for (const [name, value] of [
    ...Object.entries(response.set ?? {}),
    ...Object.entries(response.add ?? {}),
  ]) {
    if (isHost(name) || name.startsWith(':')) errors.push(`response header ${name}`);
    const e = headerValueError(value);
    if (e) errors.push(`response header ${name}: ${e}`);
  }
  for (const name of response.remove ?? [])
    if (isHost(name) || name.startsWith(':')) errors.push(`remove ${name}`);
  // validateAuthorityRewrite
  let authority: string | undefined = route.rewrite?.authority || undefined;
  for (const [name, value] of [...Object.entries(request.set ?? {}), ...Object.entries(request.add ?? {})]) {
    if (!isAuthority(name)) continue;
    if (authority !== undefined) errors.push('authority header cannot be set multiple times');
    authority = value;
  }
  for (const m of route.match ?? [])
    for (const name of Object.keys(m.headers ?? {})) {
      const e = matchHeaderNameError(name, version);
      if (e) errors.push(e);
    }
  if (route.retries) errors.push(...retryErrors(route.retries));
  return errors;
}

/** Every error of every HTTP route of a VirtualService spec. */
export function virtualServiceErrors(spec: Record<string, any>, version: string): string[] {
  const errors: string[] = [];
  if (!spec.http?.length && !spec.tcp?.length && !spec.tls?.length)
    errors.push('http, tcp or tls must be provided in virtual service');
  for (const r of spec.http ?? []) errors.push(...httpRouteErrors(r, version));
  return errors;
}
