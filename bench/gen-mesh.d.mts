/** Generates a large valid mesh as YAML text: n backends, a split route each, access rules. */
export function generateMesh(n: number, options?: { variant?: number; changedEvery?: number }): string;
