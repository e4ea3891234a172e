import { LRUCache } from 'lru-cache'

/**
 * The honest rival: lru-cache set up for stale-while-revalidate. `fetch()` serves a value younger
 * than `ttl` from memory; an older one is served stale while a background fetch replaces it
 * (`allowStale`); a failed or timed-out fetch keeps serving the stale value
 * (`allowStaleOnFetchRejection`, `allowStaleOnFetchAbort`). Refreshes happen only when read, and
 * every read is a promise. The fetch is given the same timeout as evergreen's loads.
 */
export class LruRival {
  readonly #cache: LRUCache<string, object>

  constructor(load: (key: string, signal: AbortSignal) => Promise<unknown>, ttl: number, timeout: number) {
    this.#cache = new LRUCache<string, object>({
      max: 100,
      ttl,
      allowStale: true,
      allowStaleOnFetchRejection: true,
      allowStaleOnFetchAbort: true,
      fetchMethod: async (key, _stale, { signal }) => {
        const controller = new AbortController()
        const onAbort = () => controller.abort(signal.reason)
        signal.addEventListener('abort', onAbort, { once: true })
        const timer = setTimeout(
          () => controller.abort(new Error(`load of "${key}" timed out after ${timeout} ms`)),
          timeout,
        )
        try {
          return { value: await load(key, controller.signal) }
        } finally {
          clearTimeout(timer)
          signal.removeEventListener('abort', onAbort)
        }
      },
    })
  }

  /** A read: the promise `fetch()` returns. */
  fetch(key: string): Promise<unknown> {
    return this.#cache.fetch(key)
  }

  /** Whether a read of `key` is answered from memory (fresh or stale), not by waiting on the backend. */
  hasValue(key: string): boolean {
    return this.#cache.peek(key, { allowStale: true }) !== undefined
  }
}
