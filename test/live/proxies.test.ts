import { describe, expect, it } from 'vitest';
import { reloadWarnings } from '../../src/live/proxies.js';

/*
 * What `meshgen watch` says at the start about its reloads: NGINX before 1.27.4 with client
 * keep-alive on resets a request written into an idle keep-alive connection at the moment of a
 * reload (MG4030, with both remedies); nothing else does.
 */
describe('reloadWarnings', () => {
  it.each<Record<string, string>>([
    { version: '1.22' },
    { version: '1.22.1' },
    { version: '1.27.3' },
    { 'nginx.version': '1.26.2' },
  ])('nginx with client keep-alive at %j: MG4030, naming both remedies', (settings) => {
    const [d, ...rest] = reloadWarnings('nginx', settings);
    expect(rest).toEqual([]);
    expect(d).toMatchObject({ code: 'MG4030', severity: 'warning', target: 'nginx' });
    expect(d!.message).toContain(
      `nginx ${Object.values(settings)[0]} closes idle keep-alive client connections`,
    );
    expect(d!.hint).toContain('--set clientKeepalive=off');
    expect(d!.hint).toContain('NGINX 1.27.4 or later (keepalive_min_timeout');
  });

  it('says the same from 1.27.4 on when keepalive_min_timeout is left out', () => {
    expect(reloadWarnings('nginx', { version: '1.30', keepaliveMinTimeout: '0' }).map((d) => d.code)).toEqual(
      ['MG4030'],
    );
  });

  it.each<Record<string, string>>([
    { version: '1.22', clientKeepalive: 'off' },
    { version: '1.22', 'nginx.clientKeepalive': 'off' },
    { version: '1.27.4' },
    { version: '1.30', keepaliveMinTimeout: '1s' },
    {},
  ])('nothing for nginx at %j', (settings) => {
    expect(reloadWarnings('nginx', settings)).toEqual([]);
  });

  it.each(['haproxy', 'envoy'] as const)('nothing for %s', (target) => {
    expect(reloadWarnings(target, { version: '1.22' })).toEqual([]);
  });
});
