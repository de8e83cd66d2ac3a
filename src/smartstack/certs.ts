import type { ResolvedMesh } from '../model/types.js';

/**
 * The certificate layout that `meshgen certs <mesh> -o <dir>` writes and the proxy targets read
 * (`--set certDir=<dir>`, default `certs`):
 *
 * - `<dir>/ca.crt`: the mesh CA, trusted for every peer.
 * - `<dir>/<backend>.crt` + `.key`: the identity of a backend (URI SAN
 *   `spiffe://<trustDomain>/ns/<ns>/sa/<sa>`, DNS SANs `<backend>`, `<backend>.<ns>` and the FQDN).
 * - `<dir>/frontends/<frontend>.crt` + `.key`: the identity a frontend's proxy presents to backends.
 * - each HTTPS frontend's `tls.certificate` / `tls.key` as the mesh names them.
 *
 * Beside every `<stem>.crt` sits `<stem>.pem`, certificate and key in one file, which HAProxy reads.
 */
interface CertPair {
  readonly cert: string;
  readonly key: string;
  /** Certificate then key in one file. */
  readonly pem: string;
}

export interface CertPaths {
  readonly ca: string;
  /** Certificate and key of a backend identity. */
  backend(name: string): CertPair;
  /** Certificate and key of a frontend identity. */
  frontend(name: string): CertPair;
  /** The identity a proxy presents to a backend's endpoints for traffic from this parent. */
  client(parent: { kind: 'backend' | 'frontend'; name: string }): CertPair;
}

/**
 * `identity` (a backend name, `--set identity=<backend>`) is the workload a node proxy calls for: its
 * east-west listeners present that backend's certificate. Without it, each east-west listener
 * presents the certificate of the backend it leads to, which lets one proxy for a whole mesh run on a
 * single machine; frontends always present their own.
 */
export function certPaths(dir: string, _mesh: ResolvedMesh, identity?: string): CertPaths {
  const base = dir.replace(/\/+$/, '') || '.';
  const pair = (stem: string): CertPair => ({
    cert: `${base}/${stem}.crt`,
    key: `${base}/${stem}.key`,
    pem: `${base}/${stem}.pem`,
  });
  return {
    ca: `${base}/ca.crt`,
    backend: (name) => pair(name),
    frontend: (name) => pair(`frontends/${name}`),
    client: (parent) =>
      parent.kind === 'frontend' ? pair(`frontends/${parent.name}`) : pair(identity ?? parent.name),
  };
}

/** The combined PEM beside a certificate file: `certs/shop.crt` -> `certs/shop.pem`. */
export function pemPath(certificate: string): string {
  return certificate.replace(/\.(crt|cert|pem)$/, '') + '.pem';
}
