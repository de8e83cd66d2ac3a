import type { HttpFilterDefinition } from '../http/filter.js';

export const ROUTER = 'envoy.extensions.filters.http.router.v3.Router';

/** The router filter's entry in the registry: the last filter, it sends the request upstream. */
export const routerFilter: HttpFilterDefinition<object> = {
  terminal: true,
  supported: { [ROUTER]: [] },
  convert: () => ({}),
};
