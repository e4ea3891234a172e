import type { Clock } from './clock.js'

/**
 * The registry's reading of time. Everything inside the process (delays, deadlines, ages, the time a
 * value was loaded) is on the monotonic timeline of {@link Clock.monotonic}; wall time enters and
 * leaves only at the edges, mapped through the current offset between the two readings. A wall-clock
 * step then moves no deadline and changes no age; it moves only the wall times shown or saved after it.
 * A clock without a monotonic reading uses `now()` for both, and the offset is zero.
 */
export class Timeline {
  readonly clock: Clock
  /** Monotonic milliseconds. */
  readonly now: () => number
  readonly #mapped: boolean

  constructor(clock: Clock) {
    this.clock = clock
    this.#mapped = typeof clock.monotonic === 'function'
    this.now = this.#mapped ? () => (clock.monotonic as () => number)() : () => clock.now()
  }

  /** The wall time (ms since the epoch) of the monotonic time `at`. */
  toWall(at: number): number {
    return this.#mapped ? at + (this.clock.now() - this.now()) : at
  }

  /** The monotonic time of the wall time `wall` (say, a `loadedAt` read back from a store). */
  fromWall(wall: number): number {
    return this.#mapped ? wall - (this.clock.now() - this.now()) : wall
  }

  /** A number uniform in [0, 1), from the clock's `random()` or `Math.random`. */
  random(): number {
    const random = this.clock.random
    return typeof random === 'function' ? random.call(this.clock) : Math.random()
  }
}

/** The monotonic reading of `clock`: its `monotonic()`, or its `now()` when it has none. */
export function monotonicOf(clock: Clock): () => number {
  return typeof clock.monotonic === 'function' ? () => (clock.monotonic as () => number)() : () => clock.now()
}
