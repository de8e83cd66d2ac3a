import type { ResolvedBackend } from '../../model/types.js';
import { TYPE, typed, type Json } from './common.js';

/**
 * Certificate layout under certDir: `ca.crt` is the mesh's trust bundle; `<name>.crt` and
 * `<name>.key` are the certificate and key of the workload `<name>` (a backend or a frontend), with
 * its SPIFFE identity as a URI SAN.
 */
function workloadCertificate(certDir: string, name: string): Json {
  return {
    certificate_chain: { filename: `${certDir}/${name}.crt` },
    private_key: { filename: `${certDir}/${name}.key` },
  };
}

function meshCa(certDir: string): Json {
  return { filename: `${certDir}/ca.crt` };
}

/** True when callers talk TLS to this backend (strict, and permissive: callers always send mTLS). */
export function callersUseTls(backend: ResolvedBackend): boolean {
  return backend.mtlsMode !== 'disabled';
}

/**
 * The name of the secret in each sidecar's `static_resources.secrets` that holds its workload's
 * certificate: the shared outbound clusters present it by this name (an SdsSecretConfig with no
 * sds_config is looked up among the static secrets), so that they are the same for every sidecar.
 */
export const WORKLOAD_SECRET = 'workload';

/** The sidecar's `workload` secret: the certificate and key of backend `name`. */
export function workloadSecret(certDir: string, name: string): Json {
  return { name: WORKLOAD_SECRET, tls_certificate: workloadCertificate(certDir, name) };
}

/** Who presents a certificate to the upstream: a workload's files, or the sidecar's `workload` secret. */
export type Caller = { readonly workload: string } | { readonly secret: string };

/**
 * The transport socket of a cluster to `backend`: mTLS with the caller's workload certificate,
 * accepting only a peer whose URI SAN is the backend's SPIFFE identity.
 */
export function upstreamTls(certDir: string, caller: Caller, backend: ResolvedBackend): Json {
  const h2 = backend.protocol === 'http2' || backend.protocol === 'grpc';
  const certificate =
    'secret' in caller
      ? { tls_certificate_sds_secret_configs: [{ name: caller.secret }] }
      : { tls_certificates: [workloadCertificate(certDir, caller.workload)] };
  return {
    name: 'envoy.transport_sockets.tls',
    typed_config: typed(TYPE.upstreamTls, {
      common_tls_context: {
        ...certificate,
        validation_context: {
          trusted_ca: meshCa(certDir),
          match_typed_subject_alt_names: [{ san_type: 'URI', matcher: { exact: backend.identity } }],
        },
        alpn_protocols: h2 ? ['h2'] : undefined,
      },
      sni: backend.fqdn,
    }),
  };
}

/**
 * The transport socket of a sidecar's inbound listener: mTLS with the backend's own certificate,
 * requiring a client certificate signed by the mesh CA whose URI SAN is an identity of the mesh's
 * trust domain (which identity may call is the RBAC filter's business).
 */
export function inboundTls(certDir: string, backend: ResolvedBackend, trustDomain: string): Json {
  return {
    name: 'envoy.transport_sockets.tls',
    typed_config: typed(TYPE.downstreamTls, {
      common_tls_context: {
        tls_certificates: [workloadCertificate(certDir, backend.name)],
        validation_context: {
          trusted_ca: meshCa(certDir),
          match_typed_subject_alt_names: [
            { san_type: 'URI', matcher: { prefix: `spiffe://${trustDomain}/` } },
          ],
        },
        alpn_protocols: backend.protocol === 'tcp' ? undefined : ['h2', 'http/1.1'],
      },
      require_client_certificate: true,
    }),
  };
}

/** A frontend's TLS termination with the files it names; client certificates when clientCa is set. */
export function frontendTls(tls: { certificate?: string; key?: string; clientCa?: string }): Json {
  return {
    name: 'envoy.transport_sockets.tls',
    typed_config: typed(TYPE.downstreamTls, {
      common_tls_context: {
        tls_certificates: [
          { certificate_chain: { filename: tls.certificate }, private_key: { filename: tls.key } },
        ],
        validation_context: tls.clientCa ? { trusted_ca: { filename: tls.clientCa } } : undefined,
        alpn_protocols: ['h2', 'http/1.1'],
      },
      require_client_certificate: tls.clientCa ? true : undefined,
    }),
  };
}
