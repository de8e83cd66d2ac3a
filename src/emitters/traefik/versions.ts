import type { VersionSupport } from '../versions.js';

export const TARGET = 'traefik';

/**
 * meshgen writes Traefik v3's configuration: the v3 rule syntax (PathRegexp, HeaderRegexp,
 * QueryRegexp, Query with key and value), `ipAllowList`, `serversTransports` with `peerCertURI`
 * and TCP servers transports. Traefik v2 reads none of that the same way, and is refused.
 */
export const TRAEFIK_VERSIONS: VersionSupport = {
  default: '3.7',
  oldest: '3.0',
  rules: [
    {
      since: '3.0',
      what: 'the oldest version: the v3 rule syntax (PathRegexp, HeaderRegexp, QueryRegexp, Query(key, value)), ipAllowList, TCP servers transports and servers with tls',
      source:
        'Traefik docs/content/migration/v2-to-v3.md; pkg/muxer/http/matcher.go; docs/content/reference/dynamic-configuration/file.yaml',
    },
  ],
};
