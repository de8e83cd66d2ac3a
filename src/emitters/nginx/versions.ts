import type { VersionSupport } from '../versions.js';

/** From 1.25.1, HTTP/2 is the server's `http2 on` directive; before it, the `http2` listen flag. */
export const HTTP2_DIRECTIVE_SINCE = '1.25.1';

export const NGINX_VERSIONS: VersionSupport = {
  default: '1.30',
  oldest: '1.22',
  rules: [
    {
      since: '1.22',
      what: 'the oldest version: map, split_clients, mirror, proxy_next_upstream and the stream module meshgen writes',
      source: 'nginx src/http/modules (1.22)',
    },
    {
      since: HTTP2_DIRECTIVE_SINCE,
      what: 'an https frontend says `http2 on;` (the `listen ... http2` flag is deprecated and warned about); before 1.25.1 the directive does not exist and the flag is written',
      source:
        'nginx src/http/v2/ngx_http_v2_module.c ("http2" directive) and src/http/ngx_http_core_module.c (ngx_http_core_listen), commit aefd862ab',
    },
  ],
};
