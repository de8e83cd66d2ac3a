/**
 * A request body streamed as Envoy streams it: the codec hands the request over at its head and
 * pushes the body's chunks as they arrive; the router reads them (a sink: the upstream request)
 * as they come. Bytes no sink has taken are held, and above the connection's buffer limit
 * (`per_connection_buffer_limit_bytes`, Envoy's high watermark) the codec stops reading the
 * downstream (HTTP/1: the socket pauses; HTTP/2: no WINDOW_UPDATE) until the sink has taken them
 * down to half the limit (the low watermark). A sink that cannot take more (the upstream socket's
 * buffer is full) says so and is told when to go on.
 *
 * For a retry or a shadow the router asks that the body be kept whole (`retain`); a body that grows
 * past the limit is then no longer kept (`abandoned`, Envoy's retry_or_shadow_abandoned): the
 * request goes on, without a retry or a shadow.
 */

/** Where the bytes come from: the downstream connection or stream, paused above the limit. */
export interface BodySource {
  pause(): void;
  resume(): void;
}

/** Where the bytes go: one attempt of the upstream request. */
export interface BodySink {
  /** Body bytes; false: the sink is full and calls RequestBody.drained() when it can take more. */
  data(b: Buffer): boolean;
  /** The body ended (all of it was given to data). */
  end(): void;
}

export class RequestBody {
  /** Bytes received from the downstream so far. */
  received = 0;
  /** The downstream sent the whole body. */
  ended = false;
  /** Kept whole for a retry or a shadow (until it passes the limit). */
  private retain = false;
  /** Set when a retained body passed the limit: no retry, no shadow. */
  abandoned = false;
  /** The chunks held: from `first` on; those before `next` went to the sink (held only when retained). */
  private chunks: Buffer[] = [];
  private first = 0;
  private next = 0;
  /** Bytes in chunks[first..]: held in memory. */
  private held = 0;
  /** Bytes in chunks[next..]: not yet taken by a sink. */
  private pending = 0;
  private sink: BodySink | null = null;
  private blocked = false;
  private sinkEnded = false;
  private paused = false;
  private onAbandon: (() => void)[] = [];
  /** Sees each chunk as it arrives (the HTTP filters' decodeData). */
  observer: ((b: Buffer) => void) | undefined = undefined;
  private endWaiters: (() => void)[] = [];

  constructor(
    private readonly source: BodySource,
    /** The buffer limit, in bytes. */
    readonly limit: number,
    /** The declared length (Content-Length), undefined for a chunked body or an HTTP/2 one without it. */
    readonly length: number | undefined,
  ) {}

  /** Keeps the body whole for a replay; `abandon` is called if it grows past the limit. */
  keep(abandon: () => void): void {
    if (!this.replayable) return abandon();
    this.retain = true;
    this.onAbandon.push(abandon);
    if (this.held > this.limit) this.giveUp();
  }

  private giveUp(): void {
    const fs = this.onAbandon;
    this.retain = false;
    this.abandoned = true;
    this.onAbandon = [];
    this.dropTaken();
    for (const f of fs) f();
  }

  /** A sink can be given the whole body from its start: nothing was taken and dropped yet. */
  get replayable(): boolean {
    return !this.abandoned && this.received === this.held;
  }

  /** The downstream's bytes (from the codec). */
  push(b: Buffer): void {
    if (b.length === 0) return;
    this.received += b.length;
    this.observer?.(b);
    this.chunks.push(b);
    this.held += b.length;
    this.pending += b.length;
    if (this.retain && this.held > this.limit) this.giveUp();
    this.flush();
    if (!this.paused && this.pending > this.limit) {
      this.paused = true;
      this.source.pause();
    }
  }

  /** The downstream's body ended (from the codec). */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.flush();
    const w = this.endWaiters;
    this.endWaiters = [];
    for (const f of w) f();
  }

  /** Calls f once the whole body arrived (at once if it has). */
  whenEnded(f: () => void): void {
    if (this.ended) f();
    else this.endWaiters.push(f);
  }

  /** The whole body, when it ended and was kept. */
  whole(): Buffer | undefined {
    if (!this.ended || !this.replayable) return undefined;
    if (this.first === this.chunks.length) return EMPTY;
    const c = this.chunks.slice(this.first);
    return c.length === 1 ? c[0]! : Buffer.concat(c);
  }

  /** A sink takes the body from its start (what is held) on; see replayable. */
  attach(sink: BodySink): void {
    this.sink = sink;
    this.blocked = false;
    this.sinkEnded = false;
    this.next = this.first;
    this.pending = this.held;
    this.flush();
  }

  /** The sink goes away (its attempt was given up). */
  detach(): void {
    this.sink = null;
    this.blocked = false;
  }

  /** The sink took all of the body and its end. */
  get complete(): boolean {
    return this.sinkEnded;
  }

  /** The sink `from` can take more. */
  drained(from: BodySink): void {
    if (this.sink !== from) return;
    this.blocked = false;
    this.flush();
  }

  private flush(): void {
    const sink = this.sink;
    while (sink !== null && !this.blocked && this.next < this.chunks.length) {
      const c = this.chunks[this.next++]!;
      this.pending -= c.length;
      if (!this.retain) this.dropTaken();
      if (!sink.data(c)) this.blocked = true;
      if (this.sink !== sink) return;
    }
    if (sink !== null && this.ended && !this.sinkEnded && this.next === this.chunks.length) {
      this.sinkEnded = true;
      sink.end();
    }
    if (this.paused && this.pending <= this.limit / 2) {
      this.paused = false;
      this.source.resume();
    }
  }

  /** Drops the chunks the sink took (a body not kept whole). */
  private dropTaken(): void {
    for (; this.first < this.next; this.first++) {
      this.held -= this.chunks[this.first]!.length;
      this.chunks[this.first] = EMPTY;
    }
    if (this.first > 64 && this.first * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.first);
      this.next -= this.first;
      this.first = 0;
    }
  }
}

const EMPTY = Buffer.alloc(0);
