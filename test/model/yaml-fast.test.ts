import fs from 'node:fs';
import path from 'node:path';
import jsyaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { fastLoad, resolvePlain } from '../../src/model/yaml-fast.js';
import { parseYaml } from '../../src/model/yaml.js';
import { generateMesh } from '../../bench/gen-mesh.mjs';
import { ROOT } from '../support/meshes.js';
import { seededRandom } from '../support/random.js';

type JsResult = { ok: true; docs: unknown[] } | { ok: false; reason: string };

function jsLoad(text: string): JsResult {
  try {
    return { ok: true, docs: jsyaml.loadAll(text, null, { schema: jsyaml.CORE_SCHEMA }) };
  } catch (e) {
    return { ok: false, reason: (e as Error).message };
  }
}

/**
 * The first difference between two values, or undefined: types, -0 and NaN, numbers against
 * strings, arrays against objects, prototypes, own keys in order, property attributes.
 */
function difference(a: unknown, b: unknown, at = '/'): string | undefined {
  if (typeof a !== typeof b) return `${at}: ${typeof a} against ${typeof b}`;
  if (typeof a === 'number') return Object.is(a, b) ? undefined : `${at}: ${a} against ${String(b)}`;
  if (a === null || b === null || typeof a !== 'object')
    return a === b ? undefined : `${at}: ${String(a)} against ${String(b)}`;
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  if (Array.isArray(x) !== Array.isArray(y)) return `${at}: array against object`;
  if (Object.getPrototypeOf(x) !== Object.getPrototypeOf(y)) return `${at}: prototypes differ`;
  const kx = Reflect.ownKeys(x);
  const ky = Reflect.ownKeys(y);
  if (JSON.stringify(kx.map(String)) !== JSON.stringify(ky.map(String)))
    return `${at}: keys ${JSON.stringify(kx.map(String))} against ${JSON.stringify(ky.map(String))}`;
  for (const k of kx) {
    const dx = Object.getOwnPropertyDescriptor(x, k)!;
    const dy = Object.getOwnPropertyDescriptor(y, k)!;
    if (dx.enumerable !== dy.enumerable || dx.writable !== dy.writable || dx.configurable !== dy.configurable)
      return `${at}${String(k)}: property attributes differ`;
    const d = difference(dx.value, dy.value, `${at}${String(k)}/`);
    if (d) return d;
  }
  return undefined;
}

/**
 * fastLoad either gives up or gives exactly js-yaml's value (and gives up whenever js-yaml throws or
 * finds other than one document). Returns which.
 */
function check(text: string): 'bail' | 'value' {
  const fast = fastLoad(text);
  if (fast === undefined) return 'bail';
  const js = jsLoad(text);
  if (!js.ok) throw new Error(`js-yaml throws (${js.reason}) where fastLoad gave a value for:\n${text}`);
  if (js.docs.length !== 1)
    throw new Error(`js-yaml finds ${js.docs.length} documents where fastLoad gave one value for:\n${text}`);
  const d = difference(fast.value, js.docs[0]);
  if (d !== undefined || JSON.stringify(fast.value) !== JSON.stringify(js.docs[0]))
    throw new Error(`fastLoad and js-yaml differ (${d ?? 'in JSON'}) for:\n${text}`);
  return 'value';
}

function filesUnder(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)]))
    .sort();
}

describe('the difference check', () => {
  it('tells apart what the comparison must tell apart', () => {
    expect(difference({ a: 0 }, { a: -0 })).toBeDefined();
    expect(difference({ a: 1 }, { a: '1' })).toBeDefined();
    expect(difference({ a: NaN }, { a: NaN })).toBeUndefined();
    expect(difference({ a: 1, b: 2 }, { b: 2, a: 1 })).toBeDefined();
    expect(difference([1], { 0: 1 })).toBeDefined();
    expect(difference({}, Object.create(null))).toBeDefined();
    expect(difference({ a: null }, { a: undefined })).toBeDefined();
    expect(difference([[1, { x: 'y' }]], [[1, { x: 'y' }]])).toBeUndefined();
  });
});

