import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { hasBinary } from '../support/processes.js';
import { tempDir } from '../smartstack/live.js';

/**
 * render(import(x)) behaves as x says: Istio's Bookinfo samples (test/fixtures/import/istio-bookinfo)
 * are imported with `meshgen import --from istio`, and `meshgen test` runs what each sample says
 * (behaviour/<sample>.test.yaml) on real HAProxy, NGINX and meshgen's data plane. Istio's objects
 * name no endpoints or node ports: `meshgen test` gives every version a stub and every listener a
 * free port, as it does for any mesh.
 */
const dir = 'test/fixtures/import/istio-bookinfo';
const base = [
  'platform/bookinfo.yaml',
  'networking/bookinfo-gateway.yaml',
  'networking/destination-rule-all.yaml',
];
const samples = [
  'virtual-service-reviews-test-v2',
  'virtual-service-reviews-50-v3',
  'virtual-service-reviews-80-20',
  'virtual-service-ratings-test-abort',
  'virtual-service-ratings-test-delay',
];
const TARGETS = ['haproxy', 'nginx', 'envoy'];

interface Result {
  case: string;
  target: string;
  verdict: string;
  failures?: unknown[];
  observed?: { elapsedMs?: number };
}

const work = tempDir('import-behaviour');

/** Imports Bookinfo with one sample, as a user would, and runs its test file on the three targets. */
function importAndTest(sample: string) {
  const mesh = path.join(work, `${sample}.yaml`);
  const imported = runCli(
    [
      'import',
      '--from',
      'istio',
      '--namespace',
      'bookinfo',
      ...base,
      `networking/${sample}.yaml`,
      '-o',
      mesh,
    ],
    { cwd: path.resolve(dir) },
  );
  expect(imported.status, imported.stderr).toBe(0);
  const testFile = path.join(dir, 'behaviour', `${sample.replace('virtual-service-', '')}.test.yaml`);
  const run = runCli(['test', mesh, testFile, '--target', TARGETS.join(','), '--format', 'json']);
  return { mesh, run, results: (JSON.parse(run.stdout) as { results: Result[] }).results };
}

const runnable = TARGETS.filter((t) => t === 'envoy' || hasBinary(t)).length === TARGETS.length;
(runnable ? describe : describe.skip)(
  'imported Istio Bookinfo samples behave as they say (meshgen test)',
  () => {
    it.each(samples)('%s', (sample) => {
      const { mesh, run, results } = importAndTest(sample);
      expect(run.status, run.stderr).toBe(0);
      const cases = fs
        .readFileSync(
          path.join(dir, 'behaviour', `${sample.replace('virtual-service-', '')}.test.yaml`),
          'utf8',
        )
        .match(/^ {4}- name: (\S+)$/gm)!
        .map((l) => l.split(': ')[1]);
      // every case ran on every target, and passed
      expect(results.map((r) => `${r.case} ${r.target} ${r.verdict}`).sort()).toEqual(
        cases.flatMap((c) => TARGETS.map((t) => `${c} ${t} pass`)).sort(),
      );
      if (sample === 'virtual-service-ratings-test-delay') {
        // the data plane holds jason's request the 7 s the sample says (a delay is a lower bound:
        // a busy machine only makes it longer)
        const delayed = results.find(
          (r) => r.case === 'jason-is-delayed-then-gets-ratings-v1' && r.target === 'envoy',
        );
        expect(delayed?.observed?.elapsedMs).toBeGreaterThanOrEqual(7000);
        // HAProxy and NGINX cannot delay: their render says so, and the request is served at once
        for (const target of ['haproxy', 'nginx']) {
          const r = runCli(['render', mesh, '--target', target, '-o', path.join(work, `delay-${target}`)]);
          expect(r.stderr).toMatch(/MG3001 \[\w+\]: route "ratings-0" uses fault-delay/);
        }
      }
    });
  },
);
