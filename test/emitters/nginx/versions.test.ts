/**
 * What changes in nginx.conf with the NGINX release rendered for, proven with the binary on this
 * machine: the form written for its version passes its own check, and the form written for a newer
 * release names what it does not know.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { render } from '../../../src/render.js';
import { exampleMesh } from '../../support/meshes.js';
import { hasBinary } from '../../support/processes.js';
import { installedVersion } from '../../support/installed.js';
import { checkMesh } from '../../smartstack/examples.js';
import { hasNginxWithStream } from './stream-module.js';

const nginxReady = hasNginxWithStream(hasBinary('nginx'));

const file = (target: string, mesh: ReturnType<typeof exampleMesh>, settings: Record<string, string>) =>
  render(mesh, { targets: [target], settings }).outputs[0]!.files.find(
    (f) => f.path.endsWith('.cfg') || f.path.endsWith('.conf'),
  )!.contents;

describe('nginx versions: HTTP/2 on https frontends', () => {
  const shop = exampleMesh('shop');
  // nginx src/http/v2/ngx_http_v2_module.c gains the "http2" directive in 1.25.1 (commit aefd862ab),
  // and src/http/ngx_http_core_module.c warns that "listen ... http2" is deprecated from then on
  it.each(['1.22', '1.25.0'])('at %s writes the http2 listen flag', (version) => {
    const conf = file('nginx', shop, { version });
    expect(conf).toContain('listen 0.0.0.0:8443 ssl http2;');
    expect(conf).not.toMatch(/^\s+http2 on;$/m);
  });

  it.each(['1.25.1', '1.30', undefined])('at %s writes http2 on', (version) => {
    const conf = file('nginx', shop, version ? { version } : {});
    expect(conf).toContain('listen 0.0.0.0:8443 ssl;');
    expect(conf).toMatch(/^\s+http2 on;$/m);
  });

  (nginxReady ? it : it.skip)('the installed NGINX checks its own form and refuses a newer one', async () => {
    const installed = installedVersion('nginx')!;
    const nginxTest = (dir: string) => ['nginx', '-t', '-p', dir, '-c', path.join(dir, 'nginx.conf')];
    const own = await checkMesh('nginx', shop, nginxTest, { version: installed });
    expect(own.status, own.output).toBe(0);
    expect(own.output).not.toContain('deprecated');
    const [major, minor] = installed.split('.').map(Number);
    if (major === 1 && minor! < 25) {
      // 1.25.1: the first release with the directive, and none of the later ones nginx.conf gains
      const newer = await checkMesh('nginx', shop, nginxTest, { version: '1.25.1' });
      expect(newer.status).not.toBe(0);
      expect(newer.output).toContain('unknown directive "http2"');
    }
  });
});

describe('nginx versions: client keep-alive across reloads', () => {
  const hello = exampleMesh('hello');
  const run = (settings: Record<string, string>) => render(hello, { targets: ['nginx'], settings });
  /** The lines of nginx.conf's http block between the temp paths and the first map or server. */
  const keepaliveLines = (settings: Record<string, string>) => {
    const conf = file('nginx', hello, settings).split('\n');
    const from = conf.findIndex((l) => l.includes('scgi_temp_path')) + 1;
    return conf.slice(from, conf.indexOf('', from)).map((l) => l.trim());
  };

  // nginx src/http/ngx_http_core_module.c gains "keepalive_min_timeout" in 1.27.4 (commit c2ad2d100)
  it.each(['1.22', '1.27.3'])('at %s writes nothing by default: NGINX has no such directive', (version) => {
    expect(keepaliveLines({ version })).toEqual([]);
  });

  it.each(['1.27.4', '1.30', undefined])('at %s writes keepalive_min_timeout 5s', (version) => {
    const lines = keepaliveLines(version ? { version } : {});
    expect(lines.filter((l) => !l.startsWith('#'))).toEqual(['keepalive_min_timeout 5s;']);
    expect(lines[0]).toMatch(/^# on a reload, the old workers answer the next request/);
  });

  it.each([
    ['1500ms', 'keepalive_min_timeout 1500ms;'],
    ['1m', 'keepalive_min_timeout 60s;'],
    ['0', undefined],
  ])('keepaliveMinTimeout=%s at 1.27.4', (value, line) => {
    const lines = keepaliveLines({ version: '1.27.4', keepaliveMinTimeout: value });
    expect(lines.filter((l) => !l.startsWith('#'))).toEqual(line ? [line] : []);
  });

  it.each(['1.22', '1.27.4', '1.30'])(
    'clientKeepalive=off at %s writes keepalive_timeout 0 alone',
    (version) => {
      expect(keepaliveLines({ version, clientKeepalive: 'off' })).toEqual([
        '# clientKeepalive=off: one request per client connection, so that no reload closes an idle one',
        'keepalive_timeout 0;',
      ]);
    },
  );

  it('clientKeepalive=on is the default: the same output as without it', () => {
    for (const version of ['1.22', '1.30'])
      expect(file('nginx', hello, { version, clientKeepalive: 'on' })).toBe(
        file('nginx', hello, { version }),
      );
  });

  it.each([
    [
      { version: '1.22', keepaliveMinTimeout: '3s' },
      /NGINX 1\.22 has no keepalive_min_timeout \(1\.27\.4 or later\)/,
    ],
    [{ clientKeepalive: 'off', keepaliveMinTimeout: '3s' }, /with clientKeepalive=off/],
    [{ keepaliveMinTimeout: '75s' }, /it takes a duration below 75s/],
    [{ keepaliveMinTimeout: 'soon' }, /it takes a duration below 75s/],
    [{ clientKeepalive: 'of' }, /it takes on, off/],
  ])('refuses %j (MG4003), writing nothing', (settings, message) => {
    const r = run(settings);
    const errors = r.diagnostics.filter((d) => d.severity === 'error');
    expect(errors.map((d) => d.code)).toEqual(['MG4003']);
    expect(errors[0]!.message).toMatch(message);
    expect(r.outputs.flatMap((o) => o.files)).toEqual([]);
  });

  (nginxReady ? it : it.skip)(
    'the installed NGINX checks both forms for its version and refuses keepalive_min_timeout before 1.27.4',
    async () => {
      const installed = installedVersion('nginx')!;
      const nginxTest = (dir: string) => ['nginx', '-t', '-p', dir, '-c', path.join(dir, 'nginx.conf')];
      for (const clientKeepalive of ['on', 'off']) {
        const own = await checkMesh('nginx', hello, nginxTest, { version: installed, clientKeepalive });
        expect(own.status, own.output).toBe(0);
      }
      const [major, minor, patch] = installed.split('.').map(Number);
      if (major === 1 && (minor! < 27 || (minor === 27 && patch! < 4))) {
        const newer = await checkMesh('nginx', hello, nginxTest, { version: '1.27.4' });
        expect(newer.status).not.toBe(0);
        expect(newer.output).toContain('unknown directive "keepalive_min_timeout"');
      }
    },
  );
});
