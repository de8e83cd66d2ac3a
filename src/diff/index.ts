/** The semantic and rendered diff of two meshes. */
export { diffMeshes } from './differ.js';
export { buildTrafficTable, type TrafficTable } from './traffic-table.js';
export { diffRendered, type TargetDiff, type ObjectChange } from './rendered.js';
export { unifiedDiff } from './unified.js';
export { describeChange } from './describe.js';
export type * from './types.js';
