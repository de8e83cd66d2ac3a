import { diagnostic, type Diagnostic } from '../../model/diagnostics.js';
import { secondsString } from '../../model/duration.js';
import type { ResolvedBackend } from '../../model/types.js';
import type { TargetVersion } from '../versions.js';

export const NETWORKING = 'networking.istio.io/v1';
export const SECURITY = 'security.istio.io/v1';
export const TARGET = 'istio';

/** The label that selects a backend's pods: `app: <backend>` (versions add their own labels). */
export function podSelector(b: ResolvedBackend): Record<string, string> {
  return { app: b.name };
}

/**
 * Istio durations: seconds with decimals (`0.5s`, `3600s`), which both the API server's CEL
 * `duration()` and protobuf's JSON Duration accept; the CRDs reject anything under 1ms.
 */
export function istioDuration(ms: number): string {
  return secondsString(Math.max(ms, 1));
}

/**
 * Collects the emitter's own diagnostics, each naming the subject, the feature and the target; and
 * carries the Istio release they are about, which some renderings depend on.
 */
export class Notes {
  readonly list: Diagnostic[] = [];
  private readonly seen = new Set<string>();

  constructor(readonly version: TargetVersion) {}

  private push(d: Diagnostic): void {
    // a route shared by several VirtualServices (one per host) is explained once
    const key = `${d.code}|${d.pointer ?? ''}|${d.message}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.list.push(d);
  }

  approx(subject: string, feature: string, message: string, pointer: string, hint?: string): void {
    this.push(
      diagnostic('MG3002', `${subject}: ${feature} is approximated by the istio target: ${message}`, {
        pointer,
        target: TARGET,
        hint,
      }),
    );
  }

  unsupported(subject: string, feature: string, message: string, pointer: string, hint?: string): void {
    this.push(
      diagnostic('MG3001', `${subject}: ${feature} cannot be expressed by the istio target: ${message}`, {
        pointer,
        target: TARGET,
        hint,
      }),
    );
  }

  /** What holds only with an installation setting the emitted objects cannot carry (MG3009). */
  needs(message: string, pointer: string, hint: string): void {
    this.push(diagnostic('MG3009', message, { pointer, target: TARGET, hint }));
  }

  info(message: string, pointer?: string, hint?: string): void {
    this.push(diagnostic('MG3005', message, { pointer, target: TARGET, hint }));
  }
}

/**
 * A header value as Envoy reads it: a format string where `%` starts an operator, so a literal `%`
 * is `%%`; istiod refuses a value with a lone `%` (pkg/config/validation/validation.go,
 * ValidateHTTPHeaderValue, a port of Envoy's source/common/router/header_parser.cc).
 */
export function envoyHeaderValue(value: string): string {
  return value.replace(/%/g, '%%');
}
