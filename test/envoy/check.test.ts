import { describe, expect, it } from 'vitest';
import { checkEnvoy } from '../../src/envoy/check.js';

function bootstrap(): Record<string, any> {
  return {
    static_resources: {
      clusters: [
        {
          name: 'a',
          connect_timeout: '1s',
          type: 'STATIC',
          load_assignment: {
            cluster_name: 'a',
            endpoints: [
              {
                lb_endpoints: [
                  { endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: 80 } } } },
                ],
              },
            ],
          },
        },
      ],
      listeners: [
        {
          name: 'l',
          address: { socket_address: { address: '127.0.0.1', port_value: 10000 } },
          filter_chains: [
            {
              filters: [
                {
                  name: 'envoy.filters.network.http_connection_manager',
                  typed_config: {
                    '@type':
                      'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
                    stat_prefix: 'ingress',
                    route_config: {
                      virtual_hosts: [
                        {
                          name: 'v',
                          domains: ['*'],
                          routes: [{ match: { prefix: '/' }, route: { cluster: 'a' } }],
                        },
                      ],
                    },
                    http_filters: [
                      {
                        name: 'envoy.filters.http.router',
                        typed_config: {
                          '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router',
                        },
                      },
                    ],
                  },
                },
              ],
            },
          ],
        },
      ],
    },
  };
}
const hcm = (b: Record<string, any>) =>
  b.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;

describe('checkEnvoy', () => {
  it('accepts a minimal valid bootstrap', () => {
    expect(checkEnvoy(bootstrap())).toEqual({ ok: true, errors: [], warnings: [] });
  });

  it('rejects an unknown field inside a typed_config, naming its path', () => {
    const b = bootstrap();
    hcm(b).route_config.virtual_hosts[0].routes[0].route.timeot = '1s';
    const r = checkEnvoy(b);
    expect(r.ok).toBe(false);
    expect(r.errors[0]).toMatch(
      /routes\/0\/route\/timeot: unknown field "timeot" in envoy.config.route.v3.RouteAction/,
    );
  });

  it.each([
    [
      'a bad enum',
      (b: any) => (b.static_resources.clusters[0].lb_policy = 'FASTEST'),
      /unknown enum value FASTEST/,
    ],
    [
      'a unit-less duration',
      (b: any) => (b.static_resources.clusters[0].connect_timeout = 5),
      /Duration must be a string/,
    ],
    [
      'a zero connect_timeout',
      (b: any) => (b.static_resources.clusters[0].connect_timeout = '0s'),
      /duration must be > 0s/,
    ],
    [
      'a port over 65535',
      (b: any) => (b.static_resources.listeners[0].address.socket_address.port_value = 70000),
      /must be <= 65535/,
    ],
    [
      'both prefix and path',
      (b: any) => (hcm(b).route_config.virtual_hosts[0].routes[0].match.path = '/x'),
      /only one of prefix, path/,
    ],
    ['a missing stat_prefix', (b: any) => delete hcm(b).stat_prefix, /stat_prefix: required field missing/],
    [
      'an unknown @type',
      (b: any) => (hcm(b).http_filters[0].typed_config['@type'] = 'type.googleapis.com/envoy.Nope'),
      /unknown or unbundled @type/,
    ],
    ['an empty cluster name', (b: any) => (b.static_resources.clusters[0].name = ''), /min_len/],
    [
      'a header value to add with CR and LF (a second header through the proxy)',
      (b: any) =>
        (hcm(b).route_config.response_headers_to_add = [
          { header: { key: 'x-res', value: 'b\r\nSet-Cookie: session=x' } },
        ]),
      /response_headers_to_add\/0\/header\/value: .* is not a valid header value/,
    ],
    [
      'a header name to add with a line break',
      (b: any) => (hcm(b).route_config.request_headers_to_add = [{ header: { key: 'x\ny', value: '1' } }]),
      /is not a valid header name/,
    ],
  ])('rejects %s', (_what, mutate, message) => {
    const b = bootstrap();
    mutate(b);
    const r = checkEnvoy(b);
    expect(r.ok).toBe(false);
    expect(r.errors.join('\n')).toMatch(message);
  });

  it('accepts proto JSON names as well as proto names', () => {
    const b = bootstrap();
    const c = b.static_resources.clusters[0];
    c.connectTimeout = c.connect_timeout;
    delete c.connect_timeout;
    expect(checkEnvoy(b).ok).toBe(true);
  });
});
