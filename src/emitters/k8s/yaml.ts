/**
 * A small, fast YAML writer for the plain data Kubernetes targets build (objects, arrays, strings,
 * numbers, booleans, null). Key order is kept as built, so output is byte-identical for the same
 * input. It is many times faster than general-purpose YAML stringifiers on large meshes, which is
 * what the render benchmark needs: strings that could be read back as anything but themselves are
 * double-quoted in JSON's escaping, which YAML's double-quoted scalars accept.
 */
export function toYaml(value: unknown): string {
  let out: string;
  if (Array.isArray(value)) out = value.length === 0 ? '[]\n' : writeArray(value, '');
  else if (isObject(value)) out = hasKeys(value) ? writeObject(value, '') : '{}\n';
  else return `${scalar(value)}\n`;
  // reading a character makes V8 flatten the concatenation into one string now, while its parts are
  // young: a large render keeps one string per file alive instead of a tree of small ones
  out.charCodeAt(0);
  return out;
}

/** Several documents in one stream, separated by `---`. */
export function toYamlDocuments(values: readonly unknown[]): string {
  return values.map((v) => toYaml(v)).join('---\n');
}

const RESERVED = /^(?:true|false|yes|no|on|off|y|n|null|~)$/i;

/** Whether a string reads back as itself unquoted: [A-Za-z_/.] then [\w./@-]*, not a YAML keyword. */
function plain(s: string): boolean {
  const n = s.length;
  if (n === 0) return false;
  const c0 = s.charCodeAt(0);
  if (!((c0 >= 65 && c0 <= 90) || (c0 >= 97 && c0 <= 122) || c0 === 95 || c0 === 47 || c0 === 46))
    return false;
  for (let i = 1; i < n; i++) {
    const c = s.charCodeAt(i);
    const ok =
      (c >= 97 && c <= 122) ||
      (c >= 65 && c <= 90) ||
      (c >= 48 && c <= 57) ||
      c === 95 ||
      c === 46 ||
      c === 47 ||
      c === 64 ||
      c === 45;
    if (!ok) return false;
  }
  return s.charCodeAt(n - 1) !== 46 && (n > 5 || !RESERVED.test(s));
}

/** Keys repeat across every object of a kind: their rendering is kept. */
const keyCache = new Map<string, string>();

function key(k: string): string {
  let r = keyCache.get(k);
  if (r === undefined) {
    r = plain(k) ? k : JSON.stringify(k);
    if (keyCache.size < 10_000) keyCache.set(k, r);
  }
  return r;
}

export function scalar(v: unknown): string {
  if (typeof v === 'string') return plain(v) ? v : JSON.stringify(v);
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : JSON.stringify(String(v));
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (v === null || v === undefined) return 'null';
  return JSON.stringify(String(v));
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function hasKeys(v: Record<string, unknown>): boolean {
  for (const k in v) if (v[k] !== undefined) return true;
  return false;
}

/** The text after `key:` or `-`: a scalar on the same line, or a nested block on the next ones. */
function after(v: unknown, pad: string): string {
  if (Array.isArray(v)) return v.length === 0 ? ' []\n' : '\n' + writeArray(v, pad);
  if (isObject(v)) return hasKeys(v) ? '\n' + writeObject(v, pad) : ' {}\n';
  return ` ${scalar(v)}\n`;
}

function writeObject(v: Record<string, unknown>, pad: string): string {
  let out = '';
  const inner = pad + '  ';
  for (const k in v) {
    const x = v[k];
    if (x === undefined) continue;
    out += pad + key(k) + ':' + after(x, inner);
  }
  return out;
}

function writeArray(v: readonly unknown[], pad: string): string {
  let out = '';
  const inner = pad + '  ';
  for (const item of v) {
    if (isObject(item)) {
      if (!hasKeys(item)) {
        out += `${pad}- {}\n`;
        continue;
      }
      // the first key shares the dash's line; the rest line up under it
      out += pad + '- ' + writeObject(item, inner).slice(inner.length);
    } else if (Array.isArray(item))
      out += item.length === 0 ? `${pad}- []\n` : `${pad}-\n` + writeArray(item, inner);
    else out += `${pad}- ${scalar(item)}\n`;
  }
  return out;
}
