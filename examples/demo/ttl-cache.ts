/**
 * The usual alternative, for comparison: a plain TTL cache. A value is served while younger than
 * `ttl`; the first read after that waits for a fresh load (reads arriving meanwhile share it). A
 * failed or timed-out load fails every read that waited for it, and nothing is kept past its TTL.
 *
 * It is given the same timeout as evergreen, so a hanging backend fails reads instead of blocking
 * them forever. A fresh value is returned synchronously, so reads that hit are as cheap as can be.
 */
export class TtlCache {
  readonly #load: (key: string, signal: AbortSignal) => Promise<unknown>
  readonly #ttl: number
  readonly #timeout: number
  readonly #entries = new Map<string, { value: unknown; expires: number }>()
  readonly #inflight = new Map<string, Promise<unknown>>()

  constructor(load: (key: string, signal: AbortSignal) => Promise<unknown>, ttl: number, timeout: number) {
    this.#load = load
    this.#ttl = ttl
    this.#timeout = timeout
  }

  /** The cached value if fresh (never a promise), otherwise a promise of a freshly loaded one. */
  get(key: string): unknown {
    const entry = this.#entries.get(key)
    if (entry !== undefined && entry.expires > Date.now()) return entry.value
    return this.#inflight.get(key) ?? this.#start(key)
  }

  /** Resolves once the loads in flight have settled (each within the timeout). */
  async idle(): Promise<void> {
    await Promise.allSettled(this.#inflight.values())
  }

  #start(key: string): Promise<unknown> {
    const controller = new AbortController()
    const timer = setTimeout(
      () => controller.abort(new Error(`load of "${key}" timed out after ${this.#timeout} ms`)),
      this.#timeout,
    )
    const promise = this.#load(key, controller.signal).then(
      (value) => {
        this.#entries.set(key, { value, expires: Date.now() + this.#ttl })
        return value
      },
      (error: unknown) => {
        this.#entries.delete(key)
        throw error
      },
    )
    this.#inflight.set(key, promise)
    // Handled here too, so that a load whose readers all went away is not an unhandled rejection.
    promise
      .finally(() => {
        clearTimeout(timer)
        this.#inflight.delete(key)
      })
      .catch(() => {})
    return promise
  }
}
