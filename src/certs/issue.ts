/**
 * Development certificates for a mesh: a CA, one certificate per backend identity (SPIFFE URI SAN),
 * one per frontend identity, and one per HTTPS frontend for its hosts, in the layout the proxy
 * targets read (see src/smartstack/certs.ts). Uses @peculiar/x509 over Node's webcrypto.
 */
import { webcrypto } from 'node:crypto';
type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
import path from 'node:path';
import type * as X509 from '@peculiar/x509';
import type { ResolvedMesh } from '../model/types.js';
import { diagnostic, type Diagnostic } from '../model/diagnostics.js';

// @peculiar/x509 is loaded on first use: importing it costs every meshgen command about 0.15 s
let x509: typeof X509;
async function loadX509(): Promise<void> {
  if (x509) return;
  await import('./reflect.js');
  const module = await import('@peculiar/x509');
  module.cryptoProvider.set(webcrypto as unknown as Parameters<typeof module.cryptoProvider.set>[0]);
  x509 = module;
}

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

export interface IssuedFile {
  readonly path: string;
  readonly contents: string;
}

export interface IssueOptions {
  /** Days the certificates stay valid (default 365). */
  readonly days?: number;
  /** An existing CA to sign with (PEM certificate and PKCS#8 key), so peers keep trusting it. */
  readonly ca?: { readonly cert: string; readonly key: string };
  /** The clock, for tests. */
  readonly now?: Date;
  /** Called after each backend's or frontend's certificate (the CLI's progress line). */
  readonly onIssued?: (issued: number, total: number) => void;
}

interface Ca {
  cert: X509.X509Certificate;
  keys: CryptoKeyPair;
}

function serial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = bytes[0]! & 0x7f; // positive
  return Buffer.from(bytes).toString('hex');
}

async function keyPem(key: CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY') + '\n';
}

function dnValue(s: string): string {
  return s.replace(/([,+"\\<>;=])/g, '\\$1');
}

async function loadCa(pem: { cert: string; key: string }): Promise<Ca> {
  const cert = new x509.X509Certificate(pem.cert);
  const der = x509.PemConverter.decode(pem.key)[0]!;
  const privateKey = await webcrypto.subtle.importKey('pkcs8', der, ALG, true, ['sign']);
  const publicKey = await cert.publicKey.export(ALG, ['verify']);
  return { cert, keys: { privateKey, publicKey } as CryptoKeyPair };
}

async function newCa(mesh: ResolvedMesh, notBefore: Date, notAfter: Date): Promise<Ca> {
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${dnValue(`meshgen ${mesh.name} development CA`)}, O=${dnValue(mesh.trustDomain)}`,
    notBefore,
    notAfter,
    keys,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert, keys };
}

async function leaf(
  ca: Ca,
  subject: string,
  names: { uris: string[]; dns: string[] },
  notBefore: Date,
  notAfter: Date,
): Promise<{ cert: string; key: string }> {
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject,
    issuer: ca.cert.subject,
    notBefore,
    notAfter,
    publicKey: keys.publicKey,
    signingKey: ca.keys.privateKey,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
        true,
      ),
      new x509.ExtendedKeyUsageExtension([
        x509.ExtendedKeyUsage.serverAuth,
        x509.ExtendedKeyUsage.clientAuth,
      ]),
      new x509.SubjectAlternativeNameExtension([
        ...names.uris.map((value) => ({ type: 'url' as const, value })),
        ...names.dns.map((value) => ({ type: 'dns' as const, value })),
      ]),
      await x509.AuthorityKeyIdentifierExtension.create(ca.keys.publicKey),
    ],
  });
  return { cert: cert.toString('pem') + '\n', key: await keyPem(keys.privateKey) };
}

/** Files relative to the output folder: `<stem>.crt`, `<stem>.key` and `<stem>.pem` (both, for HAProxy). */
function triple(stem: string, pair: { cert: string; key: string }): IssuedFile[] {
  return [
    { path: `${stem}.crt`, contents: pair.cert },
    { path: `${stem}.key`, contents: pair.key },
    { path: `${stem}.pem`, contents: pair.cert + pair.key },
  ];
}

/** The files the CA is written to; a frontend's tls file of the same name would replace them. */
const CA_FILES = { 'ca.crt': 'the CA certificate', 'ca.key': 'the CA key' } as const;

/**
 * Frontend tls files that would land on a CA file: issueCertificates writes each of them under its
 * basename, so `tls.key: certs/ca.key` would replace the CA key with the frontend's. `tls.clientCa`
 * may be `ca.crt` (it gets the CA certificate anyway), not `ca.key`.
 */
export function certificatePathDiagnostics(mesh: ResolvedMesh): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const f of mesh.frontends) {
    const tls = f.tls;
    if (!tls) continue;
    const fields: [string, string | undefined][] = [['clientCa', tls.clientCa]];
    if (tls.certificate && tls.key) fields.unshift(['certificate', tls.certificate], ['key', tls.key]);
    for (const [field, value] of fields) {
      if (!value) continue;
      const name = path.posix.basename(value);
      if (!(name in CA_FILES) || (field === 'clientCa' && name === 'ca.crt')) continue;
      out.push(
        diagnostic(
          'MG2028',
          `frontend "${f.name}": tls.${field} "${value}" is where \`meshgen certs\` writes ${CA_FILES[name as keyof typeof CA_FILES]}; it would replace it`,
          {
            pointer: `${f.pointer}/tls/${field}`,
            hint:
              field === 'clientCa'
                ? 'point clientCa at ca.crt (the mesh CA) or at another file'
                : `name the frontend's file after it, e.g. ${path.posix.dirname(value)}/${f.name}.${field === 'key' ? 'key' : 'crt'}`,
          },
        ),
      );
    }
  }
  return out;
}