describe('fastLoad on real mesh files', () => {
  const examples = fs
    .readdirSync(path.join(ROOT, 'examples'))
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => path.join(ROOT, 'examples', f));

  it.each(examples.map((f) => [path.relative(ROOT, f), f]))(
    '%s: read, and as js-yaml reads it',
    (_name, file) => {
      expect(check(fs.readFileSync(file, 'utf8'))).toBe('value');
    },
  );

  it.each([1, 7, 300, 2000])('a generated mesh of %i backends: read, and as js-yaml reads it', (n) => {
    expect(check(generateMesh(n))).toBe('value');
    expect(check(generateMesh(n, { variant: 1, changedEvery: 3 }))).toBe('value');
  });

  // the fixtures it gives up on, and why (anything else must be read)
  const expectedBails: Record<string, string> = {
    'test/fixtures/envoy-examples/tls_envoy-https-http.yaml': 'block scalars (`inline_string: |`)',
    'test/fixtures/invalid/mg1001-binary.yaml': 'NUL bytes',
    'test/fixtures/invalid/mg1002-empty.yaml': 'no document',
    'test/fixtures/invalid/mg1003-yaml-syntax.yaml': 'a syntax error',
    'test/fixtures/invalid/mg1005-two-documents.yaml': 'two documents',
    'test/fixtures/invalid/mg1006-alias-expansion.yaml': 'anchors and aliases',
  };
  const fixtures = filesUnder(path.join(ROOT, 'test/fixtures')).filter((f) => /\.(ya?ml|json)$/.test(f));

  it('has fixtures to read', () => {
    expect(fixtures.length).toBeGreaterThan(50);
  });

  it.each(fixtures.map((f) => [path.relative(ROOT, f), f]))(
    '%s: as js-yaml reads it, or given up on for a known reason',
    (name, file) => {
      const text = fs.readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
      const got = check(text);
      // inputs of `meshgen import` are other tools' files (multi-document Kubernetes YAML), read by the
      // full parser: the fast path may give up on them, but what it reads must equal js-yaml's value
      if (name.startsWith('test/fixtures/import/')) expect(['bail', 'value']).toContain(got);
      // JSON files: flow collections over several lines
      else expect(got).toBe(name in expectedBails || name.endsWith('.json') ? 'bail' : 'value');
    },
  );
});

