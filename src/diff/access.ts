import type { AccessPolicy, ResolvedAllow } from '../model/types.js';
import { byString, sortedSet } from './canonical.js';
import type { Scope, ScopeEntry } from './types.js';

/**
 * Who may call one backend, as an effective relation: a caller named in the backend's rules gets
 * `named.get(caller)` (its own entries plus those for `*`), every other caller gets `others`.
 * `null` is no access. Sparse on purpose: a mesh of n backends never builds an n × n relation.
 */
export interface AccessRow {
  readonly others: Scope | null;
  readonly named: ReadonlyMap<string, Scope>;
  /** Equal signatures: the same callers may send the same requests. */
  readonly signature: string;
}

const EVERYTHING: Scope = [{}];
const ALLOW_ALL: AccessRow = { others: EVERYTHING, named: new Map(), signature: 'allow-all' };
const DENY_ALL: AccessRow = { others: null, named: new Map(), signature: 'deny-all' };

export function accessRow(policy: AccessPolicy): AccessRow {
  if (policy.mode !== 'rules') return policy.mode === 'allow-all' ? ALLOW_ALL : DENY_ALL;
  const wildcard: ScopeEntry[] = [];
  const perCaller = new Map<string, ScopeEntry[]>();
  for (const rule of policy.rules) {
    const entry = scopeEntry(rule);
    for (const caller of rule.from) {
      if (caller.kind === 'any') wildcard.push(entry);
      else {
        let list = perCaller.get(caller.name);
        if (!list) perCaller.set(caller.name, (list = []));
        list.push(entry);
      }
    }
  }
  const named = new Map<string, Scope>();
  for (const caller of [...perCaller.keys()].sort(byString))
    named.set(caller, normalizeScope([...perCaller.get(caller)!, ...wildcard])!);
  const others = normalizeScope(wildcard);
  return { others, named, signature: JSON.stringify([others, [...named]]) };
}

function scopeEntry(rule: ResolvedAllow): ScopeEntry {
  const entry: { methods?: string[]; paths?: string[] } = {};
  if (rule.methods) entry.methods = sortedSet(rule.methods);
  if (rule.paths) entry.paths = sortedSet(rule.paths.map((p) => p.pattern));
  return entry;
}

const entryKey = (e: ScopeEntry): string => `${e.methods?.join(',') ?? '*'} ${e.paths?.join(',') ?? '*'}`;

/** Sorted, without duplicates; an unrestricted entry absorbs the others. Null when empty. */
function normalizeScope(entries: readonly ScopeEntry[]): Scope | null {
  if (!entries.length) return null;
  if (entries.some((e) => !e.methods && !e.paths)) return EVERYTHING;
  const byKey = new Map(entries.map((e) => [entryKey(e), e]));
  return [...byKey.keys()].sort(byString).map((k) => byKey.get(k)!);
}

export function sameScope(a: Scope | null, b: Scope | null): boolean {
  if (a === b) return true;
  if (!a || !b || a.length !== b.length) return false;
  return a.every((e, i) => entryKey(e) === entryKey(b[i]!));
}

/** The scope a caller gets from a row. */
export function scopeOf(row: AccessRow | undefined, caller: string): Scope | null {
  if (!row) return null;
  return row.named.get(caller) ?? row.others;
}

/** `any request`, or `POST, GET on /pay, /refund/*` joined by `; or `. */
export function describeScope(scope: Scope | null): string {
  if (!scope) return 'nothing';
  return scope
    .map((e) => {
      if (!e.methods && !e.paths) return 'any request';
      const methods = e.methods ? e.methods.join(', ') : 'any method';
      return e.paths ? `${methods} on ${e.paths.join(', ')}` : methods;
    })
    .join('; or ');
}
