// Steady, bounded keep-alive load (HTTP/1.1 or HTTP/2) that counts what a client sees: used by
// bench/reload.mjs and by the reload tests (test/dataplane/reload.test.ts, test/cli/watch.test.ts). A
// well-behaved client that retries nothing: HTTP/1.1 through an http.Agent with keep-alive (a
// response with `connection: close` retires its connection, and the next request opens a new one;
// a server without keep-alive gets a connection per request), HTTP/2 through sessions that take no
// new stream once the server sent GOAWAY (the next request opens a new session). Every request is
// counted once, whatever connection it went out on.
import http from 'node:http';
import http2 from 'node:http2';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const HEADERS = 1;
const UNSENT = 'unsent';

/**
 * One HTTP/1.1 request through the agent: 'ok', 'failed' (an error status) or the error's name.
 * `onSocket` sees the connection it goes out on (a new one, or one the agent kept alive).
 */
function http1Request(agent, host, port, path, onSocket) {
  return new Promise((resolve) => {
    const req = http.request({ agent, host, port, path }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode < 400 ? 'ok' : `status ${res.statusCode}`));
      res.on('error', (e) => resolve(e.code ?? e.message));
    });
    req.on('error', (e) => resolve(e.code ?? e.message));
    req.on('socket', onSocket);
    req.end();
  });
}

/** HTTP/2 sessions, one per slot, each replaced once it is closing (GOAWAY) or gone. */
function h2Pool(host, port, slots) {
  const sessions = new Array(slots).fill(null);
  const usable = (s) => s && !s.closed && !s.destroyed && !s.goneAway;
  return {
    opened: 0,
    get(i) {
      let s = sessions[i % slots];
      if (!usable(s)) {
        s = http2.connect(`http://${host}:${port}`);
        s.on('error', () => {});
        s.once('goaway', () => (s.goneAway = true));
        sessions[i % slots] = s;
        this.opened++;
      }
      return s;
    },
    close() {
      for (const s of sessions) s?.close();
    },
  };
}

function h2Request(session, path) {
  return new Promise((resolve) => {
    let st;
    try {
      st = session.request({ ':path': path });
    } catch (e) {
      return resolve(e.code ?? e.message);
    }
    let status = 0;
    let unsent = false;
    st.on('response', (h) => (status = Number(h[':status'])));
    // the client's own HTTP/2 stack did not send the request (node:http2 drops the streams it queued
    // but had not written when it reads a GOAWAY): it never reached the server
    st.once('frameError', (type) => (unsent ||= type === HEADERS));
    st.resume();
    st.on('end', () => resolve(status && status < 400 ? 'ok' : `status ${status}`));
    // a stream error names its HTTP/2 error code only in the message (NGHTTP2_REFUSED_STREAM)
    st.on('error', (e) =>
      resolve(unsent ? UNSENT : e.code === 'ERR_HTTP2_STREAM_ERROR' ? e.message : (e.code ?? e.message)),
    );
  });
}

/**
 * Starts `connections` clients (HTTP/2: concurrent streams over `sessions` sessions) that each send
 * the next request when the previous one is answered, paced to `rate` requests/s in all (0: as fast
 * as answers come). `counts` grows as answers come: sent, ok, failed (error statuses), dropped
 * (connection errors, no answer), unsent (HTTP/2 streams the client itself gave up before sending
 * them), and `outcomes` by name; `stop()` waits for the requests in flight.
 */
export function startLoad({
  port,
  host = '127.0.0.1',
  protocol = 'http1',
  connections = 32,
  sessions = 4,
  rate = 0,
  path = '/',
}) {
  const counts = { sent: 0, ok: 0, failed: 0, dropped: 0, unsent: 0, outcomes: {} };
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const pool = protocol === 'h2' ? h2Pool(host, port, Math.min(sessions, connections)) : undefined;
  // HTTP/1.1: the connections the agent opened (a request per connection when the server closes each)
  const sockets = new WeakSet();
  let opened = 0;
  const onSocket = (socket) => {
    if (sockets.has(socket)) return;
    sockets.add(socket);
    opened++;
  };
  const t0 = Date.now();
  let slot = 0;
  let running = true;
  const one = async (i) => {
    if (rate > 0) await sleep(t0 + (slot++ * 1000) / rate - Date.now());
    if (!running) return;
    counts.sent++;
    const r = pool
      ? await h2Request(pool.get(i), path)
      : await http1Request(agent, host, port, path, onSocket);
    if (r === 'ok') counts.ok++;
    else {
      if (r.startsWith('status ')) counts.failed++;
      else if (r === UNSENT) counts.unsent++;
      else counts.dropped++;
      counts.outcomes[r] = (counts.outcomes[r] ?? 0) + 1;
    }
  };
  const clients = Array.from({ length: connections }, async (_, i) => {
    while (running) await one(i);
  });
  return {
    counts,
    get sessionsOpened() {
      return pool?.opened ?? 0;
    },
    get connectionsOpened() {
      return pool ? 0 : opened;
    },
    async stop() {
      running = false;
      await Promise.all(clients);
      agent.destroy();
      pool?.close();
      return counts;
    },
  };
}
