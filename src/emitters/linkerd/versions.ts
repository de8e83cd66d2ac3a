import type { Feature } from '../../model/features.js';
import type { Fidelity } from '../types.js';
import { compareVersions, parseVersion, type TargetVersion, type VersionSupport } from '../versions.js';

/**
 * Linkerd's open-source releases are edge releases (`edge-25.11.3`); a stable version names the edge
 * it was cut from (the `version-2.NN` tags of linkerd/linkerd2). An edge release is read as the newest
 * stable version whose rules it holds: the first edge holding each rule below is in this list.
 */
const EDGE_AS_STABLE: readonly [edge: string, stable: string][] = [
  ['24.8.2', '2.16'], // version-2.16
  ['24.11.8', '2.17'], // version-2.17
  ['25.4.4', '2.18'], // version-2.18, the first edge with linkerd2 PR 13948
  ['25.10.7', '2.19'], // version-2.19
  ['25.11.3', '2.20'], // the first edge with linkerd2 PR 14750 (version-2.20 was cut later)
];

function parseLinkerdVersion(text: string): TargetVersion | undefined {
  const edge = /^edge-(\d{2}\.\d{1,2}\.\d{1,2})$/.exec(text.trim());
  if (!edge) {
    // `stable-2.17.1` (the old stable names) and `2.17` alike
    const v = parseVersion(text.trim().replace(/^stable-/, ''));
    return v && { ...v, text: text.trim() };
  }
  const release = parseVersion(edge[1]!)!;
  let stable: string | undefined;
  for (const [e, s] of EDGE_AS_STABLE) if (compareVersions(release, parseVersion(e)!) >= 0) stable = s;
  // an edge older than 2.16's is older than the oldest supported version
  const v = parseVersion(stable ?? '2.15')!;
  return { ...v, text: text.trim() };
}

/** Request timeouts from `rules[].timeouts.request` on a Service parent (else the annotation). */
export const RULE_TIMEOUTS_SINCE = '2.20';
/** TCPRoutes on a Service with an opaque port (else they are not read at all). */
export const TCP_ROUTES_SINCE = '2.18';

export function linkerdVersions(fidelity: Readonly<Record<Feature, Fidelity>>): VersionSupport {
  return {
    default: '2.20',
    oldest: '2.16',
    parse: parseLinkerdVersion,
    rules: [
      {
        since: RULE_TIMEOUTS_SINCE,
        what: 'the policy controller reads rules[].timeouts.request of an HTTPRoute on a Service; before, only the timeout.linkerd.io/request annotation, which meshgen then writes',
        source:
          'linkerd2 policy-controller/k8s/index/src/outbound/index/http.rs (convert_gateway_rule), PR 14750, edge-25.11.3',
      },
      {
        since: TCP_ROUTES_SINCE,
        what: 'TCPRoutes on a Service are read for its opaque ports; before, 2.16 does not watch them and 2.17 drops them for opaque ports, so meshgen refuses TCP routes on backends (MG3001)',
        source: 'linkerd2 policy-controller/grpc/src/outbound.rs (to_proto), PR 13948, edge-25.4.4',
      },
      {
        since: '2.16',
        what: 'the oldest version: policy.linkerd.io/v1beta3 Server and the retry.linkerd.io annotations meshgen writes',
        source:
          'linkerd2 charts/linkerd-crds/templates/policy/server.yaml; policy-controller/k8s/index/src/outbound/index/http.rs (parse_http_retry)',
      },
    ],
    fidelity(version) {
      if (compareVersions(version, parseVersion(TCP_ROUTES_SINCE)!) >= 0) return fidelity;
      // TCP backends work (opaque ports); their routes, and so TCP splits, are refused
      return { ...fidelity, tcp: 'approximate' };
    },
  };
}
