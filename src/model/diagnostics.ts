/** Diagnostics are data: checks and emitters return them, only the CLI prints them. */

export type Severity = 'error' | 'warning' | 'info';
export type DiagnosticCode = `MG${number}`;

export interface Diagnostic {
  code: DiagnosticCode;
  severity: Severity;
  /** One sentence, in the mesh's terms: names the route, backend or frontend. */
  message: string;
  /** JSON pointer into the mesh document (`/spec/routes/2/retries/attempts`). */
  pointer?: string;
  /** Set by `locateDiagnostics` from the pointer, or by the loader for syntax errors. 1-based. */
  file?: string;
  line?: number;
  column?: number;
  endLine?: number;
  endColumn?: number;
  /** The target, on fidelity diagnostics. */
  target?: string;
  /** What to change. */
  hint?: string;
  /** The message template it was made from, on diagnostics made by the thousand (see `FAMILY`). */
  [FAMILY]?: string;
}

/**
 * The catalogue: every code with its default severity and a title. MG1xxx syntax and schema, MG2xxx
 * semantics, MG3xxx target fidelity, MG4xxx command input, MG5xxx the data plane's configuration
 * (an Envoy bootstrap given to `meshgen proxy`; the pointer is into the bootstrap), MG6xxx test
 * files and `meshgen test` runs (the pointer is into the test file), MG7xxx `meshgen import` (located
 * in the input files).
 */
