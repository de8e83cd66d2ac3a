/**
 * What changes in haproxy.cfg with the HAProxy release rendered for, proven with the binary on this
 * machine: the form written for its version passes its own check, and the form written for a newer
 * release names what it does not know.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { render } from '../../../src/render.js';
import { meshFrom } from '../../support/meshes.js';
import { hasBinary } from '../../support/processes.js';
import { installedVersion } from '../../support/installed.js';
import { checkMesh } from '../../smartstack/examples.js';

const haproxyReady = hasBinary('haproxy');

const retrying = meshFrom(`apiVersion: meshgen.io/v1alpha1
kind: Mesh
metadata: { name: retry }
spec:
  mtls: { mode: disabled }
  backends:
    - name: app
      port: 18480
      versions: [{ name: v1, endpoints: ["127.0.0.1:18481"] }]
  routes:
    - name: r
      parent: { backend: app }
      to: [{ backend: app }]
      retries: { attempts: 2, on: ["429", "421", "503"] }`);

describe('haproxy versions: retry-on status codes', () => {
  // HAProxy src/proxy.c, proxy_parse_retry_on: 429 from 3.1 (commit 0d142e075), 421 from 3.2 (bc66d3198)
  it.each([
    ['2.6', 'retry-on 503', /status 429, status 421/],
    ['3.1', 'retry-on 429 503', /status 421/],
    ['3.4', 'retry-on 421 429 503', undefined],
  ] as const)('at %s writes %s', (version, line, lost) => {
    const r = render(retrying, { targets: ['haproxy'], settings: { version } });
    expect(r.outputs[0]!.files[0]!.contents).toContain(`    ${line}\n`);
    const said = r.diagnostics.find(
      (d) => d.pointer === '/spec/routes/0/retries/on' && /cannot retry/.test(d.message),
    );
    if (lost) expect(said?.message).toMatch(lost);
    else expect(said).toBeUndefined();
  });

  (haproxyReady ? it : it.skip)(
    'the installed HAProxy checks its own form and refuses a newer one',
    async () => {
      const installed = installedVersion('haproxy')!;
      const haproxyCheck = (dir: string) => ['haproxy', '-c', '-f', path.join(dir, 'haproxy.cfg')];
      const own = await checkMesh('haproxy', retrying, haproxyCheck, { version: installed });
      expect(own.status, own.output).toBe(0);
      if (installed.startsWith('2.') || installed.startsWith('3.0')) {
        const newer = await checkMesh('haproxy', retrying, haproxyCheck, { version: '3.4' });
        expect(newer.status).not.toBe(0);
        expect(newer.output).toMatch(/429|421/);
      }
    },
  );
});
