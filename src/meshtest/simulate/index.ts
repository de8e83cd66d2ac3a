import type { Simulator } from './types.js';

/** The simulated targets, by target name: each evaluates cases against its rendered objects. */
export const simulators: Readonly<Record<string, Simulator>> = {};
