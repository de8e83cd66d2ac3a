import type { Stats } from '../admin/stats.js';
import type { Headers } from '../codec/http1.js';
import type { Obj } from '../config/common.js';
import type { HcmConfig, HttpFilterConverter } from '../config/hcm.js';
import type { Allowed, PathError } from '../config/supported.js';
import type { RouteMatch } from '../router/route-match.js';
import type { Runtime } from '../runtime.js';
import type { Ctx } from './stream.js';

/**
 * HTTP filters as Envoy runs them in a connection manager: each request goes through the chain's
 * decoder side in order (the router, last, sends it upstream) and its response through the encoder
 * side in reverse order. The codecs hand a request over at its head; its body follows as it arrives
 * (codec/body.ts), and the router streams it upstream.
 */

/** continue: on to the next filter; stop: the filter answered, or calls continueDecoding later. */
type FilterStatus = 'continue' | 'stop';

/** One HTTP filter of a connection manager, called for each request with its stream. */
export interface HttpFilter {
  decodeHeaders(ctx: Ctx): FilterStatus;
  /**
   * The request body's bytes as they arrive (observed, not changed: no filter buffers or edits a
   * body); endStream on the last call (with the last bytes, or none).
   */
  decodeData?(ctx: Ctx, data: Buffer, endStream: boolean): void;
  /** Request trailers (the codecs do not deliver them yet: see docs/dataplane.md). */
  decodeTrailers?(ctx: Ctx, trailers: Headers): FilterStatus;
  /** The response head: the filter may change its headers. */
  encodeHeaders?(ctx: Ctx, status: number, headers: Headers): void;
  /** Response body bytes as they go downstream (observed, not changed). */
  encodeData?(ctx: Ctx, data: Buffer): void;
}

/**
 * What filters (and the router) may ask of the connection manager for a request: Envoy's
 * StreamDecoderFilterCallbacks and StreamEncoderFilterCallbacks. HttpConnectionManager implements it.
 */
export interface FilterCallbacks {
  readonly cfg: HcmConfig;
  readonly scheme: 'http' | 'https';
  /** Stat prefix: http.<stat_prefix>. */
  readonly p: string;
  readonly stats: Stats;
  readonly rt: Runtime;
  /** The request's route, matched once and kept on the stream (undefined: no route matches). */
  routeOf(ctx: Ctx): RouteMatch | undefined;
  /** Resumes the filter chain after a filter stopped it. */
  continueDecoding(ctx: Ctx): void;
  /**
   * A reply made by the proxy itself (Envoy's local reply); with `route`, the route's response
   * header operations apply.
   */
  local(ctx: Ctx, status: number, body: string, flags: string, route?: RouteMatch, extra?: Headers): void;
  /** The response headers' last changes: the route's response header operations, then the encoder filters. */
  encodeHeaders(ctx: Ctx, status: number, h: Headers, route?: RouteMatch): void;
  /** Sends the response head (with the first body bytes); returns whether the connection is kept. */
  writeHead(ctx: Ctx, status: number, h: Headers, chunked: boolean): boolean;
  /** Response body bytes; false when the downstream wants to drain (`shared`: see ResponseEncoder). */
  sendData(ctx: Ctx, b: Buffer, shared: boolean): boolean;
  /** The response ended: the access log, and the codec's end of the response. */
  finish(ctx: Ctx, keepAlive: boolean, trailers?: Headers): void;
  log(ctx: Ctx): void;
  countResponse(status: number): void;
}

/**
 * An HTTP filter as the registry (filters/registry.ts) knows it: how its typed_config converts,
 * which proto fields it implements (the "not implemented" check), its per-route configuration, and
 * the filter itself, made once per connection manager.
 */
export interface HttpFilterDefinition<C = unknown> extends HttpFilterConverter {
  /** Proto messages the filter reads, with the fields implemented. */
  readonly supported: Allowed;
  convert(tc: Obj, p: string, errors: PathError[]): C | undefined;
  /** The filter at run time; `index`: its place in the chain (for its state on the stream). */
  create(config: C, cb: FilterCallbacks, index: number): HttpFilter;
}
