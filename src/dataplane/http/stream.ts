import { PROTOCOL, type DownConnection, type ResponseEncoder, type StreamHandle } from '../codec/stream.js';
import { getHeader, type ParsedRequest } from '../codec/http1.js';
import type { RouteMatch, RouteRequest } from '../router/route-match.js';

/** What a request waiting on something (a fault delay, an upstream) does when it is given up. */
export interface Cancelable {
  cancel(): void;
}

/**
 * One downstream request in the connection manager (Envoy's ActiveStream): its state, shared by
 * the filters, the router and the access log; also the request as the route match and RBAC read it.
 */
export class Ctx implements StreamHandle, RouteRequest {
  readonly start = Date.now();
  flags = '-';
  status = 0;
  bytesSent = 0;
  upstreamHost = '-';
  serviceTime = '-';
  requestId: string | undefined = undefined;
  originalPath: string | undefined = undefined;
  done = false;
  headSent = false;
  /** Aborts the upstream side (or a fault delay) when the downstream connection goes away. */
  cancel: Cancelable | undefined = undefined;
  /**
   * The route, matched once per request (the connection manager's routeOf): undefined until then,
   * null when no route matches.
   */
  route: RouteMatch | null | undefined = undefined;
  /** Filters' per-request state, by their index in the chain (CORS keeps its response headers). */
  filterState: unknown[] | undefined = undefined;
  /** Where decoding resumes after a filter stopped it (continueDecoding): the next filter's index. */
  resumeAt = 0;
  readonly method: string;

  constructor(
    readonly req: ParsedRequest,
    readonly conn: DownConnection,
    readonly authority: string,
    /** How the response goes downstream (the codec). */
    readonly encoder: ResponseEncoder,
    private readonly onReset: (ctx: Ctx) => void,
  ) {
    this.method = req.method;
  }

  /** The request's path, as path normalization (http/path.ts) left it. */
  get path(): string {
    return this.req.path;
  }

  /** A request header by lower-case name. */
  header(name: string): string | undefined {
    return getHeader(this.req.headers, name);
  }

  /** %PROTOCOL%. */
  get protocol(): string {
    return PROTOCOL[this.req.version];
  }

  downstreamReset(): void {
    if (this.done) return;
    this.done = true;
    this.flags = this.flags === '-' ? 'DC' : this.flags;
    this.cancel?.cancel();
    this.onReset(this);
  }
}
