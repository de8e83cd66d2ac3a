import { atLeast, type TargetVersion, type VersionSupport } from '../versions.js';

/**
 * The status codes `retry-on` accepts (HAProxy src/proxy.c, proxy_parse_retry_on): 401, 403, 404,
 * 408, 425 and 500-504 in 2.6; 429 from 3.1 on, 421 from 3.2 on. A code outside the list fails
 * `haproxy -c`.
 */
export function retryStatuses(version: TargetVersion): ReadonlySet<number> {
  const codes = [401, 403, 404, 408, 425, 500, 501, 502, 503, 504];
  if (atLeast(version, '3.1')) codes.push(429);
  if (atLeast(version, '3.2')) codes.push(421);
  return new Set(codes);
}

export const HAPROXY_VERSIONS: VersionSupport = {
  default: '3.4',
  oldest: '2.6',
  rules: [
    {
      since: '2.6',
      what: 'the oldest version: retry-on, http-request return, http-check send and the sample fetches meshgen writes',
      source: 'HAProxy doc/configuration.txt (2.6)',
    },
    {
      since: '3.1',
      what: 'retry-on accepts 429, so a route retrying status 429 keeps it',
      source:
        'HAProxy src/proxy.c (proxy_parse_retry_on), commit 0d142e075 "Add support of 429-Too-Many-Requests in retry-on status"',
    },
    {
      since: '3.2',
      what: 'retry-on accepts 421, so a route retrying status 421 keeps it',
      source:
        'HAProxy src/proxy.c (proxy_parse_retry_on), commit bc66d3198 "Add support of 421-Misdirected-Request in retry-on status"',
    },
  ],
};
