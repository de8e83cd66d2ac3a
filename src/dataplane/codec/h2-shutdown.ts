import type http2 from 'node:http2';
import type net from 'node:net';
import { Duplex } from 'node:stream';

/**
 * GOAWAY, NO_ERROR, last stream id 2^31-1 (RFC 9113 §6.8): "this connection is closing; open no new
 * stream on it". Every stream the client opened before reading it is still served, unlike a GOAWAY
 * naming the last stream the server saw, which refuses the streams already on their way.
 */
const SHUTDOWN_NOTICE = Buffer.from([0, 0, 8, 7, 0, 0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0]);

/** Envoy's default drain_timeout (HttpConnectionManager): from the notice to the final GOAWAY. */
const DRAIN_TIMEOUT_MS = 5000;

/** How long the notice waits for the client to acknowledge the PING before it goes anyway. */
const FENCE_TIMEOUT_MS = 1000;

/**
 * The byte stream between a downstream socket and node:http2, which carries the session's frames
 * unchanged and can send the shutdown notice between them. node:http2 cannot send it: its goaway()
 * makes nghttp2 ignore every stream opened afterwards whatever last stream id it names, so the
 * client's streams in flight would hang; and nothing may write to a socket node:http2 consumes.
 * Each write of node:http2 holds whole frames, so a frame written between two of them is whole too.
 */
export class H2Wire extends Duplex {
  private wrote = false;
  private noticed = false;
  /** The notice waits for the preface (nothing may precede the server's SETTINGS). */
  private noticeDue = false;
  /** Hold what node:http2 writes after its next write (which carries the fence's PING). */
  private holdAfterNext = false;
  private held: Buffer[] | undefined;
  /** abort() wrote the last frame: nothing more goes out. */
  private aborted = false;

  constructor(private readonly socket: net.Socket) {
    super();
    socket.on('data', (d: Buffer) => {
      if (!this.push(d)) socket.pause();
    });
    socket.on('end', () => this.push(null));
    socket.on('error', (e) => this.destroy(e));
    socket.on('close', () => this.destroy());
  }

  /**
   * Sends the shutdown notice once, behind a fence. An nghttp2 client (node:http2, curl) that reads
   * a GOAWAY drops the streams it has opened but not yet sent; it opens them while it reads a
   * response's end, so a notice read in the same chunk as response frames would cost it requests.
   * So a PING goes first and the frames after it are held: its acknowledgement says that the client
   * has read, and sent what it opened on, everything before; then the notice goes, then the rest.
   */
  notice(session: http2.Http2Session): void {
    if (this.noticed) return;
    this.noticed = true;
    if (!this.wrote) return void (this.noticeDue = true);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      clearTimeout(timer);
      this.release();
    };
    const timer = setTimeout(release, FENCE_TIMEOUT_MS);
    timer.unref();
    try {
      session.ping(release);
      this.holdAfterNext = true;
    } catch {
      release(); // too many PINGs unacknowledged: no fence
    }
  }

  /** The notice, then what was held. */
  private release(): void {
    const held = this.held ?? [];
    this.held = undefined;
    this.holdAfterNext = false;
    const s = this.socket;
    if (s.destroyed || s.writableEnded) return;
    s.cork();
    s.write(SHUTDOWN_NOTICE);
    for (const b of held) s.write(b);
    s.uncork();
  }

  /** The final GOAWAY is going out: a notice still waiting for the preface must not follow it. */
  cancelNotice(): void {
    this.noticeDue = false;
  }

  /**
   * A GOAWAY with an error code, then the connection ends: written here, because node:http2 does
   * not send its own when it is destroyed while a write to this stream is still under way.
   */
  abort(code: number, lastStreamId: number): void {
    const s = this.socket;
    this.aborted = true;
    if (s.destroyed || s.writableEnded) return;
    const goaway = Buffer.from([0, 0, 8, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    goaway.writeUInt32BE(lastStreamId & 0x7fffffff, 9);
    goaway.writeUInt32BE(code, 13);
    if (this.held) for (const h of this.held.splice(0)) s.write(h);
    s.end(goaway);
  }

  override _read(): void {
    this.socket.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.send([chunk], cb);
  }

  override _writev(chunks: { chunk: Buffer }[], cb: (e?: Error | null) => void): void {
    this.send(
      chunks.map((c) => c.chunk),
      cb,
    );
  }

  private send(bufs: Buffer[], cb: (e?: Error | null) => void): void {
    const s = this.socket;
    if (this.aborted || s.destroyed || s.writableEnded) return cb();
    if (this.held) {
      this.held.push(...bufs);
      return cb();
    }
    s.cork();
    for (const b of bufs) s.write(b);
    this.wrote = true;
    if (this.noticeDue) {
      this.noticeDue = false;
      s.write(SHUTDOWN_NOTICE);
    }
    s.uncork();
    if (this.holdAfterNext) {
      this.holdAfterNext = false;
      this.held = [];
    }
    if (s.writableNeedDrain) s.once('drain', () => cb());
    else cb();
  }

  override _final(cb: (e?: Error | null) => void): void {
    if (this.held) this.release();
    this.socket.end();
    cb();
  }

  /**
   * node:http2 destroys its stream right after its last frame (a GOAWAY with an error code): the
   * socket ends instead, so that frame goes out first; a peer that does not close within a second
   * is cut off.
   */
  override _destroy(e: Error | null, cb: (e?: Error | null) => void): void {
    const s = this.socket;
    if (!s.destroyed) {
      s.end();
      const cut = setTimeout(() => s.destroy(), 1000);
      cut.unref();
      s.once('close', () => clearTimeout(cut));
    }
    cb(e);
  }
}

const wires = new WeakMap<http2.Http2Session, H2Wire>();
const final = new WeakMap<http2.Http2Session, NodeJS.Timeout>();

/** Remembers the wire a session runs on (for drainSession). */
export function bindWire(session: http2.Http2Session, wire: H2Wire): void {
  wires.set(session, wire);
  session.once('close', () => clearTimeout(final.get(session)));
}

/**
 * Drains a session as Envoy's connection manager does: the shutdown notice now, so that the client
 * opens its next streams elsewhere, and the final GOAWAY (naming the last stream received) after
 * drain_timeout; the session closes once its streams are done.
 */
export function drainSession(session: http2.Http2Session, timeoutMs = DRAIN_TIMEOUT_MS): void {
  if (session.closed || session.destroyed || final.has(session)) return;
  wires.get(session)?.notice(session);
  const t = setTimeout(() => closeSession(session), timeoutMs);
  t.unref();
  final.set(session, t);
}

/** The final GOAWAY: no stream after the last one received; the session ends with its streams. */
export function closeSession(session: http2.Http2Session): void {
  clearTimeout(final.get(session));
  wires.get(session)?.cancelNotice();
  if (!session.closed && !session.destroyed) session.close();
}

/**
 * Closes a session at once with a GOAWAY carrying `code` (ENHANCE_YOUR_CALM for a flood): its open
 * streams are reset and the connection ends.
 */
export function abortSession(session: http2.Http2Session, code: number): void {
  const wire = wires.get(session);
  if (!wire) return void session.destroy(new Error('connection aborted'), code);
  wire.abort(code, session.state.lastProcStreamID ?? 0);
  session.destroy();
}
