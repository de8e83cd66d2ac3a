import http2 from 'node:http2';
import type { Stat, Stats } from '../admin/stats.js';
import { abortSession } from './h2-shutdown.js';

/**
 * HTTP/2 "rapid reset" (CVE-2023-44487): a client opens streams and cancels them at once, each
 * costing the proxy a request (routing, an upstream request, maybe a connection) and the client
 * almost nothing, and never more than max_concurrent_streams at a time. A stream whose RST_STREAM
 * is read with its HEADERS never reaches the connection manager (node:http2 does not end a
 * stream it destroyed); one whose reset comes in a later read has started its request, and the
 * reset cancels it (hcm.ts), as in Envoy. What bounds the cost is Envoy's premature reset check
 * (ConnectionManagerImpl::isPrematureRstStream and maybeDrainDueToPrematureResets,
 * conn_manager_impl.cc, Envoy 1.27.1 and later): a stream that closes without a response within
 * its first second is premature; once at least half of `overload.premature_reset_total_stream_count`
 * (500) streams of a connection were premature, or half of all its streams past that count, the
 * connection is closed and `downstream_rq_too_many_premature_resets` counted. Envoy aborts the
 * connection; here a GOAWAY with ENHANCE_YOUR_CALM goes first, so the client learns why.
 */

/** Envoy's runtime defaults overload.premature_reset_total_stream_count and _min_stream_lifetime_seconds. */
const TOTAL_STREAM_COUNT = 500;
const MIN_STREAM_LIFETIME_S = 1;

const guards = new WeakMap<http2.ServerHttp2Session, ResetGuard>();

/** The guard of an HTTP/2 connection (made with its first stream); `prefix` is the HCM's stat prefix. */
export function resetGuard(session: http2.ServerHttp2Session, stats: Stats, prefix: string): ResetGuard {
  let g = guards.get(session);
  if (!g)
    guards.set(
      session,
      (g = new ResetGuard(session, stats.counter(`${prefix}downstream_rq_too_many_premature_resets`))),
    );
  return g;
}

/** The premature reset count of one HTTP/2 connection. */
class ResetGuard {
  private closed = 0;
  private premature = 0;
  private tripped = false;

  constructor(
    private readonly session: http2.ServerHttp2Session,
    private readonly stat: Stat,
  ) {}

  /** A stream of the connection closed (ended or reset); closes the connection when too many were premature. */
  streamClosed(openedAt: number, responded: boolean): void {
    this.closed++;
    // as Envoy: the lifetime in whole seconds, and "responded" meaning a response code was sent
    if (!responded && Math.floor((Date.now() - openedAt) / 1000) <= MIN_STREAM_LIFETIME_S) this.premature++;
    const over =
      this.closed < TOTAL_STREAM_COUNT
        ? this.premature * 2 >= TOTAL_STREAM_COUNT
        : this.premature * 2 >= this.closed;
    if (!over || this.tripped) return;
    this.tripped = true;
    this.stat.value++;
    // GOAWAY(ENHANCE_YOUR_CALM), then the socket is closed; the streams still open are reset
    abortSession(this.session, http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
  }
}
