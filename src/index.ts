/** meshgen's library surface: load, validate, normalize and render meshes. */
export { parseMesh, loadMesh, type MeshResult } from './model/load.js';
export { validateMesh } from './model/validate.js';
export { normalizeMesh } from './model/normalize.js';
export { meshSchema } from './model/schema.js';
export { SourceFile, locateDiagnostics, type SourceRange } from './model/source.js';
export {
  CODES,
  hasErrors,
  escalateWarnings,
  sortDiagnostics,
  type Diagnostic,
  type DiagnosticCode,
  type Severity,
} from './model/diagnostics.js';
export { parseDuration, formatDuration } from './model/duration.js';
export { FEATURES, featureUses, type Feature, type FeatureUse } from './model/features.js';
export type * from './model/types.js';
export { render, type RenderOptions, type RenderResult, type TargetOutput } from './render.js';
export { emitters as targets, findEmitter } from './emitters/index.js';
export type { Emitter, EmitOptions, EmitResult, Fidelity, OutputFile } from './emitters/types.js';
export type { TargetVersion, VersionSupport } from './emitters/versions.js';
export {
  diffMeshes,
  buildTrafficTable,
  diffRendered,
  unifiedDiff,
  describeChange,
  type Change,
  type ChangeKind,
  type TrafficTable,
  type TargetDiff,
  type ObjectChange,
} from './diff/index.js';
export {
  certificatePathDiagnostics,
  issueCertificates,
  type IssueOptions,
  type IssuedFile,
} from './certs/issue.js';
export {
  loadBootstrap,
  parseBootstrap,
  convertBootstrap,
  type ProxyConfig,
  type ConfigResult,
} from './dataplane/config/bootstrap.js';
export { Proxy as DataPlaneProxy, type ProxyOptions } from './dataplane/server.js';
export { runTests, testTargets, type RunOptions } from './meshtest/run.js';
export { loadTests, parseTests, meshTestSchema, type TestsResult } from './meshtest/load.js';
export type * from './meshtest/types.js';
export type { Simulator, SimCase, SimResult, BackendBehaviour } from './meshtest/simulate/types.js';
export {
  importMesh,
  importers,
  type ImportInput,
  type ImportMeshOptions,
  type ImportMeshResult,
} from './import/index.js';
export type { Importer, ImportOptions, ImportResult, RouteOrigin } from './import/types.js';
