import { dataSource, stringMatcher, type Obj, type StrMatch } from './common.js';
import type { PathError } from './supported.js';

export interface SanMatcher {
  type: 'DNS' | 'URI' | 'EMAIL' | 'IP_ADDRESS';
  test: StrMatch;
}

/** Downstream or upstream TLS: PEM material read at load time. */
export interface TlsConfig {
  cert?: string;
  key?: string;
  ca?: string;
  requireClientCert: boolean;
  sans: SanMatcher[];
  alpn: string[];
  sni?: string;
}

export function tlsContext(
  ts: Obj,
  p: string,
  errors: PathError[],
  downstream: boolean,
): TlsConfig | undefined {
  const tc = ts.typed_config as Obj | undefined;
  const want = downstream
    ? 'envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext'
    : 'envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';
  if (!tc || tc['@type'] !== want) {
    errors.push({
      path: `${p}/typed_config`,
      message: `a TLS transport socket needs a typed_config of ${want}`,
    });
    return undefined;
  }
  const cp = `${p}/typed_config/common_tls_context`;
  const common = (tc.common_tls_context ?? {}) as Obj;
  const certs = (common.tls_certificates ?? []) as Obj[];
  if (certs.length > 1)
    errors.push({
      path: `${cp}/tls_certificates`,
      message: 'one certificate per context is implemented by meshgen proxy',
    });
  const vc = common.validation_context as Obj | undefined;
  const sans = ((vc?.match_typed_subject_alt_names ?? []) as Obj[]).map((m, i) => ({
    type: String(m.san_type) as SanMatcher['type'],
    test: stringMatcher(
      m.matcher ?? {},
      `${cp}/validation_context/match_typed_subject_alt_names/${i}/matcher`,
      errors,
    ),
  }));
  const out: TlsConfig = {
    cert: dataSource(certs[0]?.certificate_chain, `${cp}/tls_certificates/0/certificate_chain`, errors),
    key: dataSource(certs[0]?.private_key, `${cp}/tls_certificates/0/private_key`, errors),
    ca: dataSource(vc?.trusted_ca, `${cp}/validation_context/trusted_ca`, errors),
    requireClientCert: Boolean(tc.require_client_certificate),
    sans,
    alpn: (common.alpn_protocols ?? []) as string[],
    sni: tc.sni,
  };
  if (downstream && (!out.cert || !out.key))
    errors.push({
      path: `${cp}/tls_certificates`,
      message: 'a downstream TLS context needs a certificate and key',
    });
  if (out.requireClientCert && !out.ca)
    errors.push({
      path: `${cp}/validation_context`,
      message: 'require_client_certificate needs a validation context with trusted_ca',
    });
  return out;
}
