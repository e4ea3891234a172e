import { callAsync } from '../core/async.js'
import type { Store, StoreEntry } from './store.js'

/**
 * Stacks stores: typically Redis over a file snapshot, so a replica that boots while Redis is
 * unreachable still starts warm. Reads ask every layer and take the newest version; writes go to
 * every layer (a failing lower layer is reported, not fatal). Fleet coordination, if any, is the
 * first layer's, and so is a write's outcome in fleet mode: the first layer is the fleet's fence.
 * Without a fleet, a write counts as written only when every layer that answered took it: a layer
 * holding a newer version then makes the registry learn that version and save above it, so no layer
 * is left behind with an old value.
 *
 * A read that finds a layer behind the newest (an older version, or none) writes the newest entry to
 * it in the background: in fleet mode the registry reads the shared entry it takes from another
 * replica, so the snapshot below follows the fleet's values, not only this replica's own loads. The
 * first layer of a fleet is left to the fleet (its writes go through leases).
 */
export function layeredStore(first: Store, ...rest: Store[]): Store {
  const layers = [first, ...rest]
  /** `op` on `layer`, a synchronous throw turned into a rejection. */
  const call = <T>(layer: Store, op: (s: Store) => Promise<T>): Promise<T> => callAsync(() => op(layer))
  const settle = <T>(op: (s: Store) => Promise<T>, on: Store[] = layers) =>
    Promise.allSettled(on.map((layer) => call(layer, op)))
  let report: ((error: unknown, resource?: string) => void) | undefined
  // Not awaited by close(): each layer's own close() deals with the writes it was given (the file
  // store flushes them), and a layer that never answers must not hold up a registry's stop().
  const repair = (
    name: string,
    newest: StoreEntry,
    results: PromiseSettledResult<StoreEntry | undefined>[],
  ) => {
    for (const [i, result] of results.entries()) {
      if (result.status === 'rejected' || (i === 0 && first.fleet !== undefined)) continue
      if (result.value !== undefined && result.value.version >= newest.version) continue
      call(layers[i]!, (s) => s.set(name, newest)).then(undefined, (error: unknown) => report?.(error, name))
    }
  }
  /** Reports the lower layers' failed writes; whether one of them refused the entry. */
  const belowRefused = (name: string, below: PromiseSettledResult<boolean>[]) => {
    let refused = false
    for (const result of below) {
      if (result.status === 'rejected') report?.(result.reason, name)
      else if (!result.value) refused = true
    }
    return refused
  }
  const writeBelow = async (name: string, entry: StoreEntry) => {
    belowRefused(name, await settle((s) => s.set(name, entry), rest))
  }
  // The first layer fences the fleet. A value it refuses (the fleet shares one of that version or
  // newer) goes to no other layer, so no snapshot keeps a value the fleet did not; one it cannot take
  // (the store is down) still goes to the others, for a warm restart.
  const setInFleet = async (name: string, entry: StoreEntry): Promise<boolean> => {
    let written: boolean
    try {
      written = await first.set(name, entry)
    } catch (error) {
      await writeBelow(name, entry)
      throw error
    }
    if (written) await writeBelow(name, entry)
    return written
  }
  const store: Store = {
    ...(first.fleet === undefined ? {} : { fleet: first.fleet }),
    // The first layer's: the fleet's, and the one whose values every replica reads.
    ...(first.codec === undefined ? {} : { codec: first.codec }),
    attach(context) {
      report = (error, resource) => context.reportError(error, resource)
      for (const layer of layers) layer.attach?.(context)
    },
    async get(name) {
      const results = await settle((s) => s.get(name))
      let newest: StoreEntry | undefined
      let answered = false
      for (const result of results) {
        if (result.status === 'rejected') continue
        answered = true
        if (result.value !== undefined && (newest === undefined || result.value.version > newest.version)) {
          newest = result.value
        }
      }
      if (!answered) throw (results[0] as PromiseRejectedResult).reason
      if (newest !== undefined) repair(name, newest, results)
      return newest
    },
    async set(name, entry) {
      if (first.fleet !== undefined) return setInFleet(name, entry)
      const [top, ...below] = await settle((s) => s.set(name, entry))
      const refused = belowRefused(name, below)
      if (top!.status === 'rejected') throw top!.reason
      return top!.value && !refused
    },
    async delete(name) {
      const results = await settle((s) => s.delete(name))
      const failed = results.find((r) => r.status === 'rejected')
      if (failed !== undefined) throw failed.reason
    },
    async list() {
      const results = await settle((s) => s.list())
      const names = new Set<string>()
      for (const result of results)
        if (result.status === 'fulfilled') for (const n of result.value) names.add(n)
      if (results.every((r) => r.status === 'rejected')) throw (results[0] as PromiseRejectedResult).reason
      return [...names]
    },
    async close() {
      const results = await settle((s) => s.close())
      const failed = results.find((r) => r.status === 'rejected')
      if (failed !== undefined) throw failed.reason
    },
    reopen() {
      for (const layer of layers) layer.reopen?.()
    },
  }
  return store
}
