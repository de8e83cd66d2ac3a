/**
 * @peculiar/x509 resolves its providers through tsyringe, which refuses to load without the
 * Reflect metadata API. The few functions it calls, kept in a WeakMap, so no polyfill package is
 * needed. Installed only when missing; imported before @peculiar/x509.
 */
type Key = string | symbol;
const store = new WeakMap<object, Map<Key | undefined, Map<unknown, unknown>>>();

function table(
  target: object,
  property: Key | undefined,
  create: boolean,
): Map<unknown, unknown> | undefined {
  let byProp = store.get(target);
  if (!byProp && create) store.set(target, (byProp = new Map()));
  let t = byProp?.get(property);
  if (!t && create && byProp) byProp.set(property, (t = new Map()));
  return t;
}

const api = {
  defineMetadata(key: unknown, value: unknown, target: object, property?: Key) {
    table(target, property, true)!.set(key, value);
  },
  getOwnMetadata(key: unknown, target: object, property?: Key) {
    return table(target, property, false)?.get(key);
  },
  hasOwnMetadata(key: unknown, target: object, property?: Key) {
    return table(target, property, false)?.has(key) ?? false;
  },
  getMetadata(key: unknown, target: object, property?: Key): unknown {
    for (let o: object | null = target; o; o = Object.getPrototypeOf(o) as object | null) {
      const t = table(o, property, false);
      if (t?.has(key)) return t.get(key);
    }
    return undefined;
  },
  hasMetadata(key: unknown, target: object, property?: Key): boolean {
    return api.getMetadata(key, target, property) !== undefined;
  },
  metadata(key: unknown, value: unknown) {
    return (target: object, property?: Key) => api.defineMetadata(key, value, target, property);
  },
};

const R = Reflect as unknown as Record<string, unknown>;
if (typeof R['getMetadata'] !== 'function') for (const [k, v] of Object.entries(api)) R[k] = v;
