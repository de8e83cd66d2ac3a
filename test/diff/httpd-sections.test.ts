import { describe, expect, it } from 'vitest';
import { splitFile } from '../../src/diff/rendered.js';
import { render } from '../../src/render.js';
import { exampleMesh } from '../support/meshes.js';

const httpd = (example: string) =>
  render(exampleMesh(example), { targets: ['apache'] }).outputs[0]!.files.find(
    (f) => f.path === 'httpd.conf',
  )!;

describe('httpd.conf split into sections for meshgen diff', () => {
  it('names each <VirtualHost> and <Proxy> section by its tag, the rest is (top)', () => {
    const objects = splitFile(httpd('shop')).map((o) => o.object);
    expect(objects[0]).toBe('(top)');
    expect(objects).toContain('VirtualHost 0.0.0.0:8443');
    expect(objects).toContain('VirtualHost 127.0.0.1:9090');
    expect(objects).toContain('Proxy balancer://r.storefront.0.web.v1');
    expect(new Set(objects).size).toBe(objects.length);
  });

  it('keeps the comment above a section with it, and loses no line', () => {
    const file = httpd('shop');
    const parts = splitFile(file);
    const proxy = parts.find((o) => o.object === 'Proxy balancer://r.storefront.1.web.v2')!;
    expect(proxy.text.split('\n')[0]).toBe('# route "storefront" -> backend "web", version v2, 10%');
    expect(proxy.text.trimEnd().endsWith('</Proxy>')).toBe(true);
    const lines = (t: string) => t.split('\n').filter((l) => l.trim() !== '').length;
    expect(parts.reduce((n, p) => n + lines(p.text), 0)).toBe(lines(file.contents));
  });
});
