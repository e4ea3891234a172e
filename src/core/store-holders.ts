import type { Store } from '../stores/store.js'

/**
 * Which started registries hold each store open. A store given to several registries is closed
 * when the last of them stops, not by the first: the others go on saving to it. Process-wide, and
 * weak, so a store dropped by everyone is not kept.
 */
const holders = new WeakMap<Store, Set<object>>()
/** Stores closed by the stop of their last holder, until a holder starts again. */
const closed = new WeakSet<Store>()

/** `registry` runs on `store`; reopens the store if the stop of its last holder closed it. */
export function holdStore(store: Store, registry: object): void {
  let held = holders.get(store)
  if (held === undefined) holders.set(store, (held = new Set()))
  held.add(registry)
  if (closed.delete(store)) store.reopen?.()
}

/** `registry` stopped. Returns whether the store is to be closed now: no started registry holds it. */
export function releaseStore(store: Store, registry: object): boolean {
  const held = holders.get(store)
  held?.delete(registry)
  if ((held?.size ?? 0) > 0 || closed.has(store)) return false
  closed.add(store)
  return true
}
