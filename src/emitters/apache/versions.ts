import type { VersionSupport } from '../versions.js';

export const APACHE_VERSIONS: VersionSupport = {
  default: '2.4.68',
  oldest: '2.4.30',
  rules: [
    {
      since: '2.4.30',
      what: 'the oldest version: SSLProxy* directives inside <Proxy> sections, mod_proxy_hcheck, RewriteCond expr and the rnd: RewriteMap meshgen writes',
      source: 'httpd CHANGES (2.4.30: "mod_ssl: Allow SSLProxy* directives in <Proxy> sections")',
    },
  ],
};
