import { diagnostic, type Diagnostic } from '../model/diagnostics.js';
import type { Feature } from '../model/features.js';

/** A release of a target's project, compared by major, minor and patch (`1.24` is `1.24.0`). */
export interface TargetVersion {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  /** As the user wrote it (or the default), for messages. */
  readonly text: string;
}

/** One way a target's output depends on the version: what holds from `since` on, and where it is read. */
interface VersionRule {
  /** The first release the rule holds for (`1.25.0`). */
  readonly since: string;
  /** What changes, in one sentence. */
  readonly what: string;
  /** The upstream file or change the rule was read from. */
  readonly source: string;
}

/** The releases of its project a target renders for. */
export interface VersionSupport {
  /** The default: the newest stable release whose rules meshgen was written against. */
  readonly default: string;
  /** The oldest release meshgen renders for; older ones are refused (MG4003). */
  readonly oldest: string;
  /** What changes between `oldest` and `default`, for `meshgen targets` and the docs. */
  readonly rules: readonly VersionRule[];
  /** Reads a version the target's own way (a Linkerd edge release); default: `parseVersion`. */
  parse?(text: string): TargetVersion | undefined;
  /** The fidelity table at a version, where it differs from the emitter's (which is the default's). */
  fidelity?(version: TargetVersion): Readonly<Record<Feature, 'exact' | 'approximate' | 'unsupported'>>;
}

/** `1.30`, `1.24.4`, `v3.2`: numbers only; a missing patch is 0. */
export function parseVersion(text: string): TargetVersion | undefined {
  const m = /^v?(\d{1,4})\.(\d{1,4})(?:\.(\d{1,6}))?$/.exec(text.trim());
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3] ?? 0), text: text.trim() };
}

/** Negative, zero or positive as a is older, the same or newer than b. */
export function compareVersions(a: TargetVersion, b: TargetVersion): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch;
}

/** True when `version` is `since` or newer (`since` as `1.25.1`). */
export function atLeast(version: TargetVersion, since: string): boolean {
  return compareVersions(version, parseVersion(since)!) >= 0;
}

/** `major.minor`, or `major.minor.patch` when the patch is not 0. */
export function formatVersion(v: TargetVersion): string {
  return v.patch ? `${v.major}.${v.minor}.${v.patch}` : `${v.major}.${v.minor}`;
}

/**
 * The version a target renders for: the `version` setting when it is one the target supports, else
 * the default, with a diagnostic (MG4003) for a setting that is not a version or is older than the
 * oldest supported one, and one (MG3005) for a version newer than the newest meshgen knows.
 */
export function readVersion(
  target: string,
  support: VersionSupport,
  settings: Readonly<Record<string, string>> | undefined,
): { version: TargetVersion; diagnostics: Diagnostic[] } {
  const parse = (t: string) => support.parse?.(t) ?? parseVersion(t);
  const fallback = parse(support.default)!;
  const text = settings?.['version'];
  if (text === undefined) return { version: fallback, diagnostics: [] };
  const oldest = parse(support.oldest)!;
  const range = `${support.oldest} or later (default ${support.default})`;
  const version = parse(text);
  if (!version)
    return {
      version: fallback,
      diagnostics: [
        diagnostic('MG4003', `--set version="${text}" is not a ${target} version`, {
          target,
          hint: `a release such as ${support.default}: meshgen renders ${target} ${range}`,
        }),
      ],
    };
  if (compareVersions(version, oldest) < 0)
    return {
      version: fallback,
      diagnostics: [
        diagnostic('MG4003', `${target} ${text} is older than the oldest version meshgen renders for`, {
          target,
          hint: `meshgen renders ${target} ${range}`,
        }),
      ],
    };
  const diagnostics: Diagnostic[] = [];
  if (compareVersions(version, fallback) > 0)
    diagnostics.push(
      diagnostic(
        'MG3005',
        `${target} ${text} is newer than ${support.default}, the newest release meshgen's ${target} rules were checked against: rendered as for ${support.default}`,
        { target },
      ),
    );
  return { version, diagnostics };
}
