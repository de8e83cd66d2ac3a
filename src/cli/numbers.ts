import { InvalidArgumentError } from 'commander';
import { parseDuration } from '../model/duration.js';

/** A commander parser for a whole number of at least `min`: anything else is a usage error (exit 2). */
export function wholeNumber(min: number): (value: string) => string {
  return (value) => {
    if (!/^\d+$/.test(value.trim()) || Number(value) < min)
      throw new InvalidArgumentError(`a whole number${min > 0 ? ` of at least ${min}` : ''} is expected`);
    return value.trim();
  };
}

/** A commander parser for a number of seconds, 0 or more. */
export function seconds(value: string): string {
  if (!/^\d+(\.\d+)?$/.test(value.trim()))
    throw new InvalidArgumentError('a number of seconds, 0 or more, is expected');
  return value.trim();
}

/** A commander parser for a duration as the mesh writes them (`500ms`, `2s`, `1m`), in ms, above 0. */
export function positiveMs(value: string): number {
  const ms = parseDuration(value.trim());
  if (ms === undefined || ms <= 0)
    throw new InvalidArgumentError('a duration above 0 such as 500ms, 2s or 1m is expected');
  return ms;
}
