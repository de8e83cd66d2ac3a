/**
 * An interpreter of Traefik v3's routing, for the tests: it reads rules as Traefik does and picks
 * the router Traefik would pick, so that the emitted priorities can be checked against the mesh's
 * first-match order without a Traefik binary.
 *
 * What it follows (Traefik's source, master at the time of writing):
 * - pkg/rules/parser.go, github.com/vulcand/predicate: a rule is a Go expression of matcher calls
 *   joined by `&&`, `||`, `!` and parentheses; each argument is a Go string literal (strconv.Unquote).
 *   Matcher names are accepted as written, lower-case, upper-case or Title-case.
 * - pkg/rules/rules.go CheckRule: every argument non-empty.
 * - pkg/muxer/http/matcher.go: Host (case-insensitive, port stripped, a trailing dot ignored),
 *   HostRegexp, Path and PathPrefix (plain string comparison; must start with `/`), PathRegexp,
 *   Header and HeaderRegexp (any value of the header; Go keeps the Host header apart, so `host` is
 *   never among them), Query (any value equal; one argument means the empty value), QueryRegexp
 *   (any value), Method. Regexps are unanchored (`MatchString`).
 * - pkg/muxer/http/mux.go: routers sorted by priority, highest first; a router without one has the
 *   length of its rule (GetRulePriority; the double-wildcard penalty concerns `**.` hosts, which
 *   meshgen never writes); the first router whose rule matches wins; none: 404. Equal priorities
 *   are left to an unstable sort, so the interpreter reports a tie between matching routers.
 * - pkg/muxer/tcp: HostSNI (`*` for every connection, else the SNI, case-insensitive) and
 *   HostSNIRegexp.
 */

export type Rule =
  | { readonly op: 'and' | 'or'; readonly left: Rule; readonly right: Rule }
  | { readonly op: 'not'; readonly rule: Rule }
  | { readonly op: 'call'; readonly name: string; readonly args: readonly string[] };

const ARITY: Record<string, readonly number[]> = {
  ClientIP: [1],
  Method: [1],
  Host: [1],
  HostRegexp: [1],
  Path: [1],
  PathRegexp: [1],
  PathPrefix: [1],
  Header: [2],
  HeaderRegexp: [2],
  Query: [1, 2],
  QueryRegexp: [1, 2],
  HostSNI: [1],
  HostSNIRegexp: [1],
};

function canonicalName(name: string): string | undefined {
  for (const m of Object.keys(ARITY)) {
    const title = m[0]! + m.slice(1).toLowerCase();
    if (name === m || name === m.toLowerCase() || name === m.toUpperCase() || name === title) return m;
  }
  return undefined;
}

/** Reads a Go string literal at `i` (a backtick or a double quote); returns the value and the end. */
export function readGoString(src: string, i: number): { value: string; end: number } {
  const bad = (why: string) => new Error(`${why} at ${i} in ${src}`);
  if (src[i] === '`') {
    const end = src.indexOf('`', i + 1);
    if (end < 0) throw bad('unterminated raw string');
    const raw = src.slice(i + 1, end);
    if (/[\0\uFEFF]/.test(raw)) throw bad('NUL or byte-order mark in source');
    return { value: raw.replace(/\r/g, ''), end: end + 1 };
  }
  if (src[i] !== '"') throw bad('expected a string');
  let out = '';
  let j = i + 1;
  for (;;) {
    const c = src[j];
    if (c === undefined || c === '\n') throw bad('unterminated string');
    if (c === '\0' || c === '\uFEFF') throw bad('NUL or byte-order mark in source');
    if (c === '"') return { value: out, end: j + 1 };
    if (c !== '\\') {
      out += c;
      j++;
      continue;
    }
    const e = src[j + 1];
    const simple: Record<string, string> = {
      a: '\x07',
      b: '\b',
      f: '\f',
      n: '\n',
      r: '\r',
      t: '\t',
      v: '\v',
      '\\': '\\',
      '"': '"',
    };
    if (e !== undefined && e in simple) {
      out += simple[e];
      j += 2;
    } else if (e === 'x' || e === 'u' || e === 'U') {
      const n = e === 'x' ? 2 : e === 'u' ? 4 : 8;
      const hex = src.slice(j + 2, j + 2 + n);
      if (!new RegExp(`^[0-9A-Fa-f]{${n}}$`).test(hex)) throw bad('bad escape');
      const code = parseInt(hex, 16);
      if (e !== 'x' && (code > 0x10ffff || (code >= 0xd800 && code < 0xe000))) throw bad('bad code point');
      out += e === 'x' ? String.fromCharCode(code) : String.fromCodePoint(code);
      j += 2 + n;
    } else if (e !== undefined && /[0-7]/.test(e)) {
      const oct = src.slice(j + 1, j + 4);
      if (!/^[0-7]{3}$/.test(oct)) throw bad('bad octal escape');
      out += String.fromCharCode(parseInt(oct, 8));
      j += 4;
    } else throw bad('unknown escape');
  }
}

