import { haproxy } from './haproxy/index.js';
import { nginx } from './nginx/index.js';
import type { Emitter } from './types.js';

/** The registry: the CLI, the library, the fidelity matrix and the tests all read this one list. */
export const emitters: readonly Emitter[] = [haproxy, nginx];

export function findEmitter(target: string): Emitter | undefined {
  return emitters.find((e) => e.target === target);
}
