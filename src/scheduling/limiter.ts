/** A job waiting for a slot. `cancelled` jobs are skipped when their turn comes. */
export interface LimiterJob {
  readonly cancelled: boolean
  begin(): void
}

/**
 * Caps the number of loads in flight across a registry. Jobs beyond the cap wait in FIFO order;
 * a slot is freed by `release()`, which a load calls exactly once when it settles or times out.
 */
export class Limiter {
  #active = 0
  #queue: (LimiterJob | undefined)[] = []
  #head = 0

  constructor(readonly limit: number) {}

  /** Begins `job` now if a slot is free, otherwise queues it. */
  run(job: LimiterJob): void {
    if (this.#active < this.limit) {
      this.#active++
      job.begin()
    } else {
      this.#queue.push(job)
    }
  }

  release(): void {
    this.#active--
    while (this.#active < this.limit && this.#head < this.#queue.length) {
      const job = this.#queue[this.#head]
      this.#queue[this.#head++] = undefined
      if (job === undefined || job.cancelled) continue
      this.#active++
      job.begin()
    }
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head)
      this.#head = 0
    }
  }

  /** Forgets every queued job (they are expected to have been cancelled). */
  clear(): void {
    this.#queue = []
    this.#head = 0
  }
}
