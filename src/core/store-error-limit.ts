/** Store errors are reported at most once per this interval per resource and operation. */
const STORE_ERROR_INTERVAL_MS = 10_000

/** Most (resource, operation) pairs remembered: keys are few, but a store's own messages vary. */
const MAX_KEYS = 10_000

/**
 * Which store errors a registry reports: at most one per 10 s per resource and operation, so a store
 * that is down does not flood `onError` and one failure does not hide another (a failed read, a
 * failed write). The operation `'close'` is never limited: a failed final flush is always reported.
 */
export class StoreErrorLimit {
  readonly #lastAt = new Map<string, number>()

  /** Whether an error of `resource` and `operation` at monotonic `now` is to be dropped. */
  limited(resource: string | undefined, operation: string, now: number): boolean {
    if (operation === 'close') return false
    const key = `${resource ?? ''}\u0000${operation}`
    const last = this.#lastAt.get(key)
    if (last !== undefined && now - last < STORE_ERROR_INTERVAL_MS) return true
    if (this.#lastAt.size >= MAX_KEYS) this.#lastAt.clear()
    this.#lastAt.set(key, now)
    return false
  }
}