describe('fastLoad scalars, keys and layouts', () => {
  // each must be read (not given up on) and equal js-yaml's value
  const cases: [string, string][] = [
    ['nulls', 'a: null\nb: ~\nc: Null\nd: NULL\ne: nULL\nf:\ng: # comment\n'],
    ['bools', 'a: true\nb: True\nc: TRUE\nd: false\ne: False\nf: FALSE\ng: tRUE\nh: yes\ni: no\nj: on\n'],
    [
      'ints',
      'a: 0\nb: -0\nc: +0\nd: 0x1F\ne: 0o17\nf: 0b101\ng: 1_000\nh: 007\ni: -12\nj: +12\nk: 0x\nl: 0o8\n',
    ],
    ['big ints', 'a: 99999999999999999999\nb: 0x7FFFFFFFFFFFFFFFFFFF\nc: -9007199254740993\n'],
    ['floats', 'a: .5\nb: 5.\nc: 1e3\nd: 1E3\ne: -1e-3\nf: 1.5e+300\ng: 1e400\nh: -0.0\ni: 0.0\nj: +.5\n'],
    ['inf and nan', 'a: .inf\nb: -.Inf\nc: +.INF\nd: .nan\ne: .NaN\nf: .NAN\ng: -.nan\nh: .Nan\ni: inf\n'],
    ['not numbers', 'a: 12abc\nb: 1.2.3\nc: 1,000\nd: 0xG\ne: --1\nf: 1e\ng: .\nh: -.\ni: +\n'],
    ['quoted are strings', 'a: "1"\nb: \'true\'\nc: "null"\nd: "quoted 1"\ne: \'~\'\nf: ""\ng: \'\'\n'],
    ['unicode', 'a: \'它\'\nb: "\\u00e9"\nc: é\nd: 😀 x\ne: "\\U0001F600"\nf: "\\x41\\x7e"\n'],
    [
      'double-quoted escapes',
      'a: "a\\"b"\nb: "\\\\ \\/ \\n \\t \\r \\0 \\a \\b \\e \\f \\v"\nc: "\\N\\_\\L\\P"\nd: "\\ x"\n',
    ],
    ['tab escape and tab inside quotes', 'a: "x\\\ty"\nb: "x\ty"\nc: \'x\ty\'\n'],
    ['escaped surrogate', 'a: "\\uD83D\\uDE00"\nb: "\\uD800"\n'],
    ['single-quoted', "a: 'it''s'\nb: 'a \"b\" c'\nc: ''''\nd: 'a: b # c'\ne: 'x\\n'\n"],
    ['hash in plain', 'a: x#y\nb: x #y\nc: "x" # c\nd: [a#b]\ne: a# b\nf: http://h/p#frag\n'],
    ['comments', '# top\na: b # comment\n  # indented comment\nc:   # empty\n# between\nd: 1\n#end'],
    ['colons in plain', 'a: b:c\nb: http://x:80/y\nc: ::x\nd: "x:"\n'],
    [
      'keys resolved to strings',
      '80: a\ntrue: b\nnull: c\n0x10: e\n1e3: f\n.inf: g\n-0: h\n.nan: i\n1.0: j\n',
    ],
    ['keys resolved to strings, more', '~: a\nTRUE: b\n0o17: c\n+1: d\n-.INF: e\n1e400: f\n.5: g\n'],
    ['quoted keys', '"a b": 1\n\'x\': 2\n"": 3\n"80": 4\n"a\\"b": 5\n\'c\'\'d\': 6\n"k" : 7\n'],
    ['odd plain keys', 'a b: 1\n-x: 2\n?y: 3\n:z: 4\na:b: 5\n<<: 6\na#b: 7\nconstructor: 8\ntoString: 9\n'],
    ['integer-like keys first, as objects order them', 'b: 1\n10: 2\na: 3\n2: 4\n'],
    ['empty values', 'a:\nb: ~\nc:\n  d:\ne: []\nf: {}\ng: [[], {}]\nh: {a: {}, b: []}\n'],
    ['nested', 'a:\n  b:\n    c:\n      - d\n      - e: f\n        g: [h]\n  i: j\nk: l\n'],
    ['compact mapping in sequence', 'a:\n  - b: 1\n    c: 2\n  - d: 3\n'],
    ['compact mapping under a wide dash', 'a:\n  -   b: 1\n      c: 2\n'],
    ['nested sequences', '- - x\n  - y\n- - - z\n-\n  - w\n- \n- # c\n'],
    ['sequence at its key indent', 'key:\n- a\n- b\nother: c\nlast:\n- - d\n- e: f\n  g: h\n'],
    ['sequence at key indent in a compact mapping', '- a:\n  - x\n  b: 1\n- c:\n- d\n'],
    ['scalars and flows on their own line', 'a:\n  b\nc:\n  [d, e]\nf:\n  - \n    g\n'],
    [
      'flow collections',
      'a: { version: v1, app: svc-0 }\nb: ["10.0.0.0:8080", "a"]\nc: {a: [1, 2]}\nd: [a, [b, [c]], {e: f}]\n',
    ],
    [
      'flow details',
      'a: {x}\nb: {x: }\nc: {x:,y: 1}\nd: [a, ]\ne: {"k":v}\nf: {k:v}\ng: [a b, c  ]\nh: {a : 1}\n',
    ],
    [
      'flow scalars',
      'a: [1, -2, .5, true, null, ~, "x", \'y\', -x, a:b, x#y]\nb: {1: a, true: b, null: c}\n',
    ],
    ['flow then comment', 'a: [b]#c\nb: {c: d} # e\nc: "d"#e\n'],
    ['trailing spaces', 'a: b   \nc:   \n  - d  \ne: [f]  \ng: "h"  \n'],
    ['CRLF line ends', 'a: b\r\nc:\r\n  - d\r\n  - e: "f"\r\n# x\r\n\r\ng: [h]\r\n'],
    ['no final line break', 'a: b\nc: d'],
    ['leading document marker', '# head\n---\na: 1\n'],
    ['document marker with a comment', '--- # doc\na: 1\n'],
    ['root sequence', '- a\n- b: c\n'],
    ['indented root', '  a: 1\n  b:\n    - c\n'],
    ['blank lines everywhere', '\n\na:\n\n  b: 1\n\n\n  c:\n\n  - d\n\n'],
    ['document-marker-like text inside', 'a: ---\nb: ...\nc: ---x\n-: x\n'],
    ['unicode keys and line separators', 'é: 1\n它: 2\na: x\u2028y\nb: x\u0085y\nc: \u00a0\n'],
    ['quoted key in compact mapping', '- "a": 1\n  \'b\': 2\n'],
    ['dash-like plain values', 'a: -x\nb: -1\nc: --\nd: -.5\n'],
    ['question-like plain values', 'a: ?x\nb: x?\nc: ??\n'],
    // keys seen before are taken from a cache without a scan: the same text in another context
    ['keys read again', 'a: 1\nb:\n  a:b: 2\n  a : 3\nhttp: 1\nl:\n- http://x\n- http: y\n- a\n'],
    ['keys read again in flow', 'b: {a: 1}\nc: {a:1}\nd: {a:}\ne: {a:,b}\nf: {a :1}\ng: {"a":1}\n'],
    ['block keys holding flow indicators', 'a[b]: 1\nc,d: 2\ne: [a, b]\nf:\n  a[b]: 3\n  c,d: 4\n'],
    ['long key', `${'k'.repeat(2000)}: v\n`],
    [
      'deep but not too deep',
      'a:\n' + Array.from({ length: 30 }, (_, i) => ' '.repeat(2 * i + 2) + `k${i}:`).join('\n') + ' x\n',
    ],
  ];

  it.each(cases)('%s', (_name, text) => {
    expect(check(text)).toBe('value');
  });
});

