import './reflect-shim.js';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };

export interface Pem {
  cert: string;
  key: string;
}

async function keyPem(k: webcrypto.CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', k));
  return `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END PRIVATE KEY-----\n`;
}

const day = 24 * 3600 * 1000;
let serial = 1;

/** A development CA (test only). */
export async function makeCa(
  name: string,
): Promise<Pem & { keys: webcrypto.CryptoKeyPair; x: x509.X509Certificate }> {
  const keys = (await webcrypto.subtle.generateKey(alg, true, [
    'sign',
    'verify',
  ])) as unknown as webcrypto.CryptoKeyPair;
  const x = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: String(serial++).padStart(2, '0'),
    name: `CN=${name}`,
    notBefore: new Date(Date.now() - day),
    notAfter: new Date(Date.now() + day),
    signingAlgorithm: alg,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    ],
  });
  return { cert: x.toString('pem'), key: await keyPem(keys.privateKey), keys, x };
}

/** A leaf certificate signed by ca with DNS, URI (SPIFFE) and IP SANs. */
export async function makeLeaf(
  ca: Awaited<ReturnType<typeof makeCa>>,
  cn: string,
  sans: { dns?: string[]; uri?: string[]; ip?: string[] },
): Promise<Pem> {
  const keys = (await webcrypto.subtle.generateKey(alg, true, [
    'sign',
    'verify',
  ])) as unknown as webcrypto.CryptoKeyPair;
  const names: x509.JsonGeneralName[] = [
    ...(sans.dns ?? []).map((v) => ({ type: 'dns' as const, value: v })),
    ...(sans.uri ?? []).map((v) => ({ type: 'url' as const, value: v })),
    ...(sans.ip ?? []).map((v) => ({ type: 'ip' as const, value: v })),
  ];
  const x = await x509.X509CertificateGenerator.create({
    serialNumber: String(serial++).padStart(2, '0'),
    subject: `CN=${cn}`,
    issuer: ca.x.subject,
    notBefore: new Date(Date.now() - day),
    notAfter: new Date(Date.now() + day),
    signingAlgorithm: alg,
    publicKey: keys.publicKey,
    signingKey: ca.keys.privateKey,
    extensions: [
      new x509.SubjectAlternativeNameExtension(names),
      new x509.ExtendedKeyUsageExtension(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']),
    ],
  });
  return { cert: x.toString('pem'), key: await keyPem(keys.privateKey) };
}
