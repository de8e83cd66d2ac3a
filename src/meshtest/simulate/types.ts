import type { OutputFile } from '../../emitters/types.js';

/** How one backend (key "backend" or "backend/version") behaves in a case. */
export interface BackendBehaviour {
  readonly status?: number; // answer this status (default 200)
  readonly failFirst?: number; // the first N tries answer failStatus (default 503)
  readonly failStatus?: number;
  readonly delayMs?: number; // answer after this delay
  readonly reset?: boolean; // reset the connection instead of answering
  readonly hang?: boolean; // never answer
}

/** One case as the simulators see it (the runner maps a test-file case to this). */
export interface SimCase {
  readonly entry: { readonly frontend: string } | { readonly caller: string };
  readonly scheme: 'http' | 'https';
  readonly host: string;
  readonly method: string;
  readonly path: string; // without the query
  readonly query: Readonly<Record<string, string>>;
  readonly headers: Readonly<Record<string, string>>; // lower-case names
  readonly count: number; // requests sent (splits)
  readonly backends: Readonly<Record<string, BackendBehaviour>>;
}

/** What a simulated run observed, in the same terms as a real run's observation. */
export type SimResult =
  | {
      readonly kind: 'observed';
      readonly status: number; // status of the (first) request
      readonly backend?: string; // who answered (absent: no backend was reached)
      readonly version?: string;
      readonly tries?: number; // tries the answering backend saw
      readonly path?: string; // path (with ?query) the backend received
      readonly requestHeaders?: Readonly<Record<string, string>>; // headers the backend received (lower-case)
      readonly responseHeaders?: Readonly<Record<string, string>>;
      readonly shares?: Readonly<Record<string, number>>; // "backend/version" -> fraction of count (expected value, from weights)
      readonly denied?: boolean; // refused by an access rule or mTLS
    }
  | { readonly kind: 'unsupported'; readonly reason: string };

/** Evaluates one case against a target's rendered files by that system's documented rules. */
export type Simulator = (files: readonly OutputFile[], c: SimCase) => SimResult;
