/**
 * Read latencies in microseconds, kept in buckets 2% wide: constant memory however long the demo
 * runs, and quantiles within 2% of the truth. The maximum is kept exactly.
 */
export class Histogram {
  /** Smallest value told apart from zero (10 ns). */
  static readonly #floor = 0.01
  static readonly #growth = Math.log(1.02)
  readonly #buckets = new Float64Array(1_400) // 0.01 µs × 1.02^1400: up to about 3 hours
  count = 0
  max = 0

  record(micros: number): void {
    const i =
      micros <= Histogram.#floor
        ? 0
        : Math.min(
            this.#buckets.length - 1,
            Math.ceil(Math.log(micros / Histogram.#floor) / Histogram.#growth),
          )
    this.#buckets[i] = (this.#buckets[i] ?? 0) + 1
    this.count++
    if (micros > this.max) this.max = micros
  }

  /** The value below which a fraction `q` of the recorded values fall, or `undefined` if none. */
  quantile(q: number): number | undefined {
    if (this.count === 0) return undefined
    const rank = Math.ceil(q * this.count)
    let seen = 0
    for (let i = 0; i < this.#buckets.length; i++) {
      seen += this.#buckets[i] ?? 0
      if (seen >= rank) return Math.min(this.max, Histogram.#floor * Math.exp(i * Histogram.#growth))
    }
    return this.max
  }

  reset(): void {
    this.#buckets.fill(0)
    this.count = 0
    this.max = 0
  }
}
