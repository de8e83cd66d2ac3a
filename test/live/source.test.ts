import { describe, expect, it } from 'vitest';
import { parseSource } from '../../src/live/source.js';

describe('parseSource', () => {
  it('reads etcd://host:port/prefix', () => {
    expect(parseSource('etcd://127.0.0.1:2379/shop/prod/')).toEqual({
      kind: 'etcd',
      endpoint: '127.0.0.1:2379',
      prefix: '/shop/prod',
      tls: false,
    });
    expect(parseSource('etcds://etcd.internal:2379/shop')).toMatchObject({ tls: true });
    expect(parseSource('etcd://127.0.0.1:2379/shop', { tls: true })).toMatchObject({ tls: true });
  });

  it('takes anything without a scheme as a file', () => {
    expect(parseSource('meshes/shop.yaml')).toEqual({ kind: 'file', path: 'meshes/shop.yaml' });
  });

  it.each([
    ['consul://127.0.0.1:8500/shop', 'scheme "consul"'],
    ['etcd://127.0.0.1/shop', 'no port'],
    ['etcd://root:pw@127.0.0.1:2379/shop', 'credentials'],
    ['etcd://127.0.0.1:2379/shop?x=1', 'query'],
    ['etcd://127.0.0.1:2379/sh op', 'prefix'],
    [`etcd://127.0.0.1:2379/${'a'.repeat(600)}`, 'prefix'],
  ])('refuses %s with MG4020', (text, why) => {
    const d = parseSource(text);
    expect(d).toMatchObject({ code: 'MG4020', severity: 'error' });
    expect((d as { message: string }).message).toContain(why);
  });
});
