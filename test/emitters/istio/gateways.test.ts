import { describe, expect, it } from 'vitest';
import { render } from '../../../src/render.js';
import { exampleMesh, meshFrom } from '../../support/meshes.js';
import { FULL_MESH } from './fixtures.js';
import { emitObjects } from './helpers.js';

let cached: ReturnType<typeof emitObjects> | undefined;
const full = () => (cached ??= emitObjects(meshFrom(FULL_MESH)));
const server = (name: string) => full().find('Gateway', name).spec.servers[0];

describe('istio Gateway per frontend', () => {
  it('terminates https with credentialName (SIMPLE)', () => {
    const gw = emitObjects(exampleMesh('shop')).find('Gateway', 'public');
    expect(gw.metadata.namespace).toBe('shop');
    expect(gw.spec.servers).toEqual([
      {
        port: { number: 8443, name: 'https-8443', protocol: 'HTTPS' },
        hosts: ['shop.example.com'],
        tls: { mode: 'SIMPLE', credentialName: 'shop-tls' },
      },
    ]);
  });

  it('requires client certificates with MUTUAL when the frontend has a client CA', () => {
    expect(server('public').tls).toEqual({ mode: 'MUTUAL', credentialName: 'shop-tls' });
    const d = full().diagnostics.find(
      (x) => x.code === 'MG3005' && x.pointer === '/spec/frontends/0/tls/clientCa',
    );
    expect(d?.message).toContain('shop-tls-cacert');
  });

  it('reads certificate files when there is no secret', () => {
    expect(server('files').tls).toEqual({
      mode: 'SIMPLE',
      serverCertificate: '/etc/certs/tls.crt',
      privateKey: '/etc/certs/tls.key',
    });
  });

  it('passes TLS through for tls-passthrough', () => {
    expect(server('sni')).toEqual({
      port: { number: 9443, name: 'tls-9443', protocol: 'TLS' },
      hosts: ['db.example.com'],
      tls: { mode: 'PASSTHROUGH' },
    });
  });

  it('opens plain HTTP and TCP servers without tls', () => {
    expect(server('plain')).toEqual({
      port: { number: 80, name: 'http-80', protocol: 'HTTP' },
      hosts: ['*'],
    });
    expect(server('raw')).toEqual({
      port: { number: 15432, name: 'tcp-15432', protocol: 'TCP' },
      hosts: ['*'],
    });
  });

  it('selects istio: ingressgateway by default', () => {
    expect(full().find('Gateway', 'public').spec.selector).toEqual({ istio: 'ingressgateway' });
  });

  it('takes the selector from --set gatewaySelector=key=value', () => {
    const m = meshFrom(FULL_MESH);
    expect(
      emitObjects(m, { settings: { gatewaySelector: 'app=edge' } }).find('Gateway', 'public').spec.selector,
    ).toEqual({ app: 'edge' });
    expect(
      emitObjects(m, { settings: { gatewaySelector: 'app.kubernetes.io/name=gw,tier=edge' } }).find(
        'Gateway',
        'plain',
      ).spec.selector,
    ).toEqual({ 'app.kubernetes.io/name': 'gw', tier: 'edge' });
  });

  it('reports a malformed gatewaySelector as an error diagnostic, not an exception', () => {
    for (const bad of ['noequals', '=v', 'a=b,', 'bad key=v']) {
      const result = render(meshFrom(FULL_MESH), { targets: ['istio'], settings: { gatewaySelector: bad } });
      const d = result.diagnostics.find((x) => x.code === 'MG4003');
      expect(d?.severity, bad).toBe('error');
      expect(d?.message).toContain(bad);
    }
  });
});
