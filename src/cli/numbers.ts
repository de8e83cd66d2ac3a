import { InvalidArgumentError } from 'commander';

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