export const CODES = {
  MG1001: { severity: 'error', title: 'the file is not text' },
  MG1002: { severity: 'error', title: 'the file is empty' },
  MG1003: { severity: 'error', title: 'YAML syntax error' },
  MG1004: { severity: 'error', title: 'not a meshgen Mesh document' },
  MG1005: { severity: 'error', title: 'more than one YAML document' },
  MG1006: { severity: 'error', title: 'YAML aliases expand too far' },
  MG1010: { severity: 'error', title: 'unknown field' },
  MG1011: { severity: 'error', title: 'missing field' },
  MG1012: { severity: 'error', title: 'wrong type' },
  MG1013: { severity: 'error', title: 'value not allowed' },
  MG1014: { severity: 'error', title: 'invalid value' },
  MG1015: { severity: 'error', title: 'invalid key' },

  MG2001: { severity: 'error', title: 'unknown backend' },
  MG2002: { severity: 'error', title: 'unknown version' },
  MG2003: { severity: 'error', title: 'unknown frontend' },
  MG2004: { severity: 'error', title: 'weights do not sum to 100' },
  MG2005: { severity: 'error', title: 'duplicate name' },
  MG2006: { severity: 'error', title: 'bad duration' },
  MG2007: { severity: 'error', title: 'perTryTimeout longer than timeout' },
  MG2008: { severity: 'warning', title: 'retries cannot fit in the timeout' },
  MG2009: { severity: 'error', title: 'access rules need mTLS' },
  MG2010: { severity: 'error', title: 'HTTP feature on a TCP route' },
  MG2011: { severity: 'error', title: 'https without tls' },
  MG2012: { severity: 'warning', title: 'version without endpoints' },
  MG2013: { severity: 'warning', title: 'route can never match' },
  MG2014: { severity: 'error', title: 'hashOn without ring-hash' },
  MG2015: { severity: 'error', title: 'rewrite.pathPrefix needs prefix matches' },
  MG2016: { severity: 'error', title: 'missing weight' },
  MG2017: { severity: 'error', title: 'invalid regular expression' },
  MG2018: { severity: 'error', title: 'frontend collides with a local listener' },
  MG2019: { severity: 'error', title: 'invalid endpoint' },
  MG2020: { severity: 'error', title: 'route host not served by its frontend' },
  MG2021: { severity: 'error', title: 'unknown caller' },
  MG2022: { severity: 'warning', title: 'tls ignored' },
  MG2023: { severity: 'error', title: 'incomplete tls' },
  MG2024: { severity: 'error', title: 'route parent must name one backend or one frontend' },
  MG2025: { severity: 'error', title: 'duplicate access rule' },
  MG2026: { severity: 'error', title: 'TCP destination for HTTP route or the reverse' },
  MG2027: { severity: 'error', title: 'invalid listen address' },
  MG2028: { severity: 'error', title: 'tls file is one that `meshgen certs` writes for the CA' },

  MG3001: { severity: 'warning', title: 'feature not supported by target' },
  MG3002: { severity: 'warning', title: 'feature approximated by target' },
  MG3003: { severity: 'error', title: 'target needs endpoints' },
  MG3004: { severity: 'warning', title: 'route order differs in target' },
  MG3005: { severity: 'info', title: 'target default stated' },
  MG3006: { severity: 'error', title: 'generated target name collides' },
  MG3007: { severity: 'error', title: "target's listener takes an app's port" },
  MG3008: { severity: 'error', title: 'target output too large to render at once' },
  MG3009: { severity: 'warning', title: 'target relies on a setting meshgen does not write' },
  MG3020: { severity: 'warning', title: 'retries kept only as failover when connecting fails (apache)' },
  MG3021: { severity: 'warning', title: 'timeout between reads, answered 502 (apache)' },
  MG3030: { severity: 'warning', title: 'traefik: no per-route timeout' },
  MG3031: {
    severity: 'warning',
    title: 'traefik: retry conditions not kept (Traefik retries network errors only)',
  },
  MG3032: { severity: 'info', title: 'traefik: no fault injection' },
  MG3033: { severity: 'warning', title: 'traefik: load-balancing policy not kept' },
  MG3034: { severity: 'warning', title: 'traefik: health-check thresholds not kept' },
  MG3035: { severity: 'warning', title: 'traefik: header operation approximated' },
  MG3036: {
    severity: 'info',
    title: 'traefik: no circuit breaker or outlier detection by connection counts',
  },
  MG3037: { severity: 'warning', title: 'traefik: access rule approximated' },
  MG3038: { severity: 'warning', title: 'traefik: TLS settings chosen by host name, not by entry point' },
  MG3039: { severity: 'warning', title: 'traefik: a match Traefik reads differently' },

  MG4001: { severity: 'error', title: 'cannot read file' },
  MG4002: { severity: 'error', title: 'unknown target' },
  MG4003: {
    severity: 'error',
    title: 'invalid target setting (--set: a key no rendered target reads, or a bad value; a format option)',
  },
  MG4010: {
    severity: 'error',
    title: 'render -o names no usable folder (-, a format name, an existing file)',
  },
  MG4011: { severity: 'error', title: 'render to stdout: several files and no --file to choose one' },
  MG4012: { severity: 'error', title: 'render --file names no rendered file, or comes with -o' },
  MG4013: { severity: 'error', title: '--suppress names an unknown code or an error' },
  MG4014: { severity: 'error', title: 'more warnings than --max-warnings allows' },
  MG4015: { severity: 'error', title: '--layout for a target that does not write Kubernetes objects' },
  MG4020: { severity: 'error', title: 'bad --source (not a file path or etcd://host:port/prefix)' },
  MG4021: { severity: 'error', title: 'etcd store unreachable (within the dial timeout)' },
  MG4022: { severity: 'error', title: 'no mesh document at <prefix>/mesh in etcd' },
  MG4023: { severity: 'warning', title: 'bad endpoint value in etcd (skipped)' },
  MG4024: {
    severity: 'warning',
    title: 'etcd endpoint for a backend or version the mesh does not have (skipped)',
  },
  MG4025: { severity: 'error', title: 'etcd TLS error (certificate files or handshake)' },
  MG4026: { severity: 'error', title: 'etcd authentication or permission error' },
  MG4027: { severity: 'warning', title: 'etcd endpoint field meshgen does not use (weight, zone)' },
  MG4028: { severity: 'error', title: "the proxy's own check rejected the rendered configuration" },
  MG4029: { severity: 'error', title: 'bad register or watch option' },
  MG4030: {
    severity: 'warning',
    title: 'watch: each reload of the proxy can reset idle keep-alive client connections',
  },
  MG4033: { severity: 'error', title: 'watch: the runtime socket path is too long for a UNIX socket' },

  MG5001: { severity: 'error', title: 'bootstrap syntax error (YAML or JSON)' },
  MG5002: { severity: 'error', title: "not in Envoy's API (unknown field, wrong type, invalid value)" },
  MG5003: { severity: 'error', title: 'not implemented by meshgen proxy' },
  MG5004: { severity: 'error', title: 'invalid configuration (duplicate name, unknown cluster...)' },
  MG5005: {
    severity: 'warning',
    title: 'accepted by Envoy with a warning (deprecated field, non-canonical form)',
  },
  MG5006: {
    severity: 'error',
    title:
      'discovery file (a path config source of dynamic_resources) cannot be read or is not a DiscoveryResponse',
  },
  MG5007: { severity: 'error', title: 'discovery file holds a resource of the wrong type' },

  MG6001: { severity: 'error', title: 'not a meshgen MeshTest document' },
  MG6002: { severity: 'error', title: 'test file: unknown field' },
  MG6003: { severity: 'error', title: 'test file: missing field' },
  MG6004: { severity: 'error', title: 'test file: wrong type or value' },
  MG6005: { severity: 'error', title: 'test file: a case names what the mesh does not have' },
  MG6006: { severity: 'error', title: 'test file: duplicate case name' },
  MG6007: { severity: 'error', title: 'test file: expectations that contradict each other' },
  MG6008: { severity: 'error', title: 'test file: a difference names no target of meshgen test' },
  MG6009: { severity: 'error', title: "test file: a target declared twice among a case's differences" },
  MG6020: { severity: 'error', title: 'test target cannot run here (missing program)' },
  MG6021: { severity: 'error', title: 'test target cannot be rendered' },
  MG6022: { severity: 'error', title: 'test target cannot be tested' },

  MG7001: { severity: 'error', title: 'import: input cannot be parsed' },
  MG7002: { severity: 'error', title: 'import: HCL outside the subset config entries use' },
  MG7003: { severity: 'info', title: 'import: kind not used' },
  MG7004: { severity: 'warning', title: 'import: field not carried' },
  MG7005: { severity: 'warning', title: 'import: reference to something not imported' },
  MG7006: { severity: 'info', title: 'import: routes changed to keep the source behaviour' },
  MG7007: { severity: 'error', title: 'import: nothing to import' },
  MG7008: { severity: 'warning', title: 'import: object skipped' },
  MG7009: { severity: 'warning', title: 'import: name changed' },
  MG7010: { severity: 'error', title: 'import: the imported mesh does not validate' },
  MG7011: { severity: 'info', title: 'import: an object given again replaces the earlier one' },
  MG7012: { severity: 'info', title: 'import: a route without parents attached to the --parent given' },
  MG7013: { severity: 'error', title: 'import: a field of the wrong type' },
  MG7014: { severity: 'error', title: 'import: bad --parent option' },
  MG7015: { severity: 'info', title: 'import: a field the objects do not carry, read from meshgen-carried' },
  MG7016: { severity: 'warning', title: 'import: a meshgen-carried entry left out, the objects were edited' },
} as const satisfies Record<DiagnosticCode, { severity: Severity; title: string }>;