/**
 * Issues every certificate a mesh's proxy configs name; returns the files, sorted by path. A mesh
 * with certificatePathDiagnostics is refused (check it first).
 */
export async function issueCertificates(
  mesh: ResolvedMesh,
  options: IssueOptions = {},
): Promise<IssuedFile[]> {
  const clash = certificatePathDiagnostics(mesh)[0];
  if (clash) throw new Error(clash.message);
  await loadX509();
  const now = options.now ?? new Date();
  const notBefore = new Date(now.getTime() - 60 * 60 * 1000);
  const notAfter = new Date(now.getTime() + (options.days ?? 365) * 24 * 60 * 60 * 1000);
  const ca = options.ca ? await loadCa(options.ca) : await newCa(mesh, notBefore, notAfter);
  const files: IssuedFile[] = [{ path: 'ca.crt', contents: ca.cert.toString('pem') + '\n' }];
  if (!options.ca) files.push({ path: 'ca.key', contents: await keyPem(ca.keys.privateKey) });
  const org = `O=${dnValue(mesh.trustDomain)}`;
  const total = mesh.backends.length + mesh.frontends.length;
  let issued = 0;
  for (const b of mesh.backends) {
    options.onIssued?.(issued++, total);
    const pair = await leaf(
      ca,
      `CN=${dnValue(b.name)}, OU=${dnValue(b.namespace)}, ${org}`,
      { uris: [b.identity], dns: [b.name, `${b.name}.${b.namespace}`, b.fqdn] },
      notBefore,
      notAfter,
    );
    files.push(...triple(b.name, pair));
  }
  for (const f of mesh.frontends) {
    options.onIssued?.(issued++, total);
    const pair = await leaf(
      ca,
      `CN=${dnValue(f.name)}, OU=frontend, ${org}`,
      { uris: [f.identity], dns: [] },
      notBefore,
      notAfter,
    );
    files.push(...triple(`frontends/${f.name}`, pair));
    const tls = f.tls;
    if (tls?.certificate && tls.key) {
      const hosts = f.hosts.filter((h) => h !== '*');
      const dns = hosts.length ? hosts : ['localhost'];
      const site = await leaf(ca, `CN=${dnValue(dns[0]!)}, ${org}`, { uris: [], dns }, notBefore, notAfter);
      const certName = path.posix.basename(tls.certificate);
      const stem = certName.replace(/\.(crt|cert|pem)$/, '');
      files.push(
        { path: certName, contents: site.cert },
        { path: path.posix.basename(tls.key), contents: site.key },
      );
      if (`${stem}.pem` !== certName) files.push({ path: `${stem}.pem`, contents: site.cert + site.key });
    }
    // A frontend that asks for client certificates trusts the mesh CA, so mesh identities can call it.
    if (tls?.clientCa)
      files.push({ path: path.posix.basename(tls.clientCa), contents: ca.cert.toString('pem') + '\n' });
  }
  const seen = new Map<string, IssuedFile>();
  for (const f of files) if (!seen.has(f.path)) seen.set(f.path, f);
  return [...seen.values()].sort((a, b) => a.path.localeCompare(b.path));
}
