/** The semantic and rendered diff of two meshes. */
export { diffMeshes, diffTables } from './differ.js';
export {
  buildTrafficTable,
  describeMatch,
  type TrafficTable,
  type ParentRow,
  type RouteRow,
  type BackendRow,
} from './traffic-table.js';
export type { AccessRow } from './access.js';
export {
  diffRendered,
  splitFile,
  type TargetDiff,
  type ObjectChange,
  type RenderedObject,
} from './rendered.js';
export { unifiedDiff, diffLines } from './unified.js';
export { describeChange } from './describe.js';
export type * from './types.js';
