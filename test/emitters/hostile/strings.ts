/**
 * Seeded hostile strings: config syntax, control characters and injection fragments, mixed with
 * strings a field should accept (so the accepted path, and the escaping, is exercised too).
 */

const SYNTAX = [
  '\n',
  '\r',
  '\0',
  '\t',
  ' ',
  ';',
  '{',
  '}',
  '#',
  "'",
  '"',
  '\\',
  '$',
  '%',
  '`',
  '(',
  ')',
  ',',
  '=',
  '*',
  '&',
  '|',
  'é',
  '€',
  '日',
  '\u2028',
  '\u0085',
  '\x7f',
];
const FRAGMENTS = [
  '\n    http-request return status 200 content-type text/plain string INJECTED',
  '\nglobal\n    external-check command /bin/true',
  '; return 200 x;',
  '";} location /x { return 200 x; } #',
  "' if TRUE",
  '${VAR}',
  '$host',
  '%[src]',
  '%{+Q}o',
  '%{x}',
  '\r\nSet-Cookie: session=x',
  ' # comment',
  '\\"',
  '"',
  '}\n',
  '\n}',
  ' if { always_true }',
  '--',
  '../',
];
const TCHAR = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-.^_`|~";
const LOWER = 'abcdefghijklmnopqrstuvwxyz0123456789';
const VCHAR =
  ' !"#$%&\'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~';
const PCHAR = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@%";

/** What a field holds, so that the valid strings generated for it are valid for it. */
export type Kind =
  | 'token'
  | 'value'
  | 'regex'
  | 'path'
  | 'address'
  | 'file'
  | 'host'
  | 'labelKey'
  | 'labelValue'
  | 'name'
  | 'duration'
  | 'endpoint'
  | 'status'
  | 'domain';

/** The kind of a field, from its place in the mesh; names are the default. */
export function kindOf(id: string): Kind {
  const rules: [RegExp, Kind][] = [
    [/labels\{key\}$/, 'labelKey'],
    [/labels\{value\}$/, 'labelValue'],
    [/(headers|set|add|queryParams)\{key\}$|remove\[\]$|hashOn\.(header|cookie)$/, 'token'],
    [/(set|add)\{value\}$|\.(exact|prefix)$/, 'value'],
    [/\.regex$/, 'regex'],
    [/\.address$/, 'address'],
    [/tls\.(certificate|key|clientCa)$/, 'file'],
    [/hosts\[\]$|rewrite\.host$/, 'host'],
    [/interval$|timeout$|Timeout$|duration$|EjectionTime$/, 'duration'],
    [/endpoints\[\]$/, 'endpoint'],
    [/retries\.on\[\]$/, 'status'],
    [/trustDomain$/, 'domain'],
    [/path$|pathPrefix$|paths\[\]$/, 'path'],
  ];
  // path matches (match[].path.exact/prefix) are paths, not header values
  if (/match\[\]\.path\.(exact|prefix)$/.test(id)) return 'path';
  return rules.find(([re]) => re.test(id))?.[1] ?? 'name';
}

export function makeGenerator(rand: () => number) {
  const int = (n: number) => Math.floor(rand() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const from = (alphabet: string, min: number, max: number) => {
    let s = '';
    const n = min + int(max - min + 1);
    for (let i = 0; i < n; i++) s += alphabet[int(alphabet.length)];
    return s;
  };
  const name = () => `${from(LOWER, 1, 1)}${from(`${LOWER}-`, 0, 10)}${from(LOWER, 1, 1)}`;
  const valid: Record<Kind, () => string> = {
    token: () => from(TCHAR, 1, 24),
    value: () => (rand() < 0.3 ? '' : from(VCHAR + 'é€', 1, 40).trim() || 'v'),
    regex: () =>
      pick(['[a-z]+', 'a|b', '^x.*$', '(foo|bar)[0-9]{2}', '.*"quoted".*', "it's", 'a\\.b', '[$%;#{}]+']),
    path: () => `/${from(PCHAR + '/', 0, 30)}`,
    address: () => pick(['127.0.0.1', '0.0.0.0', '::1', '::', '10.1.2.3', 'fe80::1', '2001:db8::42']),
    file: () =>
      `${pick(['certs/', '', 'tls/a/'])}${from(`${LOWER}_-`, 1, 12)}.${pick(['crt', 'pem', 'key'])}`,
    host: () => `${name()}.${pick(['example.com', 'test', 'local'])}`,
    labelKey: () =>
      `${rand() < 0.3 ? 'example.com/' : ''}${from(LOWER, 1, 1)}${from(`${LOWER}-_.`, 0, 12)}${from(LOWER, 1, 1)}`,
    labelValue: () =>
      rand() < 0.2 ? '' : `${from(LOWER, 1, 1)}${from(`${LOWER}-_.`, 0, 12)}${from(LOWER, 1, 1)}`,
    name,
    duration: () => `${1 + int(900)}${pick(['ms', 's', 'm'])}`,
    endpoint: () => `127.0.0.${1 + int(200)}:${1024 + int(60000)}`,
    status: () => String(pick([500, 502, 503, 504, 429, 409, 404])),
    domain: () => `${name()}.${pick(['local', 'example.org'])}`,
  };
  const hostile = (kind: Kind): string => {
    const parts: string[] = [];
    // often a valid prefix, so that a field's own check cannot stop at the first character
    if (rand() < 0.5) parts.push(valid[kind]());
    const n = 1 + int(5);
    for (let i = 0; i < n; i++) {
      const r = rand();
      if (r < 0.35) parts.push(pick(FRAGMENTS));
      else if (r < 0.75) parts.push(from(SYNTAX.join(''), 1, 4));
      else parts.push(from(TCHAR, 1, 6));
    }
    return parts.join('');
  };
  /** `count` strings for a field: a third to a half of them of the field's valid shape. */
  return (kind: Kind, count: number): string[] => {
    const share = ['value', 'token', 'path', 'regex', 'labelValue'].includes(kind) ? 0.5 : 0.3;
    const out: string[] = [];
    for (let i = 0; i < count; i++) out.push(rand() < share ? valid[kind]() : hostile(kind));
    return out;
  };
}
