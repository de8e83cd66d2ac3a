/**
 * Raw HTTP/1 requests, malformed or built to smuggle, for test/dataplane/raw-requests.test.ts. Each
 * is sent as written on one connection; `%P` becomes a path that names the case (`/r<n>/a`), so the
 * backend can tell which case a forwarded request came from. `sent` is the most requests the bytes
 * can be read as holding (a smuggled request counts), 1 unless said. `%I` is the case's number, and
 * `%C[...]%C` a chunk holding `...` (its size line, in hex, made once the path is known).
 */
export interface RawCase {
  readonly group: string;
  readonly name: string;
  readonly wire: string;
  readonly sent: number;
}

const H = 'Host: h\r\n';
/** A GET with these extra header lines. */
const get = (extra = ''): string => `GET %P HTTP/1.1\r\n${H}${extra}\r\n`;
/** A POST with these header lines (Host first) and this body. */
const post = (headers: string, body: string): string => `POST %P HTTP/1.1\r\n${H}${headers}\r\n${body}`;
const chunked = (body: string): string => post('Transfer-Encoding: chunked\r\n', body);
const smuggled = `GET %P HTTP/1.1\r\n${H}\r\n`;

const cases: [group: string, name: string, wire: string, sent?: number][] = [
  // well-formed controls: every proxy forwards these
  ['valid', 'a plain GET', get()],
  ['valid', 'a POST with a Content-Length body', post('Content-Length: 5\r\n', 'hello')],
  ['valid', 'a POST with a chunked body', chunked('5\r\nhello\r\n0\r\n\r\n')],
  ['valid', 'HTTP/1.0 without Host', 'GET %P HTTP/1.0\r\n\r\n'],
  ['valid', 'obs-text (0x80-0xff) in a value', get('X-A: caf\xe9\r\n')],
  ['valid', 'an IPv6 literal Host', `GET %P HTTP/1.1\r\nHost: [::1]:80\r\n\r\n`],
  ['valid', 'Transfer-Encoding: Chunked (case)', post('Transfer-Encoding: Chunked\r\n', '0\r\n\r\n')],
  ['valid', 'Content-Length with spaces around it', post('Content-Length:  5 \r\n', 'hello')],
  ['valid', 'a chunk extension', chunked('5;name=value\r\nhello\r\n0\r\n\r\n')],
  ['valid', 'a trailer', chunked('5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n')],
  [
    'valid',
    'Expect: 100-continue with its body',
    post('Expect: 100-continue\r\nContent-Length: 2\r\n', 'hi'),
  ],
  ['valid', 'an underscore in a header name', get('X_A: 1\r\n')],

  // request line
  ['request line', 'a lower-case method', 'get %P HTTP/1.1\r\nHost: h\r\n\r\n'],
  ['request line', 'a method with @', 'G@T %P HTTP/1.1\r\nHost: h\r\n\r\n'],
  ['request line', 'a method with a NUL', 'G\0ET %P HTTP/1.1\r\nHost: h\r\n\r\n'],
  ['request line', 'no method', ' %P HTTP/1.1\r\nHost: h\r\n\r\n'],
  ['request line', 'a 200-character method', `${'A'.repeat(200)} %P HTTP/1.1\r\nHost: h\r\n\r\n`],
  ['request line', 'two spaces after the method', 'GET  %P HTTP/1.1\r\nHost: h\r\n\r\n'],
  ['request line', 'tabs for spaces', 'GET\t%P\tHTTP/1.1\r\nHost: h\r\n\r\n'],
  ['request line', 'a space at its end', 'GET %P HTTP/1.1 \r\nHost: h\r\n\r\n'],
  ['request line', 'a space in the target', 'GET %P b HTTP/1.1\r\nHost: h\r\n\r\n'],
  ['request line', 'a control byte in the target', 'GET %P\x01 HTTP/1.1\r\nHost: h\r\n\r\n'],
  ['request line', 'DEL in the target', 'GET %P\x7f HTTP/1.1\r\nHost: h\r\n\r\n'],
  ['request line', 'NUL in the target', 'GET %P\0 HTTP/1.1\r\nHost: h\r\n\r\n'],
  ['request line', 'a target without a leading slash', 'GET r%I/a HTTP/1.1\r\nHost: h\r\n\r\n'],
  ['request line', 'GET *', 'GET * HTTP/1.1\r\nHost: h\r\nX-Case: %I\r\n\r\n'],
  ['request line', 'a bare CR in it', 'GET %P\rHTTP/1.1\r\nHost: h\r\n\r\n'],
  ['request line', 'a 70 KiB target', `GET %P${'a'.repeat(70_000)} HTTP/1.1\r\nHost: h\r\n\r\n`],
  ['request line', 'a 9 KiB target', `GET %P${'a'.repeat(9000)} HTTP/1.1\r\nHost: h\r\n\r\n`],
  ['request line', 'an empty line before it', `\r\n${get()}`],
  ['request line', 'three empty lines before it', `\r\n\r\n\r\n${get()}`],
  ['request line', 'only a CRLF', '\r\n'],
  ['request line', 'binary garbage', '\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03garbage\r\n\r\n'],
  ['request line', 'a TLS ClientHello', '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03' + '\x00'.repeat(40)],

  // versions
  ['version', 'HTTP/0.9 (no version)', 'GET %P\r\n'],
  ['version', 'no version, with headers', 'GET %P\r\nHost: h\r\n\r\n'],
  ['version', 'HTTP/1.2', 'GET %P HTTP/1.2\r\nHost: h\r\n\r\n'],
  ['version', 'HTTP/1.10', 'GET %P HTTP/1.10\r\nHost: h\r\n\r\n'],
  ['version', 'HTTP/2.0 in a request line', 'GET %P HTTP/2.0\r\nHost: h\r\n\r\n'],
  ['version', 'HTTP/3.0', 'GET %P HTTP/3.0\r\nHost: h\r\n\r\n'],
  ['version', 'HTTP/1', 'GET %P HTTP/1\r\nHost: h\r\n\r\n'],
  ['version', 'http/1.1 in lower case', 'GET %P http/1.1\r\nHost: h\r\n\r\n'],
  ['version', 'XTTP/1.1', 'GET %P XTTP/1.1\r\nHost: h\r\n\r\n'],
  ['version', 'HTTP/01.1', 'GET %P HTTP/01.1\r\nHost: h\r\n\r\n'],
  ['version', 'HTTP/1.1 with a letter after it', 'GET %P HTTP/1.1x\r\nHost: h\r\n\r\n'],
  ['version', 'the HTTP/2 connection preface', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'],

  // line endings
  ['line endings', 'LF only', 'GET %P HTTP/1.1\nHost: h\n\n'],
  ['line endings', 'LF after the request line only', 'GET %P HTTP/1.1\nHost: h\r\n\r\n'],
  ['line endings', 'LF ending the head', 'GET %P HTTP/1.1\r\nHost: h\r\n\n'],
  ['line endings', 'a bare CR between headers', 'GET %P HTTP/1.1\r\nHost: h\rX-A: 1\r\n\r\n'],
  ['line endings', 'a bare LF in a value', get('X-A: a\nb\r\n')],
  ['line endings', 'CR CR LF', get('X-A: 1\r\r\n')],

  // header names and values
  ['headers', 'obs-fold with a space', get('X-A: a\r\n b\r\n')],
  ['headers', 'obs-fold with a tab', get('X-A: a\r\n\tb\r\n')],
  ['headers', 'a first header line folded', 'GET %P HTTP/1.1\r\n X-A: 1\r\nHost: h\r\n\r\n'],
  ['headers', 'a space in a name', get('Bad Header: 1\r\n')],
  ['headers', 'a space before the colon', get('X-A : 1\r\n')],
  ['headers', 'a tab before the colon', get('X-A\t: 1\r\n')],
  ['headers', 'a line without a colon', get('X-A 1\r\n')],
  ['headers', 'an empty name', get(': 1\r\n')],
  ['headers', 'a control byte in a name', get('X\x01A: 1\r\n')],
  ['headers', 'NUL in a name', get('X\0A: 1\r\n')],
  ['headers', 'a parenthesis in a name', get('X(A): 1\r\n')],
  ['headers', 'a non-ASCII byte in a name', get('X\xe9A: 1\r\n')],
  ['headers', 'NUL in a value', get('X-A: a\0b\r\n')],
  ['headers', '0x01 in a value', get('X-A: a\x01b\r\n')],
  ['headers', 'VT (0x0b) in a value', get('X-A: a\x0bb\r\n')],
  ['headers', 'FF (0x0c) in a value', get('X-A: a\x0cb\r\n')],
  ['headers', 'ESC (0x1b) in a value', get('X-A: a\x1bb\r\n')],
  ['headers', '0x1f in a value', get('X-A: a\x1fb\r\n')],
  ['headers', 'DEL in a value', get('X-A: a\x7fb\r\n')],
  ['headers', 'a 70 KiB value', get(`X-A: ${'a'.repeat(70_000)}\r\n`)],
  ['headers', 'a 20 KiB value', get(`X-A: ${'a'.repeat(20_000)}\r\n`)],
  ['headers', '150 headers', get(Array.from({ length: 150 }, (_, i) => `X-H${i}: ${i}\r\n`).join(''))],
  ['headers', '1000 headers', get(Array.from({ length: 1000 }, (_, i) => `X-H${i}: ${i}\r\n`).join(''))],
  ['headers', 'a colon first in a name (:authority)', get(':authority: x\r\n')],

  // Host
  ['host', 'no Host on HTTP/1.1', 'GET %P HTTP/1.1\r\n\r\n'],
  ['host', 'two equal Host headers', `GET %P HTTP/1.1\r\n${H}${H}\r\n`],
  ['host', 'two different Host headers', `GET %P HTTP/1.1\r\n${H}Host: other\r\n\r\n`],
  ['host', 'a Host list', 'GET %P HTTP/1.1\r\nHost: a, b\r\n\r\n'],
  ['host', 'an empty Host', 'GET %P HTTP/1.1\r\nHost:\r\n\r\n'],
  ['host', 'a space in Host', 'GET %P HTTP/1.1\r\nHost: a b\r\n\r\n'],
  ['host', 'userinfo in Host', 'GET %P HTTP/1.1\r\nHost: user@h\r\n\r\n'],
  ['host', 'a path in Host', 'GET %P HTTP/1.1\r\nHost: h/x\r\n\r\n'],
  ['host', 'a backslash in Host', 'GET %P HTTP/1.1\r\nHost: h\\x\r\n\r\n'],
  ['host', 'a letter port in Host', 'GET %P HTTP/1.1\r\nHost: h:abc\r\n\r\n'],
  ['host', 'two ports in Host', 'GET %P HTTP/1.1\r\nHost: h:80:80\r\n\r\n'],
  ['host', 'an unclosed IPv6 literal', 'GET %P HTTP/1.1\r\nHost: [::1\r\n\r\n'],

  // absolute form, authority form, CONNECT
  ['target form', 'absolute form', 'GET http://h%P HTTP/1.1\r\nHost: h\r\n\r\n'],
  ['target form', 'absolute form with another Host', 'GET http://h%P HTTP/1.1\r\nHost: other\r\n\r\n'],
  ['target form', 'absolute form without Host', 'GET http://h%P HTTP/1.1\r\n\r\n'],
  ['target form', 'absolute form with userinfo', 'GET http://u:p@h%P HTTP/1.1\r\nHost: h\r\n\r\n'],
  ['target form', 'absolute form, https', 'GET https://h%P HTTP/1.1\r\nHost: h\r\n\r\n'],
  ['target form', 'absolute form, ftp', 'GET ftp://h%P HTTP/1.1\r\nHost: h\r\n\r\n'],
  ['target form', 'absolute form without a host', 'GET http://%P HTTP/1.1\r\nHost: h\r\n\r\n'],
  ['target form', 'authority form on GET', 'GET h:80 HTTP/1.1\r\nHost: h\r\nX-Case: %I\r\n\r\n'],
  ['target form', 'CONNECT', 'CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\nX-Case: %I\r\n\r\n'],
  ['target form', 'CONNECT with a path', 'CONNECT %P HTTP/1.1\r\nHost: h\r\n\r\n'],
  [
    'target form',
    'CONNECT with a body',
    'CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\nX-Case: %I\r\nContent-Length: 5\r\n\r\nhello',
  ],
  [
    'target form',
    'CONNECT with chunked',
    'CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\nX-Case: %I\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
  ],
  ['target form', 'OPTIONS *', 'OPTIONS * HTTP/1.1\r\nHost: h\r\nX-Case: %I\r\n\r\n'],

  // Content-Length
  [
    'content-length',
    'two equal Content-Lengths',
    post('Content-Length: 5\r\nContent-Length: 5\r\n', 'hello'),
  ],
  [
    'content-length',
    'two different Content-Lengths',
    post('Content-Length: 5\r\nContent-Length: 6\r\n', 'hello!'),
  ],
  ['content-length', 'a list of equal values', post('Content-Length: 5, 5\r\n', 'hello')],
  ['content-length', 'a list of different values', post('Content-Length: 5, 6\r\n', 'hello!')],
  ['content-length', 'a plus sign', post('Content-Length: +5\r\n', 'hello')],
  ['content-length', 'a minus sign', post('Content-Length: -5\r\n', 'hello')],
  ['content-length', 'hex', post('Content-Length: 0x5\r\n', 'hello')],
  ['content-length', 'a space inside', post('Content-Length: 5 5\r\n', 'hello')],
  ['content-length', 'an exponent', post('Content-Length: 5e0\r\n', 'hello')],
  ['content-length', 'a decimal point', post('Content-Length: 5.0\r\n', 'hello')],
  ['content-length', 'empty', post('Content-Length:\r\n', 'hello')],
  ['content-length', 'overflowing 64 bits', post('Content-Length: 99999999999999999999999\r\n', 'hello')],
  ['content-length', 'a VT before the number', post('Content-Length: \x0b5\r\n', 'hello')],
  ['content-length', 'a body on GET', `GET %P HTTP/1.1\r\n${H}Content-Length: 5\r\n\r\nhello`],
  [
    'content-length',
    'a body longer than Content-Length (the rest is a request)',
    post('Content-Length: 0\r\n', smuggled),
    2,
  ],

  // Transfer-Encoding
  [
    'transfer-encoding',
    'CL then TE (CL.TE smuggling)',
    post('Content-Length: 6\r\nTransfer-Encoding: chunked\r\n', `0\r\n\r\n${smuggled}`),
    2,
  ],
  [
    'transfer-encoding',
    'TE then CL (TE.CL smuggling)',
    post('Transfer-Encoding: chunked\r\nContent-Length: 4\r\n', `%C[${smuggled}]%C\r\n0\r\n\r\n`),
    2,
  ],
  [
    'transfer-encoding',
    'VT before chunked',
    post('Transfer-Encoding: \x0bchunked\r\n', `0\r\n\r\n${smuggled}`),
    2,
  ],
  [
    'transfer-encoding',
    'FF before chunked',
    post('Transfer-Encoding: \x0cchunked\r\n', `0\r\n\r\n${smuggled}`),
    2,
  ],
  [
    'transfer-encoding',
    'NBSP after chunked',
    post('Transfer-Encoding: chunked\xa0\r\n', `0\r\n\r\n${smuggled}`),
    2,
  ],
  [
    'transfer-encoding',
    'CR before chunked',
    post('Transfer-Encoding: \rchunked\r\n', `0\r\n\r\n${smuggled}`),
    2,
  ],
  ['transfer-encoding', 'a tab before chunked', post('Transfer-Encoding:\tchunked\r\n', '0\r\n\r\n')],
  ['transfer-encoding', 'xchunked', post('Transfer-Encoding: xchunked\r\n', `0\r\n\r\n${smuggled}`), 2],
  ['transfer-encoding', 'chunked-false', post('Transfer-Encoding: chunked-false\r\n', '0\r\n\r\n')],
  ['transfer-encoding', '"chunked" in quotes', post('Transfer-Encoding: "chunked"\r\n', '0\r\n\r\n')],
  [
    'transfer-encoding',
    'chunked twice in one value',
    post('Transfer-Encoding: chunked, chunked\r\n', '0\r\n\r\n'),
  ],
  [
    'transfer-encoding',
    'chunked in two headers',
    post('Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n', '0\r\n\r\n'),
  ],
  ['transfer-encoding', 'gzip, chunked', post('Transfer-Encoding: gzip, chunked\r\n', '0\r\n\r\n')],
  ['transfer-encoding', 'chunked, gzip', post('Transfer-Encoding: chunked, gzip\r\n', '0\r\n\r\n')],
  ['transfer-encoding', 'identity', post('Transfer-Encoding: identity\r\n', '0\r\n\r\n')],
  [
    'transfer-encoding',
    'identity with Content-Length',
    post('Transfer-Encoding: identity\r\nContent-Length: 5\r\n', 'hello'),
  ],
  ['transfer-encoding', 'chunked with a parameter', post('Transfer-Encoding: chunked;q=1\r\n', '0\r\n\r\n')],
  ['transfer-encoding', 'an empty element', post('Transfer-Encoding: , chunked\r\n', '0\r\n\r\n')],
  ['transfer-encoding', 'folded onto a second line', post('Transfer-Encoding:\r\n chunked\r\n', '0\r\n\r\n')],
  [
    'transfer-encoding',
    'with an underscore (Transfer_Encoding)',
    post('Transfer_Encoding: chunked\r\n', `0\r\n\r\n${smuggled}`),
    2,
  ],
  ['transfer-encoding', 'on HTTP/1.0', 'POST %P HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
  [
    'transfer-encoding',
    'with Content-Length: 0 on GET',
    `GET %P HTTP/1.1\r\n${H}Content-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
  ],

  // chunked bodies
  ['chunked', 'a size overflowing 64 bits', chunked('fffffffffffffffff1\r\nhello\r\n0\r\n\r\n')],
  ['chunked', 'a negative size', chunked('-5\r\nhello\r\n0\r\n\r\n')],
  ['chunked', 'a size with a letter', chunked('5g\r\nhello\r\n0\r\n\r\n')],
  ['chunked', 'a 0x size', chunked('0x5\r\nhello\r\n0\r\n\r\n')],
  ['chunked', 'a space before the size', chunked(' 5\r\nhello\r\n0\r\n\r\n')],
  ['chunked', 'a space after the size', chunked('5 \r\nhello\r\n0\r\n\r\n')],
  ['chunked', 'an empty size line', chunked('\r\nhello\r\n0\r\n\r\n')],
  ['chunked', 'a 100-digit size of leading zeros', chunked(`${'0'.repeat(100)}5\r\nhello\r\n0\r\n\r\n`)],
  ['chunked', 'a bare LF in an extension', chunked('5;a\nb\r\nhello\r\n0\r\n\r\n')],
  ['chunked', 'a bare CR in an extension', chunked('5;a\rb\r\nhello\r\n0\r\n\r\n')],
  ['chunked', 'a control byte in an extension', chunked('5;a\x01b\r\nhello\r\n0\r\n\r\n')],
  ['chunked', 'data longer than its size', chunked('3\r\nhello\r\n0\r\n\r\n')],
  ['chunked', 'data without its CRLF', chunked('5\r\nhello0\r\n\r\n')],
  ['chunked', 'LF-only chunk lines', chunked('5\nhello\n0\n\n')],
  ['chunked', 'a trailer with a space in its name', chunked('5\r\nhello\r\n0\r\nBad Trailer: 1\r\n\r\n')],
  ['chunked', 'a trailer without a colon', chunked('5\r\nhello\r\n0\r\nX-T\r\n\r\n')],
  ['chunked', 'a folded trailer', chunked('5\r\nhello\r\n0\r\nX-T: 1\r\n 2\r\n\r\n')],
  ['chunked', 'a bare LF in a trailer', chunked('5\r\nhello\r\n0\r\nX-T: 1\nX-U: 2\r\n\r\n')],
  ['chunked', 'a control byte in a trailer', chunked('5\r\nhello\r\n0\r\nX-T: a\x01b\r\n\r\n')],
  ['chunked', 'a request after the last chunk', chunked(`5\r\nhello\r\n0\r\n\r\n${smuggled}`), 2],

  // pipelining
  ['pipelining', 'two GETs', `${get()}${smuggled}`, 2],
  ['pipelining', 'three GETs', `${get()}${get()}${smuggled}`, 3],
  [
    'pipelining',
    'a GET then a malformed request',
    `${get()}GET %P HTTP/1.1\r\nBad Header: 1\r\nHost: h\r\n\r\n`,
    2,
  ],
  ['pipelining', 'a GET then an LF-only request', `${get()}GET %P HTTP/1.1\nHost: h\n\n`, 2],
  [
    'pipelining',
    'a GET with Connection: close then another',
    `${get('Connection: close\r\n')}${smuggled}`,
    2,
  ],
  ['pipelining', 'HTTP/1.0 without keep-alive then another', `GET %P HTTP/1.0\r\n\r\n${smuggled}`, 2],

  // upgrades
  [
    'upgrade',
    'an h2c upgrade',
    get(
      'Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n',
    ),
  ],
  ['upgrade', 'Upgrade without Connection: upgrade', get('Upgrade: websocket\r\n')],
];

/** The cases, numbered: `%P` in each is `/r<index>/a`. */
export const RAW_CASES: readonly RawCase[] = cases.map(([group, name, wire, sent]) => ({
  group,
  name,
  wire,
  sent: sent ?? 1,
}));

/** The bytes of case i, with its path. */
export function wireOf(i: number): string {
  return RAW_CASES[i]!.wire.replaceAll('%P', `/r${i}/a`)
    .replaceAll('%I', String(i))
    .replace(/%C\[([^]*?)\]%C/g, (_m, data: string) => `${data.length.toString(16)}\r\n${data}`);
}
