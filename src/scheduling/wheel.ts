/**
 * An entry the {@link TimingWheel} can hold. The wheel links the entries of a bucket through the
 * entries themselves, and marks in `slot` which bucket an entry is in.
 */
export interface WheelEntry {
  /** Changes each time the entry is scheduled: orders entries scheduled during a pass after it. */
  seq: number
  /** Negative while the entry is in no heap; {@link inWheel} while it waits in a wheel. */
  slot: number
  wheelPrev: WheelEntry | undefined
  wheelNext: WheelEntry | undefined
}

/** Whether an entry's `slot` says it waits in a {@link TimingWheel}: -2 for bucket 0, -3 for bucket 1, and so on. */
export function inWheel(slot: number): boolean {
  return slot <= -2
}

/** Milliseconds the wheel reaches ahead of its cursor: one bucket each. A power of two. */
const WHEEL_SPAN = 4096
const MASK = WHEEL_SPAN - 1

/**
 * Entries due within the next few seconds, in buckets of one millisecond: adding, removing and
 * taking are O(1). Made for the common case of a registry at scale, where every refresh is due
 * less than a few seconds ahead, in an order that jitter makes random: a heap pays a cache miss at
 * every level for that, a bucket pays none.
 *
 * Each bucket is a list linked through its entries, in the order they were added, so the wheel
 * allocates nothing and holds no memory beyond its two arrays of bucket ends, whatever the number
 * of entries and however they are spread: arrays of records per bucket would keep, for every one of
 * the buckets, room for the most entries it ever held. Time is absolute milliseconds; the cursor is
 * the bucket taken from next, and only moves forward.
 */
export class TimingWheel<E extends WheelEntry> {
  #size = 0
  /** Absolute ms of the bucket taken from next; every bucket before it is empty. */
  #cursor: number
  readonly #heads: (E | undefined)[] = new Array(WHEEL_SPAN).fill(undefined)
  readonly #tails: (E | undefined)[] = new Array(WHEEL_SPAN).fill(undefined)

  constructor(now: number) {
    this.#cursor = Math.floor(now)
  }

  /** Entries waiting. */
  get size(): number {
    return this.#size
  }

  /** Whether an entry due at `at` can go in the wheel (it is less than {@link WHEEL_SPAN} ms ahead). */
  covers(at: number): boolean {
    return at < this.#cursor + WHEEL_SPAN
  }

  /** Moves an empty wheel's cursor up to `now`, so it reaches a full span ahead again. */
  rebase(now: number): void {
    if (this.#size !== 0) return
    const to = Math.floor(now)
    if (to > this.#cursor) this.#cursor = to
  }

  /** Adds `entry`, due at `at`, which {@link covers} must allow. An `at` already past goes in the cursor's bucket. */
  add(entry: E, at: number): void {
    const b = Math.max(Math.floor(at), this.#cursor) & MASK
    const tail = this.#tails[b]
    entry.wheelPrev = tail
    entry.wheelNext = undefined
    if (tail === undefined) this.#heads[b] = entry
    else tail.wheelNext = entry
    this.#tails[b] = entry
    entry.slot = -2 - b
    this.#size++
  }

  /** Removes `entry`; does nothing if it is not in the wheel. */
  remove(entry: E): void {
    const slot = entry.slot
    if (!inWheel(slot)) return
    const b = -2 - slot
    const prev = entry.wheelPrev as E | undefined
    const next = entry.wheelNext as E | undefined
    if (prev === undefined) this.#heads[b] = next
    else prev.wheelNext = next
    if (next === undefined) this.#tails[b] = prev
    else next.wheelPrev = prev
    entry.wheelPrev = undefined
    entry.wheelNext = undefined
    entry.slot = -1
    this.#size--
  }

  /**
   * The time of the first bucket at or before `now` that holds an entry, if that bucket's first
   * entry was scheduled before `barrier` (its `seq` is lower); the entry stays in the wheel until
   * {@link take}n. Returns `Infinity` when there is none. Moves the cursor over empty buckets.
   */
  due(now: number, barrier: number): number {
    if (this.#size === 0) return Number.POSITIVE_INFINITY
    const last = Math.floor(now)
    // After a long stall every entry is due: one lap of the buckets is enough to find the first.
    let lap = WHEEL_SPAN
    while (this.#cursor <= last && lap-- > 0) {
      const head = this.#heads[this.#cursor & MASK]
      if (head !== undefined) return head.seq < barrier ? this.#cursor : Number.POSITIVE_INFINITY
      this.#cursor++
    }
    return Number.POSITIVE_INFINITY
  }

  /** Takes the entry {@link due} found: it leaves the wheel. */
  take(): E {
    const entry = this.#heads[this.#cursor & MASK] as E
    this.remove(entry)
    return entry
  }

  /** The bucket time of the earliest entry, or `Infinity`. */
  next(): number {
    if (this.#size === 0) return Number.POSITIVE_INFINITY
    for (let t = this.#cursor; t < this.#cursor + WHEEL_SPAN; t++) {
      if (this.#heads[t & MASK] !== undefined) return t
    }
    return Number.POSITIVE_INFINITY
  }

  /** Removes every entry. */
  clear(): void {
    for (let b = 0; b < WHEEL_SPAN; b++) {
      for (let entry = this.#heads[b]; entry !== undefined; ) {
        const next = entry.wheelNext as E | undefined
        entry.wheelPrev = undefined
        entry.wheelNext = undefined
        entry.slot = -1
        entry = next
      }
      this.#heads[b] = undefined
      this.#tails[b] = undefined
    }
    this.#size = 0
  }
}
