import type { Load } from './load.js'
import type { LoadTable } from './load-table.js'

/**
 * Reports a load's outcome to its resource when the loader's promise settles, and returns the
 * promise that follows it (it never rejects). The two callbacks a promise needs come from a pool of
 * watchers, each made once, rather than two closures and their context per load: at scale that is
 * most of what the library allocates per load, and every byte of it alive while the load runs is
 * copied by each young-generation collection. A watcher names its load by its index in the
 * registry's {@link LoadTable}, not by a pointer: pooled watchers are old and lie all over the heap,
 * and a pointer from each to a young load made every young-generation collection longer (see
 * `LoadTable`). An outcome that comes after its load was detached (timed out, aborted) finds the
 * index freed or reused, and is discarded, as the resource would discard it.
 */
export function settle<T>(
  loads: LoadTable<Load<T>>,
  index: number,
  result: T | PromiseLike<T>,
): Promise<void> {
  const watcher = idle.pop() ?? new Watcher()
  watcher.loads = loads as LoadTable<Load<unknown>>
  watcher.index = index
  watcher.ticket = loads.ticket(index)
  return Promise.resolve(result).then(watcher.onValue, watcher.onError)
}

/** Enough for the loads in flight of a registry of 100,000 resources refreshed every second; watchers beyond it are left to the collector. */
const POOL_SIZE = 8192
const idle: Watcher[] = []

class Watcher {
  loads: LoadTable<Load<unknown>> | undefined = undefined
  index = -1
  ticket = 0
  readonly onValue: (value: unknown) => void
  readonly onError: (error: unknown) => void

  constructor() {
    // Assigned here, not as arrow fields or bound functions: some transpilers (esbuild's keepNames,
    // which tsx uses) name such functions at run time, giving each its own property storage.
    this.onValue = (value) => {
      const load = release(this)
      if (load !== undefined) load.owner.succeeded(load, value)
    }
    this.onError = (error) => {
      const load = release(this)
      if (load !== undefined) load.owner.failed(load, error)
    }
  }
}

// A watcher is reused only once its promise has settled: until then, that promise may still call it.
function release(watcher: Watcher): Load<unknown> | undefined {
  const load = (watcher.loads as LoadTable<Load<unknown>>).at(watcher.index, watcher.ticket)
  watcher.loads = undefined
  if (idle.length < POOL_SIZE) idle.push(watcher)
  return load
}
