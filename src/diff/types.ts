import type { MtlsMode } from '../model/types.js';

/** `backend/<name>` or `frontend/<name>`: the parent a route attaches to. */
export type ParentKey = `${'backend' | 'frontend'}/${string}`;

/**
 * What a caller may send to a backend: one entry per allow rule that accepts it (any entry may
 * accept). An entry without `methods` or `paths` accepts every method or path; `[{}]` is every
 * request. `null` where a value is a Scope means the caller cannot reach the backend at all.
 */
export type Scope = readonly ScopeEntry[];
export interface ScopeEntry {
  readonly methods?: readonly string[];
  readonly paths?: readonly string[];
}

/** Old and new share of one destination (`backend/version`, or `backend` for all its versions as one pool). */
interface WeightChange {
  readonly destination: string;
  readonly before: number;
  readonly after: number;
}

export type RoutePolicy =
  'hosts' | 'timeout' | 'retries' | 'fault' | 'mirror' | 'rewrite' | 'request-headers' | 'response-headers';

/** One semantic change between two meshes. `before`/`after` hold canonical, JSON-ready values. */
export type Change =
  | {
      readonly kind: 'mesh-changed';
      readonly field: string;
      readonly before: unknown;
      readonly after: unknown;
    }
  | {
      readonly kind: 'backend-added' | 'backend-removed';
      readonly backend: string;
      readonly versions: readonly string[];
    }
  | {
      readonly kind: 'backend-changed';
      readonly backend: string;
      readonly field: string;
      readonly before: unknown;
      readonly after: unknown;
    }
  | { readonly kind: 'version-added' | 'version-removed'; readonly backend: string; readonly version: string }
  | {
      readonly kind: 'version-labels-changed';
      readonly backend: string;
      readonly version: string;
      readonly before: Readonly<Record<string, string>>;
      readonly after: Readonly<Record<string, string>>;
    }
  | {
      readonly kind: 'endpoint-added' | 'endpoint-removed';
      readonly backend: string;
      readonly version: string;
      readonly endpoint: string;
    }
  | { readonly kind: 'frontend-added' | 'frontend-removed'; readonly frontend: string }
  | {
      readonly kind: 'frontend-changed';
      readonly frontend: string;
      readonly field: string;
      readonly before: unknown;
      readonly after: unknown;
    }
  | {
      readonly kind: 'route-added' | 'route-removed';
      readonly parent: ParentKey;
      readonly route: string;
      /** 0-based place among the routes of its parent (first match wins). */
      readonly position: number;
      readonly matches: readonly string[];
      readonly to: Readonly<Record<string, number>>;
    }
  | {
      /** The routes both sides share now come in another order: first match picks differently. */
      readonly kind: 'route-order-changed';
      readonly parent: ParentKey;
      readonly before: readonly string[];
      readonly after: readonly string[];
    }
  | {
      readonly kind: 'match-changed';
      readonly parent: ParentKey;
      readonly route: string;
      readonly added: readonly string[];
      readonly removed: readonly string[];
    }
  | {
      readonly kind: 'traffic-shifted';
      readonly parent: ParentKey;
      readonly route: string;
      /** Percent of the route's traffic that now lands elsewhere: sum of max(0, before - after). */
      readonly shifted: number;
      readonly destinations: readonly WeightChange[];
    }
  | {
      readonly kind: 'route-policy-changed';
      readonly parent: ParentKey;
      readonly route: string;
      readonly policy: RoutePolicy;
      readonly before: unknown;
      readonly after: unknown;
    }
  | {
      readonly kind: 'mtls-changed';
      /** `mesh` for spec.mtls; a backend name for that backend's effective mode. */
      readonly scope: 'mesh' | 'backend';
      readonly backend?: string;
      readonly before: MtlsMode;
      readonly after: MtlsMode;
    }
  | {
      /**
       * Reachability: `caller` (a backend or frontend name, or `*` for any caller not named in
       * either side's rules for this backend, listed in `except`) gained, lost or changed access.
       */
      readonly kind: 'access-gained' | 'access-lost' | 'access-changed';
      readonly caller: string;
      readonly backend: string;
      readonly except?: readonly string[];
      readonly before: Scope | null;
      readonly after: Scope | null;
    };

export type ChangeKind = Change['kind'];
