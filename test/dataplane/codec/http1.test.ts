import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  ConnTimeouts,
  DEFAULT_LIMITS,
  HttpError,
  RequestParser,
  ResponseParser,
  type CodecLimits,
} from '../../../src/dataplane/codec/http1.js';

function parse(s: string, limits: CodecLimits = DEFAULT_LIMITS) {
  const p = new RequestParser(limits);
  p.push(Buffer.from(s, 'latin1'));
  return p.next();
}
/** The status the parser refuses the bytes with; 0 when it accepts them or waits for more. */
function status(s: string, limits: CodecLimits = DEFAULT_LIMITS): number {
  try {
    parse(s, limits);
    return 0;
  } catch (e) {
    return (e as HttpError).status;
  }
}

describe('request parser', () => {
  it('parses a request with a Content-Length body and a pipelined one', () => {
    const p = new RequestParser();
    p.push(
      Buffer.from(
        'POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET /b HTTP/1.1\r\nhost: x\r\n\r\n',
      ),
    );
    const a = p.next()!;
    expect([a.method, a.path, a.body.toString(), a.keepAlive]).toEqual(['POST', '/a', 'abc', true]);
    expect(p.next()!.path).toBe('/b');
    expect(p.next()).toBeNull();
  });
  it('decodes chunked bodies split across packets', () => {
    const p = new RequestParser();
    const wire =
      'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\nx-t: 1\r\n\r\n';
    let got = null;
    for (const ch of wire) {
      p.push(Buffer.from(ch));
      got = p.next() ?? got;
    }
    expect(got!.body.toString()).toBe('abcde');
  });
  it.each([
    [
      'CL and TE together (smuggling)',
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      400,
    ],
    [
      'differing Content-Lengths',
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd',
      400,
    ],
    [
      'TE not ending with chunked',
      'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n',
      400,
    ],
    ['obfuscated TE', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n', 400],
    ['invalid header name', 'GET / HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n', 400],
    ['space before colon', 'GET / HTTP/1.1\r\nHost: x\r\nContent-Length : 1\r\n\r\n', 400],
    ['obs-fold', 'GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n', 400],
    ['bare LF', 'GET / HTTP/1.1\nHost: x\r\n\r\n', 400],
    ['missing Host on 1.1', 'GET / HTTP/1.1\r\n\r\n', 400],
    ['bad Content-Length', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n', 400],
    ['bad chunk size', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 400],
    ['bad request line', 'GET /\r\nHost: x\r\n\r\n', 400],
    ['oversized headers', `GET / HTTP/1.1\r\nHost: x\r\nX: ${'a'.repeat(70_000)}\r\n\r\n`, 431],
  ])('rejects %s', (_n, wire, code) => {
    expect(status(wire)).toBe(code);
  });
});

describe('request parser: what NGINX and HAProxy refuse', () => {
  const chunkedThenGet = (te: string) =>
    `POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: ${te}\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n`;
  it.each([
    // String.trim takes these for whitespace: the codings read as "chunked"
    ['VT before chunked', chunkedThenGet('\x0bchunked'), 400],
    ['FF before chunked', chunkedThenGet('\x0cchunked'), 400],
    ['NBSP after chunked', chunkedThenGet('chunked\xa0'), 400],
    ['0x01 in a value', 'GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x01b\r\n\r\n', 400],
    ['0x1f in a value', 'GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x1fb\r\n\r\n', 400],
    ['ESC in a value', 'GET / HTTP/1.1\r\nHost: x\r\nX-A: \x1b[31m\r\n\r\n', 400],
    ['a control byte in the request line', 'GET / HTTP/1.1\x0b\r\nHost: x\r\n\r\n', 400],
    [
      'a bare LF in a chunk extension',
      'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1;a\nb\r\nA\r\n0\r\n\r\n',
      400,
    ],
    [
      'a bare CR in a chunk extension',
      'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1;a\rb\r\nA\r\n0\r\n\r\n',
      400,
    ],
    [
      'LF-only chunk lines',
      'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\nA\n0\n\n',
      400,
    ],
    [
      'a bad trailer name',
      'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nBad Trailer: 1\r\n\r\n',
      400,
    ],
    [
      'a bare LF in a trailer',
      'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: 1\nX-U: 2\r\n\r\n',
      400,
    ],
    ['two Host headers', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 400],
    ['two equal Host headers', 'GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n', 400],
    ['a space in Host', 'GET / HTTP/1.1\r\nHost: a b\r\n\r\n', 400],
    ['userinfo in Host', 'GET / HTTP/1.1\r\nHost: u@a\r\n\r\n', 400],
    ['an empty Host', 'GET / HTTP/1.1\r\nHost:\r\n\r\n', 400],
    ['a Host with two ports', 'GET / HTTP/1.1\r\nHost: a:1:2\r\n\r\n', 400],
    ['Transfer-Encoding on HTTP/1.0', 'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400],
    ['CONNECT to a path', 'CONNECT /x HTTP/1.1\r\nHost: a\r\n\r\n', 400],
    ['CONNECT with a body', 'CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\nContent-Length: 1\r\n\r\nx', 400],
    ['GET *', 'GET * HTTP/1.1\r\nHost: a\r\n\r\n', 400],
    ['a target without a slash', 'GET x/y HTTP/1.1\r\nHost: a\r\n\r\n', 400],
    ['an absolute target with userinfo', 'GET http://u@a/ HTTP/1.1\r\nHost: a\r\n\r\n', 400],
    ['an absolute target without a host', 'GET http:///x HTTP/1.1\r\nHost: a\r\n\r\n', 400],
    ['a malformed version', 'GET / HTTP/1.1x\r\nHost: a\r\n\r\n', 400],
    ['HTTP/2.0 in a request line', 'GET / HTTP/2.0\r\nHost: a\r\n\r\n', 505],
  ])('refuses %s', (_n, wire, code) => {
    expect(status(wire)).toBe(code);
  });

  it.each([
    // a head that can never end (LF-only) or never be valid is refused at once, not waited for
    ['LF-only line endings', 'GET / HTTP/1.1\nHost: x\n\n'],
    ['an LF ending the request line', 'GET / HTTP/1.1\nHost: x\r\n'],
    ['a TLS ClientHello', '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03'],
    ['an HTTP/0.9 request line', 'GET /\r\n'],
    ['a request line with a bad version', 'GET / HTTP/9\r\nHost: x'],
  ])('refuses %s before the head ends', (_n, wire) => {
    expect(status(wire)).toBe(400);
  });

  it('waits for the rest of a head that is fine so far', () => {
    expect(status('GET / HTTP/1.1\r\nHost: x\r\n')).toBe(0);
    expect(status('GE')).toBe(0);
  });

  it('refuses more header lines than max_headers_count, and heads over max_request_headers_kb, with 431', () => {
    const lines = (n: number) => Array.from({ length: n }, (_, i) => `X-${i}: ${i}\r\n`).join('');
    expect(status(`GET / HTTP/1.1\r\nHost: x\r\n${lines(99)}\r\n`)).toBe(0);
    expect(status(`GET / HTTP/1.1\r\nHost: x\r\n${lines(100)}\r\n`)).toBe(431);
    const small = { ...DEFAULT_LIMITS, maxHeadersCount: 3, maxHeadersBytes: 1024 };
    expect(status(`GET / HTTP/1.1\r\nHost: x\r\n${lines(2)}\r\n`, small)).toBe(0);
    expect(status(`GET / HTTP/1.1\r\nHost: x\r\n${lines(3)}\r\n`, small)).toBe(431);
    expect(status(`GET / HTTP/1.1\r\nHost: x\r\nX: ${'a'.repeat(1100)}\r\n\r\n`, small)).toBe(431);
    expect(status(`GET / HTTP/1.1\r\nHost: x\r\nX: ${'a'.repeat(1100)}`, small)).toBe(431);
  });

  it('reads an absolute-form target as its path, its authority replacing Host (RFC 9112 3.2.2)', () => {
    const r = parse('GET http://a.test:8080/p?q=1 HTTP/1.1\r\nHost: other\r\nX: 1\r\n\r\n')!;
    expect([r.path, r.headers]).toEqual([
      '/p?q=1',
      [
        ['x', '1'],
        ['host', 'a.test:8080'],
      ],
    ]);
    expect(parse('GET https://a.test HTTP/1.1\r\n\r\n')!.path).toBe('/');
  });

  it('ignores empty lines before a request line (RFC 9112 2.2)', () => {
    expect(parse('\r\n\r\nGET /a HTTP/1.1\r\nHost: x\r\n\r\n')!.path).toBe('/a');
  });

  it('keeps obs-text and tabs in values, trimming only spaces and tabs', () => {
    const r = parse('GET / HTTP/1.1\r\nHost: x\r\nX-A: \t caf\xe9\tb \r\n\r\n')!;
    expect(r.headers[1]).toEqual(['x-a', 'caf\xe9\tb']);
  });
});

describe('response parser', () => {
  it('reads a chunked response and a Content-Length one on the same connection', () => {
    const events: string[] = [];
    const p = new ResponseParser(
      (h) => events.push(`head ${h.status}`),
      (b) => events.push(`data ${b}`),
      () => events.push('end'),
    );
    p.reset(false);
    p.push(Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n'));
    p.reset(false);
    p.push(Buffer.from('HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nno'));
    expect(events).toEqual(['head 200', 'data hi', 'end', 'head 404', 'data no', 'end']);
  });
});

describe('response parser: framing and bytes refused before the head is passed on', () => {
  function upstream(wire: string): { events: string[]; status: number } {
    const events: string[] = [];
    const p = new ResponseParser(
      (h) => events.push(`head ${h.status}`),
      () => events.push('data'),
      () => events.push('end'),
    );
    p.reset(false);
    try {
      p.push(Buffer.from(wire, 'latin1'));
      return { events, status: 0 };
    } catch (e) {
      return { events, status: (e as HttpError).status };
    }
  }
  it.each([
    ['differing Content-Lengths', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc'],
    ['Transfer-Encoding: identity', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\n\r\nabc'],
    [
      'Content-Length with Transfer-Encoding',
      'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    ],
    ['a control byte in a value', 'HTTP/1.1 200 OK\r\nX-A: a\x01b\r\nContent-Length: 0\r\n\r\n'],
    ['a bare LF in the head', 'HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n'],
    ['101 header lines', `HTTP/1.1 200 OK\r\n${'X: 1\r\n'.repeat(101)}Content-Length: 0\r\n\r\n`],
  ])('refuses %s with 502, before its head', (_n, wire) => {
    expect(upstream(wire)).toEqual({ events: [], status: 502 });
  });
});

describe('connection timeouts', () => {
  afterEach(() => {
    vi.useRealTimers();
  });
  const limits = { ...DEFAULT_LIMITS, idleTimeoutMs: 1000, requestHeadersTimeoutMs: 300 };
  function timeouts() {
    const fired: string[] = [];
    return { fired, t: new ConnTimeouts(limits, (kind) => fired.push(`${kind} at ${Date.now()}`)) };
  }

  it('fires idle_timeout after a connection has had no request for that long', () => {
    vi.useFakeTimers({ now: 0 });
    const { fired, t } = timeouts();
    vi.advanceTimersByTime(400);
    t.update('serving'); // a request from 400 to 900 ms
    vi.advanceTimersByTime(500);
    t.update('idle');
    vi.advanceTimersByTime(999);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual(['idle at 1900']);
  });

  it('does not count a head or a request in progress as idle, however long', () => {
    vi.useFakeTimers({ now: 0 });
    const { fired, t } = new (class {
      fired: string[] = [];
      t = new ConnTimeouts({ ...limits, requestHeadersTimeoutMs: 0 }, (kind) => this.fired.push(kind));
    })();
    t.update('head');
    vi.advanceTimersByTime(5000);
    t.update('body');
    vi.advanceTimersByTime(5000);
    t.update('serving');
    vi.advanceTimersByTime(5000);
    expect(fired).toEqual([]);
    t.clear();
  });

  it('fires request_headers_timeout from the first byte of a head, not once the head is whole', () => {
    vi.useFakeTimers({ now: 0 });
    const { fired, t } = timeouts();
    t.update('head');
    vi.advanceTimersByTime(200);
    t.update('head'); // more bytes of the same head: the deadline stays
    vi.advanceTimersByTime(100);
    expect(fired).toEqual(['head at 300']);
    const second = timeouts();
    second.t.update('head');
    vi.advanceTimersByTime(299);
    second.t.update('body');
    vi.advanceTimersByTime(1000);
    expect(second.fired).toEqual([]);
    second.t.clear();
  });
});
