/** How the simulated backend misbehaves. */
export interface BackendBehaviour {
  /** Shortest and longest answer time, in ms; each call picks one at random in between. */
  readonly latency: readonly [min: number, max: number]
  /** Fraction of calls that fail after their latency. */
  readonly failureRate: number
  /** Fraction of calls that never answer: they end only when the caller aborts them. */
  readonly hangRate: number
}

export const DEFAULT_BEHAVIOUR: BackendBehaviour = { latency: [50, 300], failureRate: 0.2, hangRate: 0.02 }

/** Raised by a failed backend call. */
export class BackendError extends Error {
  override name = 'BackendError'
}

/**
 * A slow, flaky service standing in for a real one (an exchange-rate API, a flag service, the
 * Kubernetes API). Each resource's value is produced by `sources[name]` at the time of the call.
 * Counts its calls, so the two caches can be compared on how much they ask of it.
 */
export class SimulatedBackend {
  calls = 0
  readonly #sources: Readonly<Record<string, () => unknown>>
  readonly #behaviour: BackendBehaviour

  constructor(
    sources: Readonly<Record<string, () => unknown>>,
    behaviour: BackendBehaviour = DEFAULT_BEHAVIOUR,
  ) {
    this.#sources = sources
    this.#behaviour = behaviour
  }

  /** Answers with the current value of `name` after a while; or fails; or hangs until `signal` aborts. */
  fetch(name: string, signal: AbortSignal): Promise<unknown> {
    this.calls++
    const source = this.#sources[name]
    if (source === undefined) return Promise.reject(new BackendError(`404: no such resource "${name}"`))
    const { latency, failureRate, hangRate } = this.#behaviour
    const roll = Math.random()
    const hangs = roll < hangRate
    const fails = !hangs && roll < hangRate + failureRate
    const delay = latency[0] + Math.random() * (latency[1] - latency[0])
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        clearTimeout(timer)
        reject(signal.reason)
      }
      const timer = hangs
        ? undefined
        : setTimeout(() => {
            signal.removeEventListener('abort', onAbort)
            if (fails) reject(new BackendError('503: service unavailable'))
            else resolve(source())
          }, delay)
      if (signal.aborted) onAbort()
      else signal.addEventListener('abort', onAbort, { once: true })
    })
  }
}
