import type { VersionSupport } from '../versions.js';
import { atLeast, type TargetVersion } from '../versions.js';

/**
 * Header names istiod accepts in a VirtualService match. 1.23.0 to 1.24.3 accept only
 * `^[-_A-Za-z0-9]+$` (istio PR 51343); 1.24.4 and 1.25 accept any RFC 9110 token again (PR 54602,
 * backported as PR 55023), which is what the mesh's schema allows; 1.22 checks only that the name
 * is not empty. (istio pkg/config/validation/validation.go, ValidateHTTPHeaderNameOrJwtClaimRoute.)
 */
export function matchHeaderNameAccepted(version: TargetVersion, name: string): boolean {
  let strict = strictHeaderNames.get(version);
  if (strict === undefined) {
    strict = atLeast(version, '1.23.0') && !atLeast(version, '1.24.4');
    strictHeaderNames.set(version, strict);
  }
  return !strict || /^[-_A-Za-z0-9]+$/.test(name);
}

/** Per version rendered for, whether header names are checked strictly: asked for every match. */
const strictHeaderNames = new WeakMap<TargetVersion, boolean>();

export const ISTIO_VERSIONS: VersionSupport = {
  default: '1.30',
  oldest: '1.22',
  rules: [
    {
      since: '1.22',
      what: 'the oldest version: networking.istio.io/v1 and security.istio.io/v1, the API versions meshgen writes, are served from 1.22 on',
      source:
        'istio manifests/charts/base/crds/crd-all.gen.yaml at 1.22.0 (the first with v1 VirtualService, DestinationRule, Gateway, PeerAuthentication, AuthorizationPolicy)',
    },
    {
      since: '1.23.0',
      what: 'a header name in a route match must match ^[-_A-Za-z0-9]+$, else istiod refuses the whole VirtualService: meshgen leaves such a match out (MG3001)',
      source: 'istio pkg/config/validation/validation.go (ValidateHTTPHeaderNameOrJwtClaimRoute), PR 51343',
    },
    {
      since: '1.24.4',
      what: 'any RFC 9110 token is a header name again (1.25.0 and 1.24.4 on): matches on every header name the mesh allows are kept',
      source: 'istio pkg/config/validation/validation.go (validHeaderNameRegex), PR 54602 and PR 55023',
    },
  ],
};
