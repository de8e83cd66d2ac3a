import { diagnostic, type Diagnostic } from '../model/diagnostics.js';
import { closest } from '../model/nearest.js';
import type { Emitter, TargetSetting } from './types.js';
import type { VersionSupport } from './versions.js';

/** `name` or the family `vip.<backend>` matches a key. */
function matches(setting: TargetSetting, key: string): boolean {
  const family = /^([^<]+\.)<[^>]+>$/.exec(setting.name);
  return family ? key.startsWith(family[1]!) && key.length > family[1]!.length : setting.name === key;
}

/** The declaration of `key` on a target, if it has one. */
function findSetting(emitter: Emitter, key: string): TargetSetting | undefined {
  return emitter.settings?.find((s) => matches(s, key));
}

/** What a setting accepts, in words: its values, or its `accepts`, or "any text". */
function acceptedValues(setting: TargetSetting): string {
  return setting.values ? setting.values.join(', ') : (setting.accepts ?? 'any text');
}

/** Its default, in words. */
function defaultValue(setting: TargetSetting): string {
  return setting.default !== undefined
    ? setting.default === ''
      ? '(empty)'
      : setting.default
    : (setting.defaultText ?? '(none)');
}

function valid(setting: TargetSetting, value: string): boolean {
  if (setting.values) return setting.values.includes(value);
  return setting.check ? setting.check(value) : true;
}

/** A `--set` value that is a port. */
export const isPort = (v: string): boolean => /^\d{1,5}$/.test(v) && Number(v) >= 1 && Number(v) <= 65535;

/** The `version` setting of a target that renders for several releases of its project. */
export function versionSetting(target: string, support: VersionSupport, forms = ''): TargetSetting {
  return {
    name: 'version',
    default: support.default,
    accepts: `a release, ${support.oldest} or later${forms}`,
    description: `the ${target} release rendered for; \`--set ${target}.version=\` when several targets are rendered`,
  };
}

/**
 * Checks `--set` against the settings the chosen targets declare. A plain key is accepted when any
 * chosen target declares it, and its value is checked by each of those; `<target>.<key>` is that
 * target's alone, and the target must be among those rendered. An unknown key or a bad value is an
 * error (MG4003) with what is accepted, or the nearest known key. A chosen target that declares no
 * settings (an emitter of a library user) lets every plain key through.
 */
export function checkSettings(
  chosen: readonly Emitter[],
  available: readonly Emitter[],
  settings: Readonly<Record<string, string>> | undefined,
): Diagnostic[] {
  const out: Diagnostic[] = [];
  const names = available.map((e) => e.target);
  const open = chosen.some((e) => !e.settings);
  for (const [key, value] of Object.entries(settings ?? {})) {
    const dot = key.indexOf('.');
    const scope = dot > 0 && names.includes(key.slice(0, dot)) ? key.slice(0, dot) : undefined;
    if (scope !== undefined) {
      const emitter = chosen.find((e) => e.target === scope);
      if (!emitter) {
        out.push(
          diagnostic('MG4003', `--set ${key}: the ${scope} target is not rendered`, {
            hint: `targets rendered: ${chosen.map((e) => e.target).join(', ') || '(none)'}`,
          }),
        );
        continue;
      }
      checkOne(out, [emitter], available, key, key.slice(dot + 1), value, emitter.settings === undefined);
      continue;
    }
    checkOne(out, chosen, available, key, key, value, open);
  }
  return out;
}

function checkOne(
  out: Diagnostic[],
  targets: readonly Emitter[],
  available: readonly Emitter[],
  written: string,
  key: string,
  value: string,
  open: boolean,
): void {
  const declaring = targets.filter((e) => findSetting(e, key));
  if (!declaring.length) {
    if (open) return;
    const known = [...new Set(targets.flatMap((e) => (e.settings ?? []).map((s) => s.name)))];
    const near = closest(key, known);
    const others = available.filter((e) => !targets.includes(e));
    // a key (or a near one) of a target that is not rendered
    const other = near
      ? undefined
      : closest(
          key,
          others.flatMap((e) => (e.settings ?? []).map((s) => s.name)),
        );
    const elsewhere = other ? others.filter((e) => findSetting(e, other)) : [];
    const which = targets.map((e) => e.target).join(', ');
    out.push(
      diagnostic(
        'MG4003',
        `--set ${written}: ${which} ${targets.length > 1 ? 'have' : 'has'} no setting "${key}"`,
        {
          hint: near
            ? `did you mean "${near}"?`
            : other
              ? `${other === key ? `"${key}"` : `did you mean "${other}"? that`} is a setting of ${elsewhere.map((e) => e.target).join(', ')}, which ${elsewhere.length > 1 ? 'are' : 'is'} not rendered here`
              : `settings: ${known.join(', ') || '(none)'}; \`meshgen targets --target ${targets[0]?.target ?? '<name>'}\` describes them`,
        },
      ),
    );
    return;
  }
  for (const emitter of declaring) {
    const setting = findSetting(emitter, key)!;
    if (valid(setting, value)) continue;
    const near = setting.values ? closest(value, setting.values) : undefined;
    out.push(
      diagnostic(
        'MG4003',
        `--set ${written}=${JSON.stringify(value)} is not valid for the ${emitter.target} target: it takes ${acceptedValues(setting)}`,
        {
          target: emitter.target,
          hint: near ? `did you mean "${near}"?` : `${setting.description}; default ${defaultValue(setting)}`,
        },
      ),
    );
  }
}

/** The rows of a settings table: setting, values, default, description. */
export function settingsRows(emitter: Emitter): string[][] {
  return (emitter.settings ?? []).map((s) => [s.name, acceptedValues(s), defaultValue(s), s.description]);
}

/** A target's settings as a Markdown table (the docs' tables are these, `npm run docs:settings`). */
export function settingsMarkdown(emitter: Emitter): string {
  const cell = (text: string, code: boolean) => {
    const escaped = text.replace(/\|/g, '\\|');
    return code ? `\`${escaped}\`` : escaped;
  };
  const rows = (emitter.settings ?? []).map(
    (s) =>
      `| ${cell(s.name, true)} | ${s.values ? s.values.map((v) => cell(v, true)).join(', ') : cell(acceptedValues(s), false)} | ${s.default !== undefined ? (s.default === '' ? '(empty)' : cell(s.default, true)) : cell(defaultValue(s), false)} | ${cell(s.description, false)} |`,
  );
  return `| setting | values | default | description |\n|---|---|---|---|\n${rows.join('\n')}\n`;
}

/**
 * The settings one target sees: every plain key, and the keys scoped to it (`<target>.<key>`, which
 * win over a plain key of the same name) without their prefix; keys scoped to other targets are
 * left out.
 */
export function settingsFor(
  target: string,
  settings: Readonly<Record<string, string>> | undefined,
  targets: readonly string[],
): Record<string, string> {
  const out: Record<string, string> = {};
  const own: [string, string][] = [];
  for (const [key, value] of Object.entries(settings ?? {})) {
    const dot = key.indexOf('.');
    const scope = dot > 0 && targets.includes(key.slice(0, dot)) ? key.slice(0, dot) : undefined;
    if (scope === undefined) out[key] = value;
    else if (scope === target) own.push([key.slice(dot + 1), value]);
  }
  for (const [key, value] of own) out[key] = value;
  return out;
}