/** Parses a rule; throws where Traefik would refuse it. */
export function parseRule(src: string): Rule {
  let i = 0;
  const ws = () => {
    while (i < src.length && /[ \t\n\r]/.test(src[i]!)) i++;
  };
  const fail = (why: string): never => {
    throw new Error(`${why} at ${i} in ${src}`);
  };
  const orExpr = (): Rule => {
    let left = andExpr();
    for (ws(); src.startsWith('||', i); ws()) {
      i += 2;
      left = { op: 'or', left, right: andExpr() };
    }
    return left;
  };
  const andExpr = (): Rule => {
    let left = unary();
    for (ws(); src.startsWith('&&', i); ws()) {
      i += 2;
      left = { op: 'and', left, right: unary() };
    }
    return left;
  };
  const unary = (): Rule => {
    ws();
    if (src[i] === '!') {
      i++;
      return { op: 'not', rule: unary() };
    }
    if (src[i] === '(') {
      i++;
      const r = orExpr();
      ws();
      if (src[i] !== ')') fail('expected )');
      i++;
      return r;
    }
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i));
    if (!m) return fail('expected a matcher');
    i += m[0].length;
    const name = canonicalName(m[0]) ?? fail(`unknown matcher ${m[0]}`);
    ws();
    if (src[i] !== '(') fail('expected (');
    i++;
    const args: string[] = [];
    ws();
    while (src[i] !== ')') {
      const s = readGoString(src, i);
      args.push(s.value);
      i = s.end;
      ws();
      if (src[i] === ',') {
        i++;
        ws();
      } else if (src[i] !== ')') fail('expected , or )');
    }
    i++;
    if (!ARITY[name]!.includes(args.length)) fail(`${name} takes ${ARITY[name]!.join(' or ')} arguments`);
    if (args.some((a) => a === '')) fail(`empty argument to ${name}`);
    if ((name === 'Path' || name === 'PathPrefix') && !args[0]!.startsWith('/')) fail(`${name} needs a /`);
    for (const [k, a] of args.entries())
      if (name.endsWith('Regexp') && (k === 1 || !name.startsWith('Header'))) goRegexp(a);
    return { op: 'call', name, args };
  };
  const rule = orExpr();
  ws();
  if (i !== src.length) fail('trailing input');
  return rule;
}

/** A Go regexp as a JavaScript one (the RE2 subset meshgen writes reads the same in both). */
function goRegexp(src: string): RegExp {
  return new RegExp(src);
}

/** An HTTP request as Traefik's matchers see it. */
export interface HttpRequest {
  /** The Host header as sent (`Shop.Example.com:8080`). */
  readonly host: string;
  readonly method: string;
  readonly path: string;
  /** Header names in any case; `host` is not among them (Go keeps it apart). */
  readonly headers: Readonly<Record<string, readonly string[]>>;
  readonly query: Readonly<Record<string, readonly string[]>>;
}