export type KnownCode = keyof typeof CODES;

/**
 * Makes a diagnostic with the code's default severity. One about a target names the target first,
 * as `render` lists every target's diagnostics, so that render keeps it as it is.
 */
export function diagnostic(
  code: KnownCode,
  message: string,
  extra: Omit<Partial<Diagnostic>, 'code' | 'message'> = {},
): Diagnostic {
  const severity = CODES[code].severity;
  return extra.target !== undefined
    ? { target: extra.target, code, severity, message, ...extra }
    : { code, severity, message, ...extra };
}

/**
 * The message template a diagnostic was made from, for the kinds made once per backend or route (a
 * large mesh makes tens of thousands of each). A family's messages differ only in what they quote
 * and in their digits, so they have one shape, and the CLI's grouping (`groupDiagnostics`) places
 * the first diagnostic of a family by reading its message and the others without reading theirs
 * (reading a hundred thousand messages cost about a tenth of a second). Kept under a symbol: the
 * JSON of a diagnostic does not show it. (A WeakMap beside the diagnostics cost more than the
 * reading it saves.)
 */
export const FAMILY: unique symbol = Symbol('meshgen.diagnosticFamily');

/** Marks `d` as one of `family` (see `FAMILY`) and returns it. */
export function inFamily(family: string, d: Diagnostic): Diagnostic {
  d[FAMILY] = family;
  return d;
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

/** `--strict`: warnings become errors; nothing lowers an error. */
export function escalateWarnings(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  return diagnostics.map((d) => (d.severity === 'warning' ? { ...d, severity: 'error' } : d));
}

/** Sorts by file, line and column (unlocated ones last), then code: one stable order for output. */
export function sortDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  return [...diagnostics].sort(
    (a, b) =>
      compareText(a.file ?? '', b.file ?? '') ||
      (a.line ?? Infinity) - (b.line ?? Infinity) ||
      (a.column ?? 0) - (b.column ?? 0) ||
      compareText(a.code, b.code) ||
      compareText(a.message, b.message),
  );
}

const CODE = /^MG\d+$/;

/**
 * The order of `a.localeCompare(b)`, without asking it (whose first call loads the locale's collation
 * data, which costs more than a command's sorting) where the answer is known: equal strings, and two
 * codes of as many digits, which collate as their characters do.
 */
export function compareText(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === b.length && CODE.test(a) && CODE.test(b)) return a < b ? -1 : 1;
  return a.localeCompare(b);
}

/** Escapes one JSON pointer token (RFC 6901). */
function pointerToken(token: string | number): string {
  return String(token).replace(/~/g, '~0').replace(/\//g, '~1');
}

export function joinPointer(base: string, ...tokens: (string | number)[]): string {
  return base + tokens.map((t) => '/' + pointerToken(t)).join('');
}

export function splitPointer(pointer: string): string[] {
  if (pointer === '' || pointer === '/') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}
