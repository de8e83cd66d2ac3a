/**
 * Tokenizers that read haproxy.cfg, nginx.conf and Consul HCL the way the targets' own lexers do,
 * so a test can see the directives a proxy would see: an injected line, a split argument or an
 * interpolation shows up here exactly as it would in the target.
 */

/** One HAProxy configuration line, as parse_line() splits it. */
export interface HaproxyLine {
  readonly line: number;
  readonly words: readonly string[];
  /** Unquoted or double-quoted `$NAME`/`${NAME}`: HAProxy replaces it with the environment's value. */
  readonly envRefs: number;
}

const HAPROXY_SECTIONS = new Set([
  'global',
  'defaults',
  'frontend',
  'backend',
  'listen',
  'resolvers',
  'userlist',
  'peers',
  'mailers',
  'program',
  'http-errors',
  'ring',
  'cache',
]);

/**
 * HAProxy 2.6 (src/tools.c parse_line): lines end at LF; a CR or NUL outside a quote ends the line
 * there too (the rest is lost). Words are split on unquoted blanks; '...' is literal; "..." and
 * unquoted text take backslash escapes; `#` outside quotes starts a comment.
 */
export function lexHaproxy(text: string): HaproxyLine[] {
  const out: HaproxyLine[] = [];
  const lines = text.split('\n');
  lines.forEach((raw, n) => {
    const words: string[] = [];
    let word: string | undefined;
    let quote: '"' | "'" | undefined;
    let envRefs = 0;
    const push = () => {
      if (word !== undefined) words.push(word);
      word = undefined;
    };
    for (let i = 0; i < raw.length; i++) {
      const c = raw[i]!;
      if (quote === "'") {
        if (c === "'") quote = undefined;
        else word += c;
        continue;
      }
      if (c === '\\' && i + 1 < raw.length) {
        const e = raw[++i]!;
        word = (word ?? '') + (({ n: '\n', r: '\r', t: '\t' } as Record<string, string>)[e] ?? e);
        continue;
      }
      if (c === '$' && /[A-Za-z_{]/.test(raw[i + 1] ?? '')) envRefs++;
      if (quote === '"') {
        if (c === '"') quote = undefined;
        else word += c;
        continue;
      }
      if (c === '\r' || c === '\0') break;
      if (c === '#') break;
      if (c === ' ' || c === '\t') {
        push();
        continue;
      }
      if (c === '"' || c === "'") {
        quote = c;
        word ??= '';
        continue;
      }
      word = (word ?? '') + c;
    }
    push();
    if (quote) words.push(`<unterminated ${quote}>`);
    if (words.length) out.push({ line: n + 1, words, envRefs });
  });
  return out;
}

/** Log-format arguments: the word holding the format, by action (`http-request <action> ...`). */
const LOG_FORMAT_WORD: Record<string, number> = {
  'set-header': 3,
  'add-header': 3,
  'set-path': 2,
  'set-pathq': 2,
  'set-uri': 2,
  'set-query': 2,
  'replace-path': 3,
  'replace-pathq': 3,
  'replace-uri': 3,
};

/**
 * `%` expressions HAProxy's log-format evaluates in a word (`%%` is a literal percent sign). The
 * emitter writes an empty value as `%[str()]` (an empty word is no argument): that one is data.
 */
function logFormatExpressions(word: string): number {
  if (word === '%[str()]') return 0;
  let n = 0;
  for (let i = 0; i < word.length; i++)
    if (word[i] === '%') {
      if (word[i + 1] === '%') i++;
      else n++;
    }
  return n;
}

/**
 * The shape of a haproxy.cfg: sections, and per line the keyword, its word count, the log-format
 * expressions of its format argument and its environment references. Two configs with equal
 * skeletons have the same directives with the same number of arguments.
 */
export function haproxySkeleton(text: string): string[] {
  return lexHaproxy(text).map(({ words: all, envRefs }) => {
    // `--` after `-m <method>` ends an ACL's flags before a pattern starting with `-`: not an
    // argument of its own (a pattern or header name `--` is)
    const words = all.filter((w, i) => !(w === '--' && all[i - 2] === '-m'));
    const [kw] = words;
    if (HAPROXY_SECTIONS.has(kw!)) return `[${kw}${words.length > 1 ? ` ${words.length}` : ''}]`;
    let exprs = 0;
    if ((kw === 'http-request' || kw === 'http-response') && LOG_FORMAT_WORD[words[1]!] !== undefined)
      exprs = logFormatExpressions(words[LOG_FORMAT_WORD[words[1]!]!] ?? '');
    return `${kw}${kw === 'http-request' || kw === 'http-response' ? ` ${words[1]}` : ''}/${words.length}${exprs ? ` %${exprs}` : ''}${envRefs ? ` $${envRefs}` : ''}`;
  });
}

export interface NginxDirective {
  readonly name: string;
  readonly args: readonly string[];
  readonly block?: readonly NginxDirective[];
  readonly line: number;
}

class NginxSyntaxError extends Error {}

/**
 * NGINX's ngx_conf_read_token: blanks (space, tab, CR, LF) separate; `;` ends a directive and `{`
 * opens a block wherever an unquoted word ends; at a token's start `}` closes a block, `#` starts a
 * comment to the end of the line, `"` or `'` opens a quoted token (after which a blank, `;` or `{`
 * must follow); a backslash makes the next character ordinary, and `\"`, `\'`, `\\`, `\t`, `\r`,
 * `\n` are unescaped in the word.
 */
export function lexNginx(text: string): NginxDirective[] {
  let i = 0;
  let line = 1;
  const readDirectives = (depth: number): NginxDirective[] => {
    const out: NginxDirective[] = [];
    let words: string[] = [];
    let start = line;
    for (;;) {
      // skip blanks
      while (i < text.length && /[ \t\r\n]/.test(text[i]!)) if (text[i++] === '\n') line++;
      if (i >= text.length) {
        if (depth > 0 || words.length) throw new NginxSyntaxError(`unexpected end of file`);
        return out;
      }
      const c = text[i]!;
      if (!words.length) start = line;
      if (c === '#') {
        while (i < text.length && text[i] !== '\n') i++;
        continue;
      }
      if (c === ';') {
        i++;
        if (!words.length) throw new NginxSyntaxError(`line ${line}: unexpected ";"`);
        out.push({ name: words[0]!, args: words.slice(1), line: start });
        words = [];
        continue;
      }
      if (c === '{') {
        i++;
        if (!words.length) throw new NginxSyntaxError(`line ${line}: unexpected "{"`);
        const block = readDirectives(depth + 1);
        out.push({ name: words[0]!, args: words.slice(1), block, line: start });
        words = [];
        continue;
      }
      if (c === '}') {
        i++;
        if (words.length) throw new NginxSyntaxError(`line ${line}: unexpected "}"`);
        if (depth === 0) throw new NginxSyntaxError(`line ${line}: unexpected "}"`);
        return out;
      }
      words.push(readWord());
      // a word may end at ';' or '{' directly: the loop above handles them
    }
  };
  const unescape = (raw: string): string =>
    raw.replace(/\\(["'\\tnr])/g, (_, e: string) => ({ t: '\t', n: '\n', r: '\r' })[e] ?? e);
  const readWord = (): string => {
    const c = text[i]!;
    if (c === '"' || c === "'") {
      const q = c;
      let raw = '';
      i++;
      for (;;) {
        if (i >= text.length) throw new NginxSyntaxError(`unterminated ${q}`);
        const ch = text[i]!;
        if (ch === '\\' && i + 1 < text.length) {
          raw += ch + text[i + 1];
          if (text[i + 1] === '\n') line++;
          i += 2;
          continue;
        }
        i++;
        if (ch === '\n') line++;
        if (ch === q) break;
        raw += ch;
      }
      const next = text[i];
      if (next !== undefined && !/[ \t\r\n;{)]/.test(next))
        throw new NginxSyntaxError(`line ${line}: unexpected "${next}" after a quoted string`);
      return unescape(raw);
    }
    let raw = '';
    let variable = false;
    while (i < text.length) {
      const ch = text[i]!;
      if (ch === '{' && variable) {
        raw += ch;
        i++;
        continue;
      }
      variable = false;
      if (ch === '\\' && i + 1 < text.length) {
        raw += ch + text[i + 1];
        if (text[i + 1] === '\n') line++;
        i += 2;
        continue;
      }
      if (ch === '$') variable = true;
      if (/[ \t\r\n;{]/.test(ch)) break;
      raw += ch;
      i++;
    }
    return unescape(raw);
  };
  return readDirectives(0);
}

/** The shape of an nginx.conf: directive names, argument counts and blocks, comments dropped. */
export function nginxSkeleton(text: string): string[] {
  let directives: NginxDirective[];
  try {
    directives = lexNginx(text);
  } catch (e) {
    return [`<syntax error: ${(e as Error).message}>`];
  }
  const out: string[] = [];
  // in these blocks an entry's first word is data (a map key, a share), not a directive name
  const dataBlocks = new Set(['map', 'split_clients', 'geo', 'types']);
  const walk = (ds: readonly NginxDirective[], indent: string, data = false) => {
    for (const d of ds) {
      // `geo $x { default "$"; }` only names a literal dollar sign for values that hold one
      if (
        d.name === 'geo' &&
        d.block?.length === 1 &&
        d.block[0]!.name === 'default' &&
        d.block[0]!.args[0] === '$'
      )
        continue;
      out.push(`${indent}${data ? '<entry>' : d.name}/${d.args.length}${d.block ? ' {' : ''}`);
      if (d.block) {
        walk(d.block, indent + '  ', dataBlocks.has(d.name));
        out.push(`${indent}}`);
      }
    }
  };
  walk(directives, '');
  return out;
}

export interface HclToken {
  readonly kind: 'ident' | 'string' | 'number' | 'punct' | 'newline';
  readonly text: string;
  /** For strings: `${` or `%{` sequences HCL would evaluate as a template. */
  readonly templates?: number;
}

/**
 * HCL native syntax, as far as Consul config entries use it: identifiers, numbers, double-quoted
 * template strings (backslash escapes; `$${` and `%%{` are literal, `${` and `%{` start a template
 * sequence), punctuation and newlines. A raw newline inside a string is an error in HCL.
 */
export function lexHcl(text: string): HclToken[] {
  const out: HclToken[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\n') {
      out.push({ kind: 'newline', text: c });
      i++;
    } else if (c === ' ' || c === '\t' || c === '\r') i++;
    else if (c === '#' || (c === '/' && text[i + 1] === '/')) {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '"') {
      let j = i + 1;
      let templates = 0;
      for (;;) {
        if (j >= text.length || text[j] === '\n') throw new Error(`HCL: unterminated string at offset ${i}`);
        const ch = text[j]!;
        if (ch === '\\') {
          j += 2;
          continue;
        }
        if ((ch === '$' || ch === '%') && text[j + 1] === ch && text[j + 2] === '{') {
          j += 3;
          continue;
        }
        if ((ch === '$' || ch === '%') && text[j + 1] === '{') templates++;
        if (ch === '"') break;
        j++;
      }
      out.push({ kind: 'string', text: text.slice(i, j + 1), templates });
      i = j + 1;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(text.slice(i))!;
      out.push({ kind: 'ident', text: m[0] });
      i += m[0].length;
    } else if (/[-0-9]/.test(c)) {
      const m = /^-?[0-9][0-9.eE+-]*/.exec(text.slice(i));
      if (!m) throw new Error(`HCL: unexpected "${c}" at offset ${i}`);
      out.push({ kind: 'number', text: m[0] });
      i += m[0].length;
    } else if ('={}[],'.includes(c)) {
      out.push({ kind: 'punct', text: c });
      i++;
    } else throw new Error(`HCL: unexpected ${JSON.stringify(c)} at offset ${i}`);
  }
  return out;
}

/** The shape of an HCL file: token kinds (punctuation and identifiers verbatim), or the lexer's error. */
export function hclSkeleton(text: string): string[] {
  try {
    return lexHcl(text).map((t) =>
      // a key may be an identifier or a quoted string, as its text allows: both are one word
      t.kind === 'string' || t.kind === 'ident'
        ? t.templates
          ? `word+template${t.templates}`
          : 'word'
        : t.kind === 'number'
          ? 'number'
          : t.text,
    );
  } catch (e) {
    return [`<${(e as Error).message}>`];
  }
}

/** Lines of a plain-text output (iptables rules, hosts), first word each: an injected line shows. */
export function lineSkeleton(text: string): string[] {
  return text.split('\n').map((l) => l.trim().split(/\s+/)[0] ?? '');
}
