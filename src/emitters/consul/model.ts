import { diagnostic, inFamily, type Diagnostic } from '../../model/diagnostics.js';
import { formatDuration } from '../../model/duration.js';
import type { BackendProtocol, HeaderOps } from '../../model/types.js';

/**
 * A Consul config entry in the form `consul config write` reads: PascalCase keys as in the Go
 * structs of hashicorp/consul `api/config_entry*.go`. The CRD flavour is derived from it.
 */
export interface ConfigEntry {
  readonly Kind: ConsulKind;
  readonly Name: string;
  readonly [field: string]: unknown;
}

export type ConsulKind =
  | 'mesh'
  | 'service-defaults'
  | 'service-resolver'
  | 'service-splitter'
  | 'service-router'
  | 'ingress-gateway'
  | 'service-intentions';

/**
 * The order `consul config write` needs: the mesh entry (which permissive service-defaults need),
 * protocols, then the chain, gateways, intentions. Files are numbered by it from 0, so that the
 * mesh entry's `0-` leaves the numbers of the others as they were before it existed.
 */
export const KIND_ORDER: readonly ConsulKind[] = [
  'mesh',
  'service-defaults',
  'service-resolver',
  'service-splitter',
  'service-router',
  'ingress-gateway',
  'service-intentions',
];

/** The target's name, which its diagnostics carry. */
export const TARGET = 'consul';

/** What claims a Consul service name. */
export type OwnerKind = 'backend' | 'frontend' | 'route';

/** One entry and the Kubernetes namespace its custom resource lives in. */
export interface Built {
  readonly entry: ConfigEntry;
  readonly namespace: string;
}

/** Collects entries and diagnostics; guards every generated Consul name against collisions. */
export class Output {
  readonly built: Built[] = [];
  readonly diagnostics: Diagnostic[] = [];
  private readonly owners = new Map<string, { kind: OwnerKind; name: string }>();
  private readonly warned = new Set<string>();
  /** The `warn` diagnostics by pointer: the first one, or all of them once a pointer has two. */
  private readonly warnedAt = new Map<string | undefined, Diagnostic | Diagnostic[]>();
  /** Split targets already built, so a route served under several hosts gets one virtual service. */
  readonly targets = new Map<object, unknown>();

  /**
   * @param write when given, each entry goes to it as it is added (complete: entries are not changed
   * once added) instead of into `built`, so a large mesh's entries need not all be kept at once
   */
  constructor(private readonly write?: (b: Built) => void) {}

  add(entry: ConfigEntry, namespace: string): void {
    if (this.write) this.write({ entry, namespace });
    else this.built.push({ entry, namespace });
  }

  /**
   * Claims a Consul service name for an owner (the backend, frontend or route of that name); a
   * second claim by another owner is an error, since Consul has one flat service namespace (without
   * Enterprise namespaces).
   */
  claim(name: string, ownerKind: OwnerKind, ownerName: string, pointer: string): boolean {
    const prior = this.owners.get(name);
    if (prior === undefined) {
      this.owners.set(name, { kind: ownerKind, name: ownerName });
      return true;
    }
    if (prior.kind === ownerKind && prior.name === ownerName) return true;
    const message = `${ownerKind} "${ownerName}" needs the Consul service name "${name}", which ${prior.kind} "${prior.name}" already uses`;
    if (!this.warned.has(message)) {
      this.warned.add(message);
      this.diagnostics.push(
        diagnostic('MG3006', message, {
          pointer,
          target: TARGET,
          hint: 'rename the route, frontend or backend so that the names differ',
        }),
      );
    }
    return false;
  }

  /** Records a diagnostic once (a route rendered under several hosts is explained once). */
  warn(
    code: 'MG3001' | 'MG3002' | 'MG3005',
    message: string,
    pointer: string | undefined,
    hint?: string,
    /** The message's family, when it is made once per backend or route (see `inFamily`). */
    family?: string,
  ): void {
    // by pointer, then code and message: no key is built for each of tens of thousands of warnings,
    // and a pointer warned about once (nearly all) keeps just its diagnostic
    const seen = this.warnedAt.get(pointer);
    if (seen !== undefined)
      for (const s of Array.isArray(seen) ? seen : [seen])
        if (s.code === code && s.message === message) return;
    const d = diagnostic(code, message, { pointer, target: TARGET, hint });
    if (seen === undefined) this.warnedAt.set(pointer, d);
    else if (Array.isArray(seen)) seen.push(d);
    else this.warnedAt.set(pointer, [seen, d]);
    this.diagnostics.push(family === undefined ? d : inFamily(family, d));
  }
}

/** Go duration strings (`time.ParseDuration`): `15s`, `1m30s`, `250ms`. */
export function goDuration(ms: number): string {
  return formatDuration(ms);
}

export function consulProtocol(p: BackendProtocol): string {
  return p;
}

/**
 * Consul hands header values to Envoy as they are (agent/xds/routes.go, makeHeadersValueOptions), and
 * Envoy reads them as format strings where `%` starts an operator: a literal `%` is written `%%`
 * (Envoy's source/common/router/header_parser.cc refuses a lone one, and the proxy with it).
 */
function envoyHeaderValue(value: string): string {
  return value.replace(/%/g, '%%');
}

/** `HTTPHeaderModifiers`: Add, Set, Remove; undefined when there is nothing to do. */
export function headerModifiers(
  ops: HeaderOps,
  subject: string,
  pointer: string,
  out: Output,
): Record<string, unknown> | undefined {
  if (ops.set.length + ops.add.length + ops.remove.length === 0) return undefined;
  const add: Record<string, string> = {};
  const seen = new Set<string>();
  for (const [name, rawValue] of ops.add) {
    const value = envoyHeaderValue(rawValue);
    const key = name.toLowerCase();
    if (seen.has(key))
      out.warn(
        'MG3002',
        `${subject} adds header "${name}" twice; Consul's Add is a map, so only the last value is added`,
        pointer,
      );
    seen.add(key);
    add[name] = value;
  }
  const set: Record<string, string> = {};
  for (const [name, value] of ops.set) set[name] = envoyHeaderValue(value);
  return {
    Add: ops.add.length ? add : undefined,
    Set: ops.set.length ? set : undefined,
    Remove: ops.remove.length ? [...ops.remove] : undefined,
  };
}
