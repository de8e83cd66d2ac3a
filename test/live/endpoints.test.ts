import { describe, expect, it } from 'vitest';
import { addEndpoints, readEndpoint } from '../../src/live/endpoints.js';

const where = (key: string) => `etcd://127.0.0.1:2379${key}`;
const read = (key: string, value: string) => readEndpoint('/shop', `/shop/endpoints/${key}`, value, where);

describe('readEndpoint', () => {
  it('reads host:port and the JSON form', () => {
    expect(read('api/v1/a', '127.0.0.1:9001').endpoint).toEqual({
      key: '/shop/endpoints/api/v1/a',
      backend: 'api',
      version: 'v1',
      instance: 'a',
      address: '127.0.0.1:9001',
    });
    expect(read('api/v1/b', '{"address": "[::1]:9002"}').endpoint?.address).toBe('[::1]:9002');
  });

  it('keeps an endpoint with a weight or zone and says they are not used (MG4027)', () => {
    const r = read('api/v1/a', '{"address": "10.0.0.1:80", "weight": 3, "zone": "eu-1"}');
    expect(r.endpoint?.address).toBe('10.0.0.1:80');
    expect(r.diagnostics.map((d) => d.code)).toEqual(['MG4027', 'MG4027']);
  });

  it.each([
    ['api/v1/a', 'nonsense', 'not ipv4:port'],
    ['api/v1/a', '127.0.0.1:70000', 'port 70000'],
    ['api/v1/a', '{"address": 1}', 'not ipv4:port'],
    ['api/v1/a', '{"address": "h:1", "extra": 1}', 'unknown field'],
    ['api/v1/a', '{"address": "h:1", "weight": 0}', 'weight'],
    ['api/v1/a', '{bad json', 'neither'],
    ['api/v1', '127.0.0.1:1', 'the key is not'],
    ['Api/v1/a', '127.0.0.1:1', 'DNS-1123'],
  ])('skips %s = %s with MG4023 located at the key', (key, value, why) => {
    const r = read(key, value);
    expect(r.endpoint).toBeUndefined();
    expect(r.diagnostics).toHaveLength(1);
    expect(r.diagnostics[0]).toMatchObject({ code: 'MG4023', file: where(`/shop/endpoints/${key}`) });
    expect(r.diagnostics[0]!.message).toContain(why);
  });
});

describe('addEndpoints', () => {
  const doc = () => ({
    spec: {
      backends: [{ name: 'api', versions: [{ name: 'v1', endpoints: ['127.0.0.1:1'] }, { name: 'v2' }] }],
    },
  });
  const ep = (backend: string, version: string, instance: string, address: string) => ({
    key: `/shop/endpoints/${backend}/${version}/${instance}`,
    backend,
    version,
    instance,
    address,
  });

  it("adds the store's endpoints after the document's own, in key order, once", () => {
    const value = doc();
    const d = addEndpoints(
      value,
      [
        ep('api', 'v1', 'b', '127.0.0.1:3'),
        ep('api', 'v1', 'a', '127.0.0.1:2'),
        ep('api', 'v1', 'c', '127.0.0.1:1'),
        ep('api', 'v2', 'a', '127.0.0.1:4'),
      ],
      where,
    );
    expect(d).toEqual([]);
    expect(value.spec.backends[0]!.versions).toEqual([
      { name: 'v1', endpoints: ['127.0.0.1:1', '127.0.0.1:2', '127.0.0.1:3'] },
      { name: 'v2', endpoints: ['127.0.0.1:4'] },
    ]);
  });

  it('skips an endpoint of an unknown backend or version with MG4024', () => {
    const d = addEndpoints(
      doc(),
      [ep('web', 'v1', 'a', '127.0.0.1:2'), ep('api', 'v9', 'a', '127.0.0.1:2')],
      where,
    );
    expect(d.map((x) => [x.code, x.file])).toEqual([
      ['MG4024', where('/shop/endpoints/api/v9/a')],
      ['MG4024', where('/shop/endpoints/web/v1/a')],
    ]);
    expect(d[0]!.message).toContain('no version "v9"');
    expect(d[1]!.message).toContain('no backend "web"');
  });
});
