import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCertificates } from '../../src/certs/issue.js';
import { parseBootstrap } from '../../src/dataplane/config/bootstrap.js';
import { render } from '../../src/render.js';
import { EXAMPLES, exampleMesh } from '../support/meshes.js';

/**
 * Every bootstrap the envoy emitter writes for every example, in YAML and JSON, is accepted by
 * meshgen proxy (the same check as `meshgen proxy --mode validate`), with the certificates
 * `meshgen certs` issues in certDir. Runs in a scratch folder: the examples name frontend
 * certificates relative to the working directory (certs/...), as the emitter's certDir=certs does.
 */
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshgen-emitted-'));
const cwd = process.cwd();

beforeAll(async () => {
  for (const example of EXAMPLES)
    for (const f of await issueCertificates(exampleMesh(example))) {
      const file = path.join(dir, 'certs', f.path);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      if (!fs.existsSync(file)) fs.writeFileSync(file, f.contents);
    }
  process.chdir(dir);
});
afterAll(() => {
  process.chdir(cwd);
  fs.rmSync(dir, { recursive: true, force: true });
});

describe.each(EXAMPLES)('example %s', (example) => {
  it.each(['yaml', 'json'])('every envoy bootstrap in %s passes meshgen proxy validation', (format) => {
    // the sidecars read the shared discovery files from discoveryDir, where they are written
    const discoveryDir = path.join(dir, `${example}-${format}`);
    const result = render(exampleMesh(example), {
      targets: ['envoy'],
      format,
      settings: { certDir: 'certs', discoveryDir },
    });
    const files = result.outputs[0]?.files ?? [];
    fs.mkdirSync(discoveryDir, { recursive: true });
    for (const f of files) fs.writeFileSync(path.join(discoveryDir, f.path), f.contents);
    const boots = files.filter((f) => f.path.endsWith(`.${format}`) && !f.path.startsWith('outbound-'));
    expect(boots.length).toBeGreaterThan(1);
    for (const f of boots) {
      const r = parseBootstrap(f.contents, f.path);
      expect(r.errors.map((e) => `${f.path}: ${e.path}: ${e.message}`)).toEqual([]);
      expect(r.config?.listeners.length).toBeGreaterThan(0);
      // a sidecar's outbound listeners, one per backend, come from the shared file
      if (f.path.startsWith('sidecar-'))
        expect(r.config?.listeners.filter((l) => l.name.startsWith('outbound|')).length).toBe(
          exampleMesh(example).backends.length,
        );
    }
  });
});
