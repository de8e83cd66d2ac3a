import fs from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { render } from '../../../src/render.js';
import type { OutputFile } from '../../../src/emitters/types.js';
import { EXAMPLES, ROOT, exampleMesh, meshFrom } from '../../support/meshes.js';
import { validateDynamic, validateStatic } from '../../support/traefik-schema.js';

/**
 * There is no Traefik binary here: every file the target writes is checked against Traefik's
 * published v3 JSON Schemas (vendored from SchemaStore), with unknown fields rejected.
 */
const FEATURES = fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'traefik', 'features.yaml'), 'utf8');

function files(mesh: ReturnType<typeof exampleMesh>, settings?: Record<string, string>): OutputFile[] {
  const result = render(mesh, { targets: ['traefik'], ...(settings ? { settings } : {}) });
  const errors = result.diagnostics.filter((d) => d.severity === 'error');
  expect(errors).toEqual([]);
  return [...result.outputs[0]!.files];
}

function parsed(list: OutputFile[], name: string): Record<string, unknown> {
  const file = list.find((f) => f.path === name);
  expect(file, name).toBeDefined();
  return yaml.load(file!.contents) as Record<string, unknown>;
}

const meshes = [
  ...EXAMPLES.map((e) => [e, () => exampleMesh(e)] as const),
  ['features fixture', () => meshFrom(FEATURES, 'features.yaml')] as const,
];

describe.each(meshes)('%s', (_name, load) => {
  it('writes a dynamic configuration the file provider schema accepts', () => {
    const out = files(load());
    const result = validateDynamic(parsed(out, 'dynamic.yml'));
    expect(result.errors).toEqual([]);
    expect(result.ok).toBe(true);
  });

  it('writes a static configuration the Traefik v3 schema accepts', () => {
    const out = files(load());
    const result = validateStatic(parsed(out, 'traefik.yml'));
    expect(result.errors).toEqual([]);
    expect(result.ok).toBe(true);
  });
});

describe('the strict schema', () => {
  const dynamic = () => parsed(files(meshFrom(FEATURES, 'features.yaml')), 'dynamic.yml');
  type Section = Record<string, Record<string, Record<string, unknown>>>;

  it('refuses a misspelt router field', () => {
    const d = dynamic();
    const routers = (d.http as Section).routers!;
    const [name, router] = Object.entries(routers)[0]!;
    routers[name] = { ...router, priorty: router.priority };
    delete routers[name]!.priority;
    const result = validateDynamic(d);
    expect(result.ok).toBe(false);
    expect(result.errors.join('\n')).toContain('priorty');
  });

  it('refuses a misspelt servers-transport field (a section the vendored schema lacks)', () => {
    const d = dynamic();
    const transports = (d.http as Section).serversTransports!;
    const [name, t] = Object.entries(transports)[0]!;
    transports[name] = { ...t, peerCertUri: t.peerCertURI };
    const result = validateDynamic(d);
    expect(result.ok).toBe(false);
    expect(result.errors.join('\n')).toContain('peerCertUri');
  });

  it('refuses a misspelt field where the vendored schema leaves objects open (servers, healthCheck)', () => {
    const d = dynamic();
    const services = (d.http as Section).services!;
    const lb = Object.values(services).find((s) => s.loadBalancer)!.loadBalancer as {
      servers: Record<string, unknown>[];
    };
    lb.servers[0] = { uri: lb.servers[0]!.url };
    expect(validateDynamic(d).ok).toBe(false);
  });

  it('refuses a misspelt entry point field in the static configuration', () => {
    const s = parsed(files(exampleMesh('hello')), 'traefik.yml');
    const eps = s.entryPoints as Record<string, Record<string, unknown>>;
    const [name] = Object.keys(eps);
    eps[name!] = { adress: eps[name!]!.address };
    expect(validateStatic(s).ok).toBe(false);
  });

  it('refuses an unknown middleware kind', () => {
    const d = dynamic();
    (d.http as Section).middlewares!['extra'] = { stripPrefixx: { prefixes: ['/a'] } };
    expect(validateDynamic(d).ok).toBe(false);
  });
});
