import { diagnostic, type Diagnostic, type KnownCode } from '../../model/diagnostics.js';
import type { ResolvedMesh } from '../../model/types.js';
import type { CertPaths } from '../../smartstack/index.js';
import { TARGET } from './versions.js';

type Obj = Record<string, unknown>;

/** The sections of the file provider's dynamic configuration, filled as routes are read. */
export interface Dynamic {
  readonly http: {
    routers: Record<string, Obj>;
    services: Record<string, Obj>;
    middlewares: Record<string, Obj>;
    serversTransports: Record<string, Obj>;
  };
  readonly tcp: {
    routers: Record<string, Obj>;
    services: Record<string, Obj>;
    middlewares: Record<string, Obj>;
    serversTransports: Record<string, Obj>;
  };
  readonly tls: { certificates: Obj[]; options: Record<string, Obj> };
}

export function emptyDynamic(): Dynamic {
  return {
    http: { routers: {}, services: {}, middlewares: {}, serversTransports: {} },
    tcp: { routers: {}, services: {}, middlewares: {}, serversTransports: {} },
    tls: { certificates: [], options: {} },
  };
}

export interface Ctx {
  readonly mesh: ResolvedMesh;
  readonly certs: CertPaths;
  readonly identity?: string;
  readonly out: Dynamic;
  readonly diagnostics: Diagnostic[];
}

/** Records a diagnostic of the traefik target. */
export function report(ctx: Ctx, code: KnownCode, message: string, pointer?: string, hint?: string): void {
  // the keys present only when set, in this order: pointer, target, hint
  const extra =
    pointer === undefined
      ? hint === undefined
        ? { target: TARGET }
        : { target: TARGET, hint }
      : hint === undefined
        ? { pointer, target: TARGET }
        : { pointer, target: TARGET, hint };
  ctx.diagnostics.push(diagnostic(code, message, extra));
}

/**
 * The middleware every denied request meets: an IP allow list that allows no address Traefik can
 * see (0.0.0.0 is never a peer's source address), so Traefik answers 403 and no backend is called.
 */
export const DENY = 'meshgen-deny';
export const DENY_ALL = { ipAllowList: { sourceRange: ['0.0.0.0/32'] } };
