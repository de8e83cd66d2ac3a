import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readiness, reloadWarnings } from '../../src/live/proxies.js';
import { render } from '../../src/render.js';
import { exampleMesh } from '../support/meshes.js';

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

/*
 * How the watcher knows a proxy it started takes reload signals (the signal before it is tested
 * end to end in test/cli/watch-start.test.ts): NGINX by its pid file, which must be where the
 * rendered nginx.conf has NGINX write it, relative to the prefix the live folder is.
 */
describe('readiness', () => {
  it('nginx: the pid file the rendered nginx.conf names, in the live folder', () => {
    const out = render(exampleMesh('hello'), { targets: ['nginx'] }).outputs[0]!;
    const conf = out.files.find((f) => f.path === 'nginx.conf')!.contents;
    const pid = /^pid (\S+);$/m.exec(conf)?.[1];
    expect(pid).toBe('nginx.pid');
    expect(readiness('nginx', '/run/mesh/nginx')).toEqual({
      kind: 'pid-file',
      file: path.join('/run/mesh/nginx', pid!),
    });
  });

  it('haproxy and the data plane: the lines each prints once it serves', () => {
    const haproxy = readiness('haproxy', '/live');
    if (haproxy.kind !== 'line') throw new Error('haproxy says it loaded in a line');
    expect(haproxy.ready.test('[NOTICE]   (20683) : Loading success.')).toBe(true);
    expect(haproxy.failed!.test('[ALERT]    (20683) : Loading failure!')).toBe(true);
    expect(haproxy.ready.test('[NOTICE]   (20683) : New worker (20687) forked')).toBe(false);
    const envoy = readiness('envoy', '/live');
    if (envoy.kind !== 'line') throw new Error('the data plane says it serves in a line');
    expect(envoy.ready.test('meshgen proxy: serving /live/gateway.yaml on 127.0.0.1:8000')).toBe(true);
    expect(envoy.ready.test('meshgen proxy: cannot start: listen EADDRINUSE')).toBe(false);
  });
});
