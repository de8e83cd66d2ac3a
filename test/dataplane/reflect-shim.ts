/**
 * The few Reflect metadata functions @peculiar/x509's dependency injection (tsyringe) needs, so the
 * test certificates need no reflect-metadata package. Imported before @peculiar/x509.
 */
type Target = object;
const store = new WeakMap<Target, Map<unknown, unknown>>();
const R = Reflect as unknown as Record<string, unknown>;
if (typeof R.getMetadata !== 'function') {
  const define = (k: unknown, v: unknown, t: Target) => {
    let m = store.get(t);
    if (!m) store.set(t, (m = new Map()));
    m.set(k, v);
  };
  const get = (k: unknown, t: Target): unknown => {
    for (let o: Target | null = t; o; o = Object.getPrototypeOf(o) as Target | null) {
      const m = store.get(o);
      if (m?.has(k)) return m.get(k);
    }
    return undefined;
  };
  R.defineMetadata = define;
  R.getMetadata = get;
  R.getOwnMetadata = (k: unknown, t: Target) => store.get(t)?.get(k);
  R.hasMetadata = (k: unknown, t: Target) => get(k, t) !== undefined;
  R.metadata = (k: unknown, v: unknown) => (t: Target) => define(k, v, t);
}
export {};