function canonHost(host: string): string {
  return host.replace(/:\d+$/, '').toLowerCase();
}

function headerValues(req: HttpRequest, name: string): readonly string[] {
  const key = Object.keys(req.headers).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined || name.toLowerCase() === 'host' ? [] : req.headers[key]!;
}

/** True when `rule` accepts the request. */
export function matchHttp(rule: Rule, req: HttpRequest): boolean {
  switch (rule.op) {
    case 'and':
      return matchHttp(rule.left, req) && matchHttp(rule.right, req);
    case 'or':
      return matchHttp(rule.left, req) || matchHttp(rule.right, req);
    case 'not':
      return !matchHttp(rule.rule, req);
    case 'call': {
      const [a, b] = rule.args as [string, string | undefined];
      switch (rule.name) {
        case 'Host': {
          const h = canonHost(req.host);
          const want = a.toLowerCase();
          return h === want || h === want.replace(/\.$/, '') || h.replace(/\.$/, '') === want;
        }
        case 'HostRegexp':
          return goRegexp(a).test(canonHost(req.host));
        case 'Path':
          return req.path === a;
        case 'PathPrefix':
          return req.path.startsWith(a);
        case 'PathRegexp':
          return goRegexp(a).test(req.path);
        case 'Method':
          return req.method === a.toUpperCase();
        case 'Header':
          return headerValues(req, a).includes(b!);
        case 'HeaderRegexp':
          return headerValues(req, a).some((v) => goRegexp(b!).test(v));
        case 'Query':
          return (req.query[a] ?? undefined)?.includes(b ?? '') ?? false;
        case 'QueryRegexp':
          if (b === undefined) return req.query[a]?.includes('') ?? false;
          return req.query[a]?.some((v) => goRegexp(b).test(v)) ?? false;
        default:
          throw new Error(`${rule.name} is not an HTTP matcher meshgen writes`);
      }
    }
  }
}

/** True when a TCP router's rule accepts a connection with this SNI (undefined: no TLS). */
export function matchTcp(rule: Rule, sni: string | undefined): boolean {
  switch (rule.op) {
    case 'and':
      return matchTcp(rule.left, sni) && matchTcp(rule.right, sni);
    case 'or':
      return matchTcp(rule.left, sni) || matchTcp(rule.right, sni);
    case 'not':
      return !matchTcp(rule.rule, sni);
    case 'call':
      if (rule.name === 'HostSNI')
        return (
          rule.args[0] === '*' || (sni !== undefined && sni.toLowerCase() === rule.args[0]!.toLowerCase())
        );
      if (rule.name === 'HostSNIRegexp') return sni !== undefined && goRegexp(rule.args[0]!).test(sni);
      throw new Error(`${rule.name} is not a TCP matcher`);
  }
}

export interface Router {
  readonly entryPoints?: readonly string[];
  readonly rule: string;
  readonly priority?: number;
  readonly service: string;
  readonly middlewares?: readonly string[];
}

/** The priority Traefik gives a router: its own, or the length of its rule. */
function priorityOf(r: Router): number {
  return r.priority && r.priority > 0 ? r.priority : r.rule.length;
}

/**
 * The router an entry point's muxer picks: the matching router of highest priority. Throws when
 * two matching routers share that priority (Traefik's unstable sort would pick either).
 */
export function pick(
  routers: Readonly<Record<string, Router>>,
  entryPoint: string,
  accepts: (rule: Rule) => boolean,
): string | undefined {
  const ranked = Object.entries(routers)
    .filter(([, r]) => r.entryPoints?.includes(entryPoint) ?? true)
    .map(([name, r]) => ({ name, priority: priorityOf(r), rule: parseRule(r.rule) }))
    .sort((x, y) => y.priority - x.priority);
  const matching = ranked.filter((r) => accepts(r.rule));
  const first = matching[0];
  if (first && matching[1]?.priority === first.priority)
    throw new Error(`routers ${first.name} and ${matching[1].name} both match at priority ${first.priority}`);
  return first?.name;
}
