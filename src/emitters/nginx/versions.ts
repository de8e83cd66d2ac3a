import type { VersionSupport } from '../versions.js';
import { KEEPALIVE_MIN_TIMEOUT_SINCE } from './keepalive.js';

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
    {
      since: KEEPALIVE_MIN_TIMEOUT_SINCE,
      what: 'the http block says `keepalive_min_timeout` (`--set keepaliveMinTimeout=`, default 5s): on a reload the old workers answer the next request of a keep-alive client connection instead of closing it under the client; before 1.27.4 the directive does not exist (`--set clientKeepalive=off` is the remedy there)',
      source:
        'nginx src/http/ngx_http_core_module.c ("keepalive_min_timeout") and src/http/ngx_http_request.c (ngx_http_set_keepalive), commit c2ad2d100',
    },
  ],
};
