import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TestRunResult } from '../../src/meshtest/types.js';
import { distCli } from '../support/cli.js';
import { EXAMPLES, ROOT } from '../support/meshes.js';
import { hasBinary } from '../support/processes.js';
import { hasNginxWithStream } from '../emitters/nginx/stream-module.js';

/** `meshgen test` as a user runs it: the built CLI, without a terminal. */
function meshgenTest(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [distCli(), 'test', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', ...env },
    timeout: 170_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const runnable = hasBinary('haproxy') && hasNginxWithStream(hasBinary('nginx')) && hasBinary('apache2');

describe.runIf(runnable)('meshgen test on the examples', () => {
  it.each(EXAMPLES)(
    '%s: every case passes on haproxy, nginx, apache, envoy (and the simulated targets), and covers every route',
    (example) => {
      const junit = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'meshgen-junit-')), 'results.xml');
      const r = meshgenTest([`examples/${example}.yaml`, '--junit', junit]);
      expect(r.stderr).toMatch(/coverage: (\d+) of \1 routes reached\n/);
      expect(r.stdout).toMatch(/ 0 failed, \d+ unsupported, 0 errors/);
      expect(r.status).toBe(0);
      const xml = fs.readFileSync(junit, 'utf8');
      for (const t of ['haproxy', 'nginx', 'apache', 'envoy'])
        expect(xml).toContain(`<testsuite name="${t}"`);
      expect(xml).toContain('failures="0" errors="0"');
    },
    180_000,
  );
});

/**
 * Seeded bugs: each runnable target's rendered output is changed after rendering (a split weight, a
 * header match, a retry count, an access rule) and `meshgen test` must fail on exactly the cases of
 * examples/shop.test.yaml that those bugs break, on that target alone.
 */
const SEEDS: Record<string, { command: string; failing: string[] }> = {
  haproxy: {
    command: [
      "sed -i -e 's/-m int lt 90/-m int lt 10/'", // storefront: web v1 90% -> 10%
      "-e 's/req.fhdr(x-beta) -m str 1/req.fhdr(x-beta) -m str 2/'", // the beta header's value
      "-e 's/retries 2$/retries 1/'", // storefront: 2 retries -> 1
      "-e 's/acl mg_acc_0_m method POST/acl mg_acc_0_m method GET/'", // payments: POST -> GET
      'haproxy.cfg',
    ].join(' '),
    failing: [
      'beta-header-goes-to-v2',
      'storefront-splits-90-10',
      'storefront-retries-a-503-twice',
      'storefront-gives-up-after-three-tries',
      'checkout-may-pay',
      'checkout-may-refund',
      'checkout-may-not-get-pay',
    ],
  },
  nginx: {
    command: [
      "sed -i -e 's#90% https://mg_r_storefront_0#10% https://mg_r_storefront_0#'",
      '-e \'/map $http_x_beta/,/}/s/"~^1$"/"~^2$"/\'',
      "-e 's/proxy_next_upstream_tries 3;/proxy_next_upstream_tries 2;/'", // storefront: 3 tries -> 2,
      "-e 's#(?:POST) (?:/pay#(?:GET) (?:/pay#'", // payments: POST -> GET
      'nginx.conf',
    ].join(' '),
    failing: [
      'beta-header-goes-to-v2',
      'storefront-splits-90-10',
      'storefront-retries-a-503-twice',
      'storefront-gives-up-after-three-tries',
      'checkout-may-pay',
      'checkout-may-refund',
      'checkout-may-not-get-pay',
    ],
  },
  apache: {
    // httpd keeps no retry after a response (MG3020): the retry cases are unsupported there, so the
    // retry count is the one seed it has no case for
    command: [
      'sed -i -e "s/MG_PICK} -lt 90/MG_PICK} -lt 10/" -e "s/MG_PICK} -ge 90/MG_PICK} -ge 10/"', // storefront: 90% -> 10%
      '-e "s/x-beta\') =~ m#^1/x-beta\') =~ m#^2/"', // the beta header's value
      "-e \"s/== 'POST'/== 'GET'/g\"", // payments: POST -> GET
      'httpd.conf',
    ].join(' '),
    failing: [
      'beta-header-goes-to-v2',
      'storefront-splits-90-10',
      'checkout-may-pay',
      'checkout-may-refund',
      'checkout-may-not-get-pay',
    ],
  },
  envoy: {
    command: [
      "sed -i -e 's/weight: 90$/weight: 50/' -e 's/exact: \"1\"$/exact: \"2\"/' -e 's/num_retries: 2$/num_retries: 1/' gateway.yaml",
      // payments' inbound RBAC lets web in instead of checkout
      '&& sed -i \'s#/sa/checkout"#/sa/web"#\' sidecar-payments.yaml',
    ].join(' '),
    failing: [
      'beta-header-goes-to-v2',
      'storefront-splits-90-10',
      'storefront-retries-a-503-twice',
      'storefront-gives-up-after-three-tries',
      'checkout-may-pay',
      'checkout-may-refund',
      'web-may-not-call-payments',
    ],
  },
};

