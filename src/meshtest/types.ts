/** A MeshTest document (schemas/meshtest.schema.json) and what `runTests` returns. */
import type { Diagnostic } from '../model/diagnostics.js';

/** Header expectations: the exact value, or null for absent. */
export type HeaderExpect = Readonly<Record<string, string | null>>;

export interface TestBehaviour {
  readonly status?: number;
  readonly failFirst?: number;
  readonly failStatus?: number;
  readonly delay?: string;
  readonly reset?: boolean;
  readonly hang?: boolean;
}

export interface TestRequest {
  readonly frontend?: string;
  readonly caller?: string;
  readonly backend?: string;
  readonly scheme?: 'http' | 'https';
  readonly host?: string;
  readonly method?: string;
  readonly path?: string;
  readonly query?: Readonly<Record<string, string>>;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly clientCertificate?: string;
  readonly count?: number;
}

export interface TestExpect {
  readonly status?: number;
  readonly backend?: string | null;
  readonly version?: string;
  readonly responseHeaders?: HeaderExpect;
  readonly requestHeaders?: HeaderExpect;
  readonly path?: string;
  readonly tries?: number;
  readonly shares?: Readonly<Record<string, number>>;
  readonly tolerance?: number;
  readonly denied?: boolean;
  readonly timeout?: { readonly within: string };
}

/** A target known to behave otherwise in a case, and what it does instead. */
export interface TestDifference {
  readonly target: string;
  readonly reason: string;
  /** Merged over the case's `expect` on that target. */
  readonly expect: TestExpect;
}

export interface TestCaseDocument {
  readonly name: string;
  readonly description?: string;
  readonly request: TestRequest;
  readonly backends?: Readonly<Record<string, TestBehaviour>>;
  readonly expect?: TestExpect;
  readonly differences?: readonly TestDifference[];
}

export interface MeshTestDocument {
  readonly apiVersion: 'meshgen.io/v1alpha1';
  readonly kind: 'MeshTest';
  readonly metadata: { readonly name: string };
  readonly spec: { readonly cases: readonly TestCaseDocument[] };
}

/** One case of a loaded test file, with where it came from. */
export interface TestCase extends TestCaseDocument {
  /** The test file it was read from. */
  readonly file: string;
  /** JSON pointer of the case in its file. */
  readonly pointer: string;
}

/** What one request (or a case's requests) showed on a target, real or simulated. */
export interface Observation {
  readonly status: number;
  readonly backend?: string;
  readonly version?: string;
  readonly tries?: number;
  readonly path?: string;
  readonly requestHeaders?: Readonly<Record<string, string>>;
  readonly responseHeaders?: Readonly<Record<string, string>>;
  readonly shares?: Readonly<Record<string, number>>;
  readonly denied?: boolean;
  /** Milliseconds until the (first) answer. */
  readonly elapsedMs?: number;
}

/** `differs`: the target behaved as the case's declared difference for it says (a pass). */
export type Verdict = 'pass' | 'differs' | 'fail' | 'unsupported' | 'error';

/** One case on one target. */
export interface CaseResult {
  readonly case: string;
  readonly file: string;
  readonly target: string;
  /** Evaluated by an interpreter of the target's rules, not run. */
  readonly simulated: boolean;
  readonly verdict: Verdict;
  /** Each expectation that failed: what was expected and what was observed. */
  readonly failures: readonly {
    readonly what: string;
    readonly expected: string;
    readonly observed: string;
  }[];
  /** Why the case is unsupported, or the error. */
  readonly reason?: string;
  /** The reason of the difference the case declares for this target (judged against its expectation). */
  readonly difference?: string;
  readonly observed?: Observation;
  readonly durationMs: number;
}

export interface TargetSummary {
  readonly target: string;
  readonly simulated: boolean;
  /** The target could not run at all (a missing program, a render error): every case is an error. */
  readonly error?: string;
}

export interface TestRunResult {
  readonly results: readonly CaseResult[];
  readonly targets: readonly TargetSummary[];
  /** Problems of the run itself (a target that cannot run), located where possible. */
  readonly diagnostics: readonly Diagnostic[];
  readonly passed: boolean;
  readonly durationMs: number;
}
