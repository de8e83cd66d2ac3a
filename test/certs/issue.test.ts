import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { issueCertificates } from '../../src/certs/issue.js';
import { main } from '../../src/cli.js';
import { exampleMesh, ROOT } from '../support/meshes.js';
import { tempDir } from '../smartstack/live.js';
import { hasBinary } from '../support/processes.js';

const files = async (example: string) =>
  new Map((await issueCertificates(exampleMesh(example))).map((f) => [f.path, f.contents]));

describe('meshgen certs', () => {
  it('issues one certificate per backend identity with its SPIFFE URI SAN, signed by the CA', async () => {
    const out = await files('shop');
    const ca = new X509Certificate(out.get('ca.crt')!);
    expect(ca.ca).toBe(true);
    for (const b of exampleMesh('shop').backends) {
      const cert = new X509Certificate(out.get(`${b.name}.crt`)!);
      expect(cert.checkIssued(ca)).toBe(true);
      expect(cert.verify(ca.publicKey)).toBe(true);
      expect(cert.subjectAltName).toContain(`URI:spiffe://cluster.local/ns/shop/sa/${b.serviceAccount}`);
      expect(cert.subjectAltName).toContain(`DNS:${b.fqdn}`);
      expect(cert.ca).toBe(false);
      expect(out.get(`${b.name}.pem`)).toBe(out.get(`${b.name}.crt`)! + out.get(`${b.name}.key`)!);
    }
  });

  it('issues the frontend identities and host certificates at the paths the mesh names', async () => {
    const out = await files('shop');
    expect(new X509Certificate(out.get('frontends/public.crt')!).subjectAltName).toBe(
      'URI:spiffe://cluster.local/ns/shop/sa/public',
    );
    const site = new X509Certificate(out.get('shop.crt')!);
    expect(site.subjectAltName).toBe('DNS:shop.example.com');
    expect(site.checkHost('shop.example.com')).toBe('shop.example.com');
    expect(out.has('shop.key')).toBe(true);
  });

  (hasBinary('openssl') ? it : it.skip)('gives keys that match their certificates (openssl)', async () => {
    const out = await files('hello');
    const dir = tempDir('certs-openssl');
    for (const [p, c] of out) {
      fs.mkdirSync(path.dirname(path.join(dir, p)), { recursive: true });
      fs.writeFileSync(path.join(dir, p), c);
    }
    const pub = (args: string[]) => spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' }).stdout;
    expect(pub(['pkey', '-in', 'hello.key', '-pubout'])).toBe(
      pub(['x509', '-in', 'hello.crt', '-noout', '-pubkey']),
    );
    expect(
      spawnSync('openssl', ['verify', '-CAfile', 'ca.crt', 'hello.crt', 'frontends/web.crt'], {
        cwd: dir,
        encoding: 'utf8',
      }).stdout,
    ).toContain('hello.crt: OK');
  });

  it('writes the files atomically from the command line and keeps an existing CA', async () => {
    const dir = tempDir('certs-cli');
    const mesh = path.join(ROOT, 'examples', 'shop.yaml');
    const stderr = process.stderr.write;
    process.stderr.write = (() => true) as typeof process.stderr.write;
    try {
      expect(await main(['node', 'meshgen', 'certs', mesh, '-o', dir])).toBe(0);
      const ca = fs.readFileSync(path.join(dir, 'ca.crt'), 'utf8');
      const web = fs.readFileSync(path.join(dir, 'web.crt'), 'utf8');
      expect(await main(['node', 'meshgen', 'certs', mesh, '-o', dir])).toBe(0);
      expect(fs.readFileSync(path.join(dir, 'ca.crt'), 'utf8')).toBe(ca);
      const again = new X509Certificate(fs.readFileSync(path.join(dir, 'web.crt'), 'utf8'));
      expect(again.toString()).not.toBe(web);
      expect(again.checkIssued(new X509Certificate(ca))).toBe(true);
      expect(fs.readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([]);
      expect(fs.statSync(path.join(dir, 'web.key')).mode & 0o777).toBe(0o600);
      expect(await main(['node', 'meshgen', 'certs', path.join(dir, 'missing.yaml'), '-o', dir])).toBe(2);
    } finally {
      process.stderr.write = stderr;
    }
  });
});
