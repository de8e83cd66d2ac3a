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
      const newer = await checkMesh('nginx', shop, nginxTest, { version: '1.30' });
      expect(newer.status).not.toBe(0);
      expect(newer.output).toContain('unknown directive "http2"');
    }
  });
});