describe('fastLoad gives up', () => {
  const cases: [string, string][] = [
    ['anchor and alias', 'a: &x 1\nb: *x\n'],
    ['anchor on a mapping', 'a: &x\n  b: 1\n'],
    ['alias alone', 'a: *x\n'],
    ['tag', 'a: !!str 1\n'],
    ['local tag', 'a: !foo x\n'],
    ['tag in flow', 'a: [!!int "1"]\n'],
    ['literal block scalar', 'a: |\n  x\n  y\n'],
    ['folded block scalar', 'a: >-\n  x\n'],
    ['multi-line plain scalar', 'a: b\n  c\n'],
    ['multi-line plain in a sequence', '- a\n  b\n'],
    ['multi-line plain after a comment line', 'a: b\n  # c\n  d\n'],
    ['multi-line double-quoted', 'a: "b\n  c"\n'],
    ['multi-line single-quoted', "a: 'b\n  c'\n"],
    ['escaped line break', 'a: "b\\\n  c"\n'],
    ['flow sequence across lines', 'a: [b,\n  c]\n'],
    ['flow mapping across lines', 'a: {b: 1,\n  c: 2}\n'],
    ['comment inside flow', 'a: [b, # c\n  d]\n'],
    ['duplicate keys', 'a: 1\na: 2\n'],
    ['duplicate keys after resolution', '1: a\n01: b\n'],
    ['duplicate keys in flow', 'a: {b: 1, b: 2}\n'],
    ['duplicate quoted and plain key', 'a: 1\n"a": 2\n'],
    ['tab indentation', 'a:\n\tb: 1\n'],
    ['tab after colon', 'a:\tb\n'],
    ['tab in plain scalar', 'a: b\tc\n'],
    ['two documents', 'a: 1\n---\nb: 2\n'],
    ['document end marker', 'a: 1\n...\n'],
    ['empty second document', 'a: 1\n---\n'],
    ['explicit key', '? a\n: b\n'],
    ['explicit key in flow', 'a: {? b: c}\n'],
    ['__proto__ key', '__proto__: 1\n'],
    ['quoted __proto__ key', '"__proto__": {a: 1}\n'],
    ['__proto__ in flow', 'a: {__proto__: 1}\n'],
    ['directive', '%YAML 1.2\n---\na: 1\n'],
    ['marker followed by content', '--- a: 1\n'],
    ['marker glued to text', '---a: 1\n'],
    ['flow root', '{a: 1}\n'],
    ['scalar root', 'just text\n'],
    ['empty', ''],
    ['only comments', '# a\n# b\n'],
    ['bad indentation', 'a:\n  b: 1\n c: 2\n'],
    ['over-indented key', 'a: 1\n  b: 2\n'],
    ['key then scalar', 'a: b: c\n'],
    ['dash after key', 'a: - b\n'],
    ['unknown escape', 'a: "\\q"\n'],
    ['bad hex escape', 'a: "\\xZZ"\n'],
    ['escape beyond unicode', 'a: "\\U00110000"\n'],
    ['unclosed quote', 'a: "b\n'],
    ['text after quote', 'a: "b" c\n'],
    ['text after flow', 'a: [b] c\n'],
    ['pair in flow sequence', 'a: [b: c]\n'],
    ['empty flow entry', 'a: [b, , c]\n'],
    ['flow key', 'a: {[b]: c}\n'],
    ['flow key in block', '[a]: b\n'],
    ['block key with a flow indicator, again in flow', 'a[b]: 1\nc: {a[b]: 1}\n'],
    ['lone CR', 'a: b\rc: d\n'],
    ['control character in plain', 'a: b\u0001c\n'],
    ['DEL in plain', 'a: b\u007fc\n'],
    ['lone surrogate in plain', 'a: b\ud800c\n'],
    ['control character in quotes', 'a: "b\u0001c"\n'],
    ['NUL', 'a: b\u0000\n'],
    ['byte order mark left', '\uFEFFa: 1\n'],
    ['reserved indicator', 'a: @b\n'],
    ['backquote', 'a: `b`\n'],
    ['percent value', 'a: %b\n'],
    ['pipe in flow', 'a: [|]\n'],
    ['empty item before a less indented item', '- - a\n  -\n- b\n'],
    ['empty nested item before a less indented item', '- -\n- b\n'],
    ['keys that resolve alike', '~: a\nnull: b\n'],
    ['too deep', Array.from({ length: 60 }, (_, i) => ' '.repeat(i) + 'k:').join('\n') + ' x\n'],
    ['too deep in flow', 'a: ' + '['.repeat(80) + ']'.repeat(80) + '\n'],
  ];

  it.each(cases)('%s', (_name, text) => {
    expect(fastLoad(text)).toBeUndefined();
  });

  it('and parseYaml then gives js-yaml diagnostics, as before', () => {
    const dup = parseYaml('a: 1\nb:\n  c: 2\n  c: 3\n', 'dup.yaml');
    expect(dup.value).toBeUndefined();
    expect(dup.diagnostics.map((d) => [d.code, d.line, d.column, d.message])).toEqual([
      ['MG1003', 4, 3, 'YAML syntax error: duplicated mapping key'],
    ]);
    const two = parseYaml('a: 1\n---\nb: 2\n', 'two.yaml');
    expect(two.diagnostics.map((d) => [d.code, d.line])).toEqual([['MG1005', 2]]);
    const anchors = parseYaml('a: &x [1]\nb: *x\n');
    expect(anchors.diagnostics).toEqual([]);
    expect(anchors.value).toEqual({ a: [1], b: [1] });
    const block = parseYaml('a: |\n  x\n');
    expect(block.value).toEqual({ a: 'x\n' });
  });
});

