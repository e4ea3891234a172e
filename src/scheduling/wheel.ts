/** An entry the {@link TimingWheel} can hold. The wheel reads and writes `slot`, reads `seq`. */
export interface WheelEntry {
  /** Changes each time the entry is scheduled, so a record of an earlier placement is known stale. */
  seq: number
  /** {@link IN_WHEEL} while the entry is in the wheel. */
  slot: number
}

/** The `slot` of an entry waiting in a {@link TimingWheel}. */
export const IN_WHEEL = -2

/** Milliseconds the wheel reaches ahead of its cursor: one bucket each. A power of two. */
const WHEEL_SPAN = 4096
const MASK = WHEEL_SPAN - 1

/**
 * Entries due within the next few seconds, in buckets of one millisecond: adding and taking are
 * O(1), and a burst of entries due together is read from adjacent memory. Made for the common case
 * of a registry at scale, where every refresh is due less than a few seconds ahead, in an order
 * that jitter makes random: a heap pays a cache miss at every level for that, a bucket pays none.
 *
 * Entries in one bucket are taken in the order they were added. Removing is lazy: the bucket keeps
 * a record of the entry and its `seq`, and a record whose entry has moved on is skipped. Time is
 * absolute milliseconds; the cursor is the bucket taken from next, and only moves forward.
 */
export class TimingWheel<E extends WheelEntry> {
  #size = 0
  /** Absolute ms of the bucket taken from next; every bucket before it is empty. */
  #cursor: number
  /** Records of the cursor's bucket already taken. */
  #read = 0
  readonly #entries: E[][] = []
  readonly #seqs: number[][] = []
  readonly #fill = new Int32Array(WHEEL_SPAN)

  constructor(now: number) {
    this.#cursor = Math.floor(now)
    for (let i = 0; i < WHEEL_SPAN; i++) {
      this.#entries.push([])
      this.#seqs.push([])
    }
  }

  /** Live entries. */
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
    if (to <= this.#cursor) return
    // Every record left is stale; drop them so the buckets can be reused from the new cursor.
    this.#drop()
    this.#cursor = to
  }

  /** Adds `entry`, due at `at`, which {@link covers} must allow. An `at` already past goes in the cursor's bucket. */
  add(entry: E, at: number): void {
    const t = Math.max(Math.floor(at), this.#cursor)
    const b = t & MASK
    const n = this.#fill[b]!
    this.#entries[b]![n] = entry
    this.#seqs[b]![n] = entry.seq
    this.#fill[b] = n + 1
    entry.slot = IN_WHEEL
    this.#size++
  }

  /** Removes `entry`; its record stays in its bucket, stale, until the cursor passes it. */
  remove(entry: E): void {
    if (entry.slot !== IN_WHEEL) return
    entry.slot = -1
    this.#size--
  }

  /**
   * The first live entry whose bucket is at or before `now`, if its `seq` is below `barrier`; it
   * stays in the wheel until {@link take}n. Stale records and empty buckets up to `now` are dropped
   * on the way. Returns the entry's bucket time, or `Infinity` when there is none.
   */
  due(now: number, barrier: number): number {
    if (this.#size === 0) return Number.POSITIVE_INFINITY
    const last = Math.floor(now)
    // After a long stall every live entry is due: one lap of the buckets is enough to find them.
    let lap = WHEEL_SPAN + 1
    while (this.#cursor <= last && lap-- > 0) {
      const b = this.#cursor & MASK
      const entries = this.#entries[b]!
      const seqs = this.#seqs[b]!
      const fill = this.#fill[b]!
      while (this.#read < fill) {
        const entry = entries[this.#read]!
        const seq = seqs[this.#read]!
        if (entry.slot === IN_WHEEL && entry.seq === seq) {
          return seq < barrier ? this.#cursor : Number.POSITIVE_INFINITY
        }
        entries[this.#read++] = undefined as unknown as E
      }
      this.#fill[b] = 0
      this.#read = 0
      this.#cursor++
    }
    if (this.#cursor <= last) this.#cursor = last
    return Number.POSITIVE_INFINITY
  }

  /** Takes the entry {@link due} found: it leaves the wheel. */
  take(): E {
    const b = this.#cursor & MASK
    const entries = this.#entries[b]!
    const entry = entries[this.#read]!
    entries[this.#read++] = undefined as unknown as E
    entry.slot = -1
    this.#size--
    return entry
  }

  /** The bucket time of the earliest live entry, or `Infinity`. Reads only; drops nothing. */
  next(): number {
    if (this.#size === 0) return Number.POSITIVE_INFINITY
    let read = this.#read
    for (let t = this.#cursor; t < this.#cursor + WHEEL_SPAN; t++) {
      const b = t & MASK
      const entries = this.#entries[b]!
      const seqs = this.#seqs[b]!
      const fill = this.#fill[b]!
      for (; read < fill; read++) {
        const entry = entries[read]!
        if (entry.slot === IN_WHEEL && entry.seq === seqs[read]) return t
      }
      read = 0
    }
    return Number.POSITIVE_INFINITY
  }

  /** Removes every entry. */
  clear(): void {
    this.#drop()
    this.#size = 0
  }

  /** Empties every bucket, unmarking the entries still live. */
  #drop(): void {
    for (let b = 0; b < WHEEL_SPAN; b++) {
      const fill = this.#fill[b]!
      if (fill === 0) continue
      const entries = this.#entries[b]!
      const seqs = this.#seqs[b]!
      for (let i = 0; i < fill; i++) {
        const entry = entries[i]
        if (entry !== undefined && entry.slot === IN_WHEEL && entry.seq === seqs[i]) entry.slot = -1
        entries[i] = undefined as unknown as E
      }
      this.#fill[b] = 0
    }
    this.#read = 0
  }
}
