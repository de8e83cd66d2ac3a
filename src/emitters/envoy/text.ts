import { toYaml } from '../../yaml/writer.js';
import type { Json } from './common.js';

/** How a bootstrap or discovery file is written: YAML (the default) or JSON. */
export interface Format {
  /** The whole object. */
  whole(value: Json): string;
}

export const YAML_FORMAT: Format = {
  whole: (v) => toYaml(v),
};

export const JSON_FORMAT: Format = {
  whole: (v) => JSON.stringify(v, null, 2) + '\n',
};