describe('plain scalar typing', () => {
  const implicit = (jsyaml.CORE_SCHEMA as unknown as { compiledImplicit: (jsyaml.Type & { tag: string })[] })
    .compiledImplicit;

  it('follows the core schema js-yaml loads with: null, bool, int, float, in that order', () => {
    expect(implicit.map((t) => t.tag)).toEqual([
      'tag:yaml.org,2002:null',
      'tag:yaml.org,2002:bool',
      'tag:yaml.org,2002:int',
      'tag:yaml.org,2002:float',
    ]);
  });

  it('gives what js-yaml resolvers give, for strings starting with any character', () => {
    const reference = (s: string): unknown => {
      for (const t of implicit) if (t.resolve(s)) return t.construct(s);
      return s;
    };
    const random = seededRandom(7);
    const tails = [
      '',
      '0',
      '1',
      'x1F',
      'o17',
      'b1',
      'e3',
      '.5',
      'ull',
      'ULL',
      'rue',
      'alse',
      'inf',
      'nan',
      '_1',
    ];
    const samples: string[] = [];
    for (let c = 0x20; c < 0x3000; c++) for (const t of tails) samples.push(String.fromCharCode(c) + t);
    for (let i = 0; i < 20000; i++) {
      let s = '';
      const len = 1 + Math.floor(random() * 6);
      for (let k = 0; k < len; k++)
        s += '-+.0123456789abefinoxBEFINOX_~ntfNTFlrsuU'[Math.floor(random() * 41)];
      samples.push(s);
    }
    let nonStrings = 0;
    for (const s of samples) {
      const want = reference(s);
      if (typeof want !== 'string') nonStrings++;
      expect(difference(resolvePlain(s), want), s).toBeUndefined();
    }
    expect(nonStrings).toBeGreaterThan(1000);
  });
});

