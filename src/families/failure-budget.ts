/**
 * A family's budget of loads of failing keys: a token bucket of `rate` tokens a second, holding at
 * most `rate`. When a backend is down, every failing key's retry draws from it, so the family as a
 * whole sends at most `rate` loads a second to it, however many keys fail.
 */
export class FailureBudget {
  #tokens: number
  #at = Number.NEGATIVE_INFINITY

  constructor(readonly rate: number) {
    this.#tokens = rate
  }

  /** Takes a token at `now` (ms) if one is left. */
  spend(now: number): boolean {
    const rate = this.rate
    this.#tokens = Math.min(rate, this.#tokens + ((now - this.#at) / 1000) * rate)
    this.#at = now
    if (this.#tokens < 1) return false
    this.#tokens--
    return true
  }
}
