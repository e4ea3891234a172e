import type { StoreError } from '../core/errors.js'
import type { Clock, TimerHandle } from '../scheduling/clock.js'

/** Someone waiting for the next snapshot write: a `set()` or `delete()` of `resource`. */
export interface Waiter {
  readonly resource: string
  readonly resolve: () => void
  readonly reject: (error: StoreError) => void
}

/**
 * Turns changes into few writes: a change waits `delay` (on the store's clock), and every change
 * made meanwhile joins the same write; a change made while a write runs joins the next one. The
 * write itself is the store's: it gets the batch and settles each waiter.
 *
 * The clock's timers do not keep the process alive; while a change waits for its write, the batcher
 * does (the delay is at most an hour, 100 ms by default), so an exiting process saves its last values.
 */
export class WriteBatcher {
  readonly #delay: number
  readonly #clock: () => Clock
  readonly #write: (batch: Waiter[]) => Promise<unknown>
  #waiting: Waiter[] = []
  /** Waiters set aside by the store until it may write (see {@link park}). */
  #parked: Waiter[] = []
  #timer: { readonly clock: Clock; readonly handle: TimerHandle } | undefined
  /** The write in progress; resolves (never rejects) with its failure, if any. */
  #writing: Promise<unknown> | undefined
  #paused = false
  #alive: ReturnType<typeof setInterval> | undefined

  constructor(delay: number, clock: () => Clock, write: (batch: Waiter[]) => Promise<unknown>) {
    this.#delay = delay
    this.#clock = clock
    this.#write = write
  }

  /** Resolves once a snapshot holding the current entries is durably written. */
  request(resource: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#waiting.push({ resource, resolve, reject })
      this.#arm()
    })
  }

  /** Keeps `batch` until {@link unpark}: the store cannot write yet (it waits for the file's lock). */
  park(batch: Waiter[]): void {
    this.#parked.push(...batch)
    this.#keepAlive()
  }

  /** The parked waiters join the next write. */
  unpark(): void {
    if (this.#parked.length === 0) return
    this.#waiting.push(...this.#parked.splice(0))
    this.#arm()
  }

  /** Settles every parked waiter with `error`. */
  rejectParked(error: (resource: string) => StoreError): void {
    for (const waiter of this.#parked.splice(0)) waiter.reject(error(waiter.resource))
    this.#keepAlive()
  }

  /** No timer is armed until {@link resume} (the store is closing: it drains instead). */
  pause(): void {
    this.#paused = true
    this.#disarm()
  }

  resume(): void {
    this.#paused = false
    if (this.#waiting.length > 0) this.#arm()
  }

  /** Writes until nothing waits; resolves with the failure of the last write, if any. */
  async drain(): Promise<unknown> {
    this.#disarm()
    let failure: unknown
    while (this.#writing !== undefined || this.#waiting.length > 0) {
      failure = await (this.#writing ?? this.#run())
    }
    return failure
  }

  /** Writes once now, even with nobody waiting; resolves with its failure, if any. */
  writeNow(): Promise<unknown> {
    return this.#writing ?? this.#run()
  }

  #arm(): void {
    this.#keepAlive()
    if (this.#timer !== undefined || this.#writing !== undefined || this.#paused) return
    const clock = this.#clock()
    const handle = clock.setTimeout(() => {
      this.#timer = undefined
      void this.#run()
    }, this.#delay)
    this.#timer = { clock, handle }
  }

  #disarm(): void {
    if (this.#timer === undefined) return
    this.#timer.clock.clearTimeout(this.#timer.handle)
    this.#timer = undefined
  }

  #run(): Promise<unknown> {
    const batch = this.#waiting
    this.#waiting = []
    const writing = this.#write(batch).then((failure) => {
      this.#writing = undefined
      if (this.#waiting.length > 0) this.#arm()
      else this.#keepAlive()
      return failure
    })
    this.#writing = writing
    this.#keepAlive()
    return writing
  }

  /** Holds the process open while a change waits for its write, and only then. */
  #keepAlive(): void {
    const busy = this.#waiting.length > 0 || this.#parked.length > 0 || this.#writing !== undefined
    if (busy && this.#alive === undefined) this.#alive = setInterval(() => {}, 2 ** 30)
    else if (!busy && this.#alive !== undefined) {
      clearInterval(this.#alive)
      this.#alive = undefined
    }
  }
}