describe('randomized against js-yaml', () => {
  const PLAIN = [
    'a',
    'svc-1',
    'v1',
    'x y',
    'null',
    'Null',
    '~',
    'true',
    'False',
    'TRUE',
    'yes',
    '0',
    '-0',
    '+1',
    '007',
    '0x1F',
    '0o17',
    '0b11',
    '1_000',
    '.5',
    '5.',
    '1e3',
    '-1E-3',
    '.inf',
    '-.Inf',
    '.nan',
    '1e400',
    '12abc',
    'a:b',
    'a#b',
    'http://h:80/p',
    '-a',
    '?a',
    ':a',
    'a,b',
    'x]',
    'é',
    '它',
    '😀',
    '<<',
    '-',
    '?',
    ':',
    '&a',
    '*a',
    '!t',
    '|',
    '>',
    '%x',
    '@x',
    '`x',
    '[x',
    '{x',
    '#x',
    'a #b',
    'a: b',
    '---',
    '...',
    'a\tb',
    'a\u0001',
    '\u0085',
    'constructor',
    '__proto__',
  ];
  const QUOTED = [
    '"a"',
    '""',
    "''",
    '"1"',
    "'true'",
    '"a\\"b"',
    "'it''s'",
    '"\\u00e9"',
    '"\\x41"',
    '"\\U0001F600"',
    '"\\t\\n\\\\"',
    '"\\q"',
    '"a # b"',
    "'a: b'",
    '"\\ "',
    '"\\/"',
    '"\\N\\_\\L\\P"',
    '"\\uD800"',
    '"ab',
    "'ab",
    '"a\tb"',
    '"\\',
    '"\\xZ1"',
  ];
  const KEYS = [
    'a',
    'b',
    'c',
    'name',
    'port',
    'a b',
    '80',
    '1e3',
    'true',
    'null',
    '~',
    '0x10',
    '"q"',
    "'s'",
    '"a b"',
    '""',
    '-k',
    '?k',
    ':k',
    'a:b',
    'a#b',
    '<<',
    '.inf',
    '-0',
    'constructor',
    '__proto__',
    '[k]',
    '? k',
    '&a k',
    '"k',
  ];

  function generate(random: () => number): string {
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    const chance = (p: number) => random() < p;
    const lines: string[] = [];
    const scalar = (): string => (chance(0.3) ? pick(QUOTED) : pick(PLAIN));
    const flow = (depth: number): string => {
      const n = Math.floor(random() * 4);
      const items: string[] = [];
      const isMap = chance(0.5);
      for (let i = 0; i < n; i++) {
        const v = depth < 3 && chance(0.25) ? flow(depth + 1) : chance(0.1) ? '' : scalar();
        items.push(isMap ? (chance(0.15) ? pick(KEYS) : `${pick(KEYS)}:${chance(0.8) ? ' ' : ''}${v}`) : v);
      }
      const sep = chance(0.8) ? ', ' : ',';
      const body = items.join(sep) + (chance(0.1) ? ',' : '');
      const pad = chance(0.5) ? ' ' : '';
      return isMap ? `{${pad}${body}${pad}}` : `[${pad}${body}${pad}]`;
    };
    const comment = () => (chance(0.15) ? pick([' # c', '  #x', ' #', '#y']) : '');
    const inline = (depth: number): string =>
      chance(0.25) ? flow(depth) + comment() : chance(0.05) ? '' : scalar() + comment();
    const indentStep = () => (chance(0.9) ? 2 : pick([1, 3, 4]));
    const maybeNoise = (ind: number) => {
      if (chance(0.05)) lines.push('');
      if (chance(0.04)) lines.push(' '.repeat(Math.floor(random() * (ind + 3))) + '# note');
    };
    const block = (ind: number, depth: number, first: string | undefined): void => {
      // first: text already on the line (after "- "), for compact collections
      const isSeq = chance(0.4);
      const n = 1 + Math.floor(random() * 3);
      for (let i = 0; i < n; i++) {
        const lead = i === 0 && first !== undefined ? first : ' '.repeat(ind);
        const off = chance(0.02) ? pick([' ', '\t']) : '';
        maybeNoise(ind);
        if (isSeq) {
          const dashGap = chance(0.9) ? ' ' : '   ';
          if (depth < 4 && chance(0.3)) {
            // compact nested collection, or the item's node on the lines below
            if (chance(0.5)) block(ind + 1 + dashGap.length, depth + 1, lead + off + '-' + dashGap);
            else {
              lines.push(lead + off + '-' + comment());
              block(ind + indentStep(), depth + 1, undefined);
            }
          } else lines.push(lead + off + '-' + (chance(0.05) ? '' : dashGap + inline(depth)));
        } else {
          const key = chance(0.1) && i > 0 ? 'a' : pick(KEYS);
          const gap = chance(0.95) ? '' : ' ';
          if (depth < 4 && chance(0.35)) {
            lines.push(lead + off + key + gap + ':' + comment());
            if (chance(0.2)) {
              // a sequence at the key's indent
              for (let k = 0; k < 1 + Math.floor(random() * 2); k++)
                lines.push(' '.repeat(ind) + '- ' + inline(depth));
            } else block(ind + indentStep(), depth + 1, undefined);
          } else if (chance(0.05)) {
            lines.push(lead + off + key + gap + ':' + comment());
          } else lines.push(lead + off + key + gap + ': ' + inline(depth));
        }
      }
    };
    if (chance(0.1)) lines.push('---');
    block(chance(0.95) ? 0 : 2, 0, undefined);
    // rarer structures: more documents, anchors, block scalars, continuation lines
    if (chance(0.03)) lines.push(pick(['---', '...', '--- x: 1']));
    if (chance(0.03))
      lines.splice(Math.floor(random() * lines.length), 0, pick(['a: |', '  cont', 'x: &a 1', 'y: *a']));
    let text = lines.join('\n') + (chance(0.9) ? '\n' : '');
    if (chance(0.05)) text = text.replace(/\n/g, '\r\n');
    if (chance(0.02)) text = text.replace('\n', '\r');
    return text;
  }

  it('4,000 generated documents: each given up on, or read as js-yaml reads it', () => {
    // FAST_YAML_FUZZ=<count> and FAST_YAML_SEED=<seed> run a longer search by hand
    const random = seededRandom(Number(process.env.FAST_YAML_SEED ?? 20261123));
    let values = 0;
    let jsValid = 0;
    const N = Number(process.env.FAST_YAML_FUZZ ?? 4000);
    for (let i = 0; i < N; i++) {
      const text = generate(random);
      if (jsLoad(text).ok) jsValid++;
      if (check(text) === 'value') values++;
    }
    if (process.env.FAST_YAML_FUZZ) console.log({ N, jsValid, values });
    // the generator makes plenty that js-yaml accepts, and fastLoad reads most of those
    expect(jsValid).toBeGreaterThan(N * 0.3);
    expect(values).toBeGreaterThan(jsValid * 0.5);
  });
});

