/**
 * A list built by `push` as one of its own length. V8 gives an array room for 17 items at its first
 * push, and what the loader and the model build lives as long as they do: most of their lists hold
 * one or two items (a backend's versions and routes, a route's destinations, a version's
 * endpoints), and on a 10,000-backend mesh that room was 10 MB of the model's 61 MB, copied by each
 * garbage collection that moved it. A slice of a packed array is packed, of its length, and has the
 * same hidden class, so code optimised for the lists sees one kind of array (see `list` in
 * normalize.ts).
 */
export function fitted<T>(xs: T[]): T[] {
  return xs.length > 0 && xs.length < 17 ? xs.slice() : xs;
}
