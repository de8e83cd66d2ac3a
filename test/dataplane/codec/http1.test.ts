import { describe, expect, it } from 'vitest';
import { HttpError, RequestParser, ResponseParser } from '../../../src/dataplane/codec/http1.js';

function parse(s: string) {
  const p = new RequestParser();
  p.push(Buffer.from(s, 'latin1'));
  return p.next();
}
function status(s: string): number {
  try {
    parse(s);
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
