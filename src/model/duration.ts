const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };
const DURATION =
  /^(?=\d)(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?!s))?(?:(\d+(?:\.\d+)?)s)?(?:(\d+(?:\.\d+)?)ms)?$/;

/**
 * Results by argument: a mesh repeats a handful of durations many times over, and large meshes
 * parse and format each one at every use. Bounded, so odd input cannot grow them without end.
 */
function memo<K, V>(fn: (k: K) => V): (k: K) => V {
  const cache = new Map<K, V>();
  return (k) => {
    let v = cache.get(k);
    if (v === undefined && !cache.has(k)) {
      v = fn(k);
      if (cache.size < 1000) cache.set(k, v);
    }
    return v as V;
  };
}

/** Parses a mesh duration (`250ms`, `1.5s`, `1m30s`) into milliseconds; undefined if malformed. */
export const parseDuration: (text: string) => number | undefined = memo(parse);

function parse(text: string): number | undefined {
  const m = DURATION.exec(text);
  if (!m) return undefined;
  const units = ['h', 'm', 's', 'ms'];
  let ms = 0;
  for (let i = 0; i < 4; i++) if (m[i + 1] !== undefined) ms += Number(m[i + 1]) * UNIT_MS[units[i]!]!;
  return Math.round(ms * 1000) / 1000;
}

/** Formats milliseconds the way the mesh format writes them: `1m30s`, `250ms`, `1.5s` becomes `1s500ms`. */
export const formatDuration: (ms: number) => string = memo(format);

function format(ms: number): string {
  if (ms <= 0) return '0s';
  let rest = Math.round(ms);
  let out = '';
  for (const [unit, size] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    const n = Math.floor(rest / size);
    if (n) out += `${n}${unit}`;
    rest -= n * size;
  }
  if (rest) out += `${rest}ms`;
  return out;
}

/** Seconds with up to nine decimals, as protobuf's JSON Duration (`"1.5s"`) and Go durations accept. */
export const secondsString: (ms: number) => string = memo((ms) => `${Number((ms / 1000).toFixed(9))}s`);
