import type { Obj } from '../config/common.js';
import type { HttpFilterConverter } from '../config/hcm.js';
import type { Allowed, PathError } from '../config/supported.js';

/**
 * An HTTP filter as the registry (filters/registry.ts) knows it: how its typed_config converts,
 * which proto fields it implements (the "not implemented" check) and its per-route configuration.
 */
export interface HttpFilterDefinition<C = unknown> extends HttpFilterConverter {
  /** Proto messages the filter reads, with the fields implemented. */
  readonly supported: Allowed;
  convert(tc: Obj, p: string, errors: PathError[]): C | undefined;
}