describe.runIf(runnable)('meshgen test catches bugs seeded in rendered output', () => {
  it.each(Object.keys(SEEDS))(
    '%s: a weight, a match, a retry count and an access rule, each on its own cases',
    (target) => {
      const seed = SEEDS[target]!;
      const r = meshgenTest([
        'examples/shop.yaml',
        '--target',
        target,
        '--format',
        'json',
        '--post-process',
        seed.command,
      ]);
      expect(r.status, r.stderr).toBe(1);
      const run = JSON.parse(r.stdout) as TestRunResult;
      const failed = run.results.filter((x) => x.verdict === 'fail');
      expect(failed.every((x) => x.target === target)).toBe(true);
      expect(failed.map((x) => x.case).sort()).toEqual([...seed.failing].sort());
      const split = failed.find((x) => x.case === 'storefront-splits-90-10')!;
      expect(split.failures.map((f) => f.what)).toContain('share of web/v1');
    },
    180_000,
  );

  it('without a seed, the same run passes (the seeds, not the runner, make it fail)', () => {
    const r = meshgenTest(['examples/shop.yaml', '--target', 'haproxy', '--format', 'json']);
    expect(r.status, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as TestRunResult).passed).toBe(true);
  }, 180_000);
});

/**
 * Seeded bugs in the objects the simulated targets read: split weights swapped, the routes of the
 * frontend's VirtualService or service-router in reverse order, a retry count, an identity. The
 * simulation must fail on the cases those bugs break, on that target alone.
 */
const swapWeights = (file: string) =>
  `sed -i -e 's/weight: 80/weight: 8x/' -e 's/weight: 20/weight: 80/' -e 's/weight: 8x/weight: 20/' ${file}`;
const reverseList = (file: string, key: string) =>
  `node '${path.join(ROOT, 'test/meshtest/fixtures/reverse-list.mjs')}' ${file} '${key}'`;
const SIMULATED_SEEDS: Record<string, { command: string; failing: string[] }> = {
  istio: {
    command: [
      swapWeights('virtualservice-shop-catalog.yaml'),
      reverseList('virtualservice-shop-public.yaml', '  http:'),
      "sed -i 's/attempts: 2/attempts: 1/' virtualservice-shop-public.yaml",
    ].join(' && '),
    failing: [
      'catalog-api-splits-80-20',
      'beta-header-goes-to-v2',
      'storefront-retries-a-503-twice',
      'storefront-gives-up-after-three-tries',
    ],
  },
  linkerd: {
    command: [
      swapWeights('httproute-shop-catalog.yaml'),
      "sed -i 's/checkout.shop.serviceaccount/web.shop.serviceaccount/' meshtlsauthentication-shop-payments-allow-0.yaml",
    ].join(' && '),
    failing: [
      'catalog-api-splits-80-20',
      'checkout-may-pay',
      'checkout-may-refund',
      'web-may-not-call-payments',
    ],
  },
  consul: {
    command: [
      swapWeights('servicesplitter-shop-catalog--catalog-api.yaml'),
      reverseList('servicerouter-shop-public--routes.yaml', '  routes:'),
    ].join(' && '),
    failing: ['catalog-api-splits-80-20', 'beta-header-goes-to-v2'],
  },
};

describe('meshgen test catches bugs seeded in the objects of simulated targets', () => {
  it.each(Object.keys(SIMULATED_SEEDS))(
    '%s: each seeded bug fails its own cases',
    (target) => {
      const seed = SIMULATED_SEEDS[target]!;
      const args = ['examples/shop.yaml', '--target', target, '--format', 'json'];
      const clean = meshgenTest(args);
      expect(clean.status, clean.stderr).toBe(0);
      const r = meshgenTest([...args, '--post-process', seed.command]);
      expect(r.status, r.stderr).toBe(1);
      const run = JSON.parse(r.stdout) as TestRunResult;
      const failed = run.results.filter((x) => x.verdict === 'fail');
      expect(failed.every((x) => x.target === target && x.simulated)).toBe(true);
      expect(failed.map((x) => x.case).sort()).toEqual([...seed.failing].sort());
      const split = failed.find((x) => x.case === 'catalog-api-splits-80-20')!;
      expect(split.failures).toContainEqual({
        what: 'share of catalog/v1',
        expected: '0.8 ± 0.055',
        observed: '0.2',
      });
    },
    60_000,
  );
});

describe('meshgen test usage', () => {
  it('exits 2 with a located diagnostic for a bad test file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshgen-bad-'));
    const file = path.join(dir, 'bad.test.yaml');
    fs.writeFileSync(
      file,
      'apiVersion: meshgen.io/v1alpha1\nkind: MeshTest\nmetadata: { name: b }\nspec:\n  cases:\n    - name: a\n      request: { frontend: publik }\n',
    );
    const r = meshgenTest(['examples/shop.yaml', file]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${file}:7:28: error MG6005: frontend "publik" is not in mesh "shop"`);
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
  });

  it('exits 2 naming the Debian package when a target program is missing', () => {
    const r = meshgenTest(['examples/hello.yaml', '--target', 'haproxy'], { PATH: '/nonexistent' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('error MG6020 [haproxy]: haproxy is not installed');
    expect(r.stderr).toContain('install the Debian package haproxy');
  });

  it('--init writes a starter that covers every route, and refuses to replace a file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshgen-init-'));
    const out = path.join(dir, 'shop.test.yaml');
    const r = meshgenTest(['--init', 'examples/shop.yaml', '-o', out]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('coverage: 7 of 7 routes reached');
    const text = fs.readFileSync(out, 'utf8');
    expect(text).toContain('kind: MeshTest');
    expect(text).toMatch(
      /count: 1000\n\s+expect:\n\s+shares:\n\s+web\/v1: 0.9\n\s+web\/v2: 0.1\n\s+tolerance: 0.04/,
    );
    expect(meshgenTest(['--init', 'examples/shop.yaml', '-o', out]).status).toBe(2);
  });
});