describe('mutated mesh files against js-yaml', () => {
  const bases = [
    ...fs
      .readdirSync(path.join(ROOT, 'examples'))
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => fs.readFileSync(path.join(ROOT, 'examples', f), 'utf8')),
    generateMesh(3),
  ];
  const INSERTS = [
    ' ',
    '  ',
    '-',
    '- ',
    ':',
    ': ',
    '#',
    ' #',
    '"',
    "'",
    '[',
    ']',
    '{',
    '}',
    ',',
    '\n',
    '\n  ',
    'a',
    '\t',
    '?',
    '? ',
    '&a ',
    '*a',
    '!',
    '|',
    '>',
    '0',
    '.',
    '~',
    '\r\n',
    '---\n',
    '\\',
    'é',
    '😀',
    '\u0085',
    '\u00a0',
  ];

  function mutate(text: string, random: () => number): string {
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    let t = text;
    const times = 1 + Math.floor(random() * 3);
    for (let k = 0; k < times; k++) {
      const at = Math.floor(random() * (t.length + 1));
      const r = random();
      if (r < 0.35) t = t.slice(0, at) + pick(INSERTS) + t.slice(at);
      else if (r < 0.6) t = t.slice(0, at) + t.slice(at + 1 + Math.floor(random() * 3));
      else {
        // move a line in or out, or repeat it
        const lines = t.split('\n');
        const i = Math.floor(random() * lines.length);
        const op = random();
        if (op < 0.4) lines[i] = ' '.repeat(1 + Math.floor(random() * 3)) + lines[i];
        else if (op < 0.8) lines[i] = lines[i]!.replace(/^ {1,2}/, '');
        else lines.splice(i, 0, lines[i]!);
        t = lines.join('\n');
      }
    }
    return t;
  }

  it('3,000 mutants: each given up on, or read as js-yaml reads it', () => {
    // FAST_YAML_MUTANTS=<count> and FAST_YAML_SEED=<seed> run a longer search by hand
    const random = seededRandom(Number(process.env.FAST_YAML_SEED ?? 99));
    const N = Number(process.env.FAST_YAML_MUTANTS ?? 3000);
    let values = 0;
    let jsValid = 0;
    for (let i = 0; i < N; i++) {
      const text = mutate(bases[i % bases.length]!, random);
      if (jsLoad(text).ok) jsValid++;
      if (check(text) === 'value') values++;
    }
    if (process.env.FAST_YAML_MUTANTS) console.log({ N, jsValid, values });
    expect(jsValid).toBeGreaterThan(N * 0.2);
    expect(values).toBeGreaterThan(jsValid * 0.5);
  });
});
