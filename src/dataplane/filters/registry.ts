import type { Allowed } from '../config/supported.js';
import type { HttpFilterDefinition } from '../http/filter.js';
import { CORS, corsFilter } from './cors.js';
import { FAULT, faultFilter } from './fault.js';
import { RBAC, rbacFilter } from './rbac.js';
import { ROUTER, routerFilter } from './router.js';

/**
 * The HTTP filters meshgen proxy implements, by the @type of their typed_config. This one table
 * drives the conversion of http_filters (config/hcm.ts), the "not implemented" check (the fields
 * each filter lists) and the filter chain at run time. Adding a filter: one file, one line here.
 */
export const HTTP_FILTERS: ReadonlyMap<string, HttpFilterDefinition> = new Map<string, HttpFilterDefinition>([
  [ROUTER, routerFilter],
  [FAULT, faultFilter],
  [CORS, corsFilter],
  [RBAC, rbacFilter],
]);

/** The proto messages of every registered filter, for the field walk (config/supported.ts). */
export function filterMessages(): Allowed {
  return Object.assign({}, ...[...HTTP_FILTERS.values()].map((f) => f.supported)) as Allowed;
}
