const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };
const DURATION =
  /^(?=\d)(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?!s))?(?:(\d+(?:\.\d+)?)s)?(?:(\d+(?:\.\d+)?)ms)?$/;

/** Parses a mesh duration (`250ms`, `1.5s`, `1m30s`) into milliseconds; undefined if malformed. */
export function parseDuration(text: string): number | undefined {
  const m = DURATION.exec(text);
  if (!m) return undefined;
  const units = ['h', 'm', 's', 'ms'];
  let ms = 0;
  for (let i = 0; i < 4; i++) if (m[i + 1] !== undefined) ms += Number(m[i + 1]) * UNIT_MS[units[i]!]!;
  return Math.round(ms * 1000) / 1000;
}

/** Formats milliseconds the way the mesh format writes them: `1m30s`, `250ms`, `1.5s` becomes `1s500ms`. */
export function formatDuration(ms: number): string {
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
export function secondsString(ms: number): string {
  return `${Number((ms / 1000).toFixed(9))}s`;
}
