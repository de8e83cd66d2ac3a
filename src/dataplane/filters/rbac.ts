import { rbacConfig, type RbacConfig } from '../config/rbac.js';
import type { HttpFilterDefinition } from '../http/filter.js';

export const RBAC = 'envoy.extensions.filters.http.rbac.v3.RBAC';

/** The RBAC filter's entry in the registry (a filter without rules is left out of the chain). */
export const rbacFilter: HttpFilterDefinition<RbacConfig> = {
  supported: { [RBAC]: ['rules'] },
  convert: (tc, p) => (tc.rules ? rbacConfig(tc.rules, `${p}/rules`) : undefined),
};
