/** The first capacity of a table, in slots. */
const INITIAL_CAPACITY = 16
/** Marks the end of the free list. */
const END = -1

/**
 * The per-key storage of a family: key strings mapped to dense slot indices, with each key's
 * fields in typed arrays indexed by slot and its value in one array. No object is made per key
 * (beyond the `Map` entry), so a million keys cost a few dozen bytes each rather than a few
 * hundred. A removed key's slot is reused (the free list is threaded through the `version`
 * array of free slots, so it costs nothing). The arrays grow by doubling, up to `maxCapacity`.
 *
 * Per slot: `Map` entry, key and value references (16 B), four `Float64Array` fields (32 B),
 * failures and phase (`Uint8Array`s, 1 B each).
 *
 * Slots are plain numbers: a slot read after its key was removed (or reused) reads whatever is
 * there now. Callers hold a slot only within one synchronous step, or check `keyAt(slot)`.
 */
export class KeyTable<V> {
  readonly #index = new Map<string, number>()
  readonly #maxCapacity: number
  #keys: (string | undefined)[]
  #values: (V | undefined)[]
  #version: Float64Array
  #updatedAt: Float64Array
  #lastReadAt: Float64Array
  #nextDueAt: Float64Array
  #failures: Uint8Array
  #phase: Uint8Array
  /** The first free slot, or END; each free slot's `version` holds the next. */
  #freeHead = END
  /** Slots below this were handed out at least once; those at or above it were never used. */
  #used = 0

  /** `maxCapacity`: the most slots the table may ever hold (a family's `maxKeys` plus one). */
  constructor(maxCapacity: number) {
    this.#maxCapacity = maxCapacity
    const capacity = Math.min(INITIAL_CAPACITY, maxCapacity)
    this.#keys = new Array<string | undefined>(capacity).fill(undefined)
    this.#values = new Array<V | undefined>(capacity).fill(undefined)
    this.#version = new Float64Array(capacity)
    this.#updatedAt = new Float64Array(capacity)
    this.#lastReadAt = new Float64Array(capacity)
    this.#nextDueAt = new Float64Array(capacity)
    this.#failures = new Uint8Array(capacity)
    this.#phase = new Uint8Array(capacity)
  }

  /** Keys held. */
  get size(): number {
    return this.#index.size
  }

  /** Slots the arrays have room for now. */
  get capacity(): number {
    return this.#keys.length
  }

  /** Bytes of the typed arrays and the two reference arrays (the `Map` is not counted). */
  get arrayBytes(): number {
    return this.capacity * (8 + 8 + 32 + 1 + 1)
  }

  /** The slot of `key`, or -1 when it is not held. */
  slotOf(key: string): number {
    return this.#index.get(key) ?? END
  }

  /** Whether `slot` holds a key now. */
  isUsed(slot: number): boolean {
    return this.#keys[slot] !== undefined
  }

  /** The key in `slot` (undefined when the slot is free). */
  keyAt(slot: number): string | undefined {
    return this.#keys[slot]
  }

  /** The value in `slot`. */
  valueAt(slot: number): V | undefined {
    return this.#values[slot]
  }

  setValue(slot: number, value: V | undefined): void {
    this.#values[slot] = value
  }

  /**
   * Takes a slot for `key` (which must not be held: see `slotOf`) with `value`, every field zero.
   * Throws a `RangeError` when the table already holds `maxCapacity` keys.
   */
  insert(key: string, value: V | undefined): number {
    let slot = this.#freeHead
    if (slot !== END) {
      this.#freeHead = this.#version[slot]!
    } else {
      if (this.#used === this.#keys.length) this.#grow()
      slot = this.#used++
    }
    this.#index.set(key, slot)
    this.#keys[slot] = key
    this.#values[slot] = value
    this.#version[slot] = 0
    this.#updatedAt[slot] = 0
    this.#lastReadAt[slot] = 0
    this.#nextDueAt[slot] = 0
    this.#failures[slot] = 0
    this.#phase[slot] = 0
    return slot
  }

  /** Frees `slot` (no effect when it is free already); its key is no longer held. */
  remove(slot: number): void {
    const key = this.#keys[slot]
    if (key === undefined) return
    this.#index.delete(key)
    this.#keys[slot] = undefined
    this.#values[slot] = undefined
    this.#version[slot] = this.#freeHead
    this.#freeHead = slot
  }

  /** The held keys, in the order they were first inserted (or reinserted). */
  keys(): IterableIterator<string> {
    return this.#index.keys()
  }

  /** The held slots. */
  slots(): IterableIterator<number> {
    return this.#index.values()
  }

  /** The version of the value in `slot` (a safe integer the engine increments per change). */
  version(slot: number): number {
    return this.#version[slot]!
  }

  setVersion(slot: number, version: number): void {
    this.#version[slot] = version
  }

  /** When the value in `slot` was last loaded or set (ms on the registry's clock; 0 never). */
  updatedAt(slot: number): number {
    return this.#updatedAt[slot]!
  }

  setUpdatedAt(slot: number, at: number): void {
    this.#updatedAt[slot] = at
  }

  /** When the key in `slot` was last read (ms; 0 never): idle keys stop refreshing. */
  lastReadAt(slot: number): number {
    return this.#lastReadAt[slot]!
  }

  setLastReadAt(slot: number, at: number): void {
    this.#lastReadAt[slot] = at
  }

  /** When the key in `slot` is next due to load (ms; 0 not scheduled). */
  nextDueAt(slot: number): number {
    return this.#nextDueAt[slot]!
  }

  setNextDueAt(slot: number, at: number): void {
    this.#nextDueAt[slot] = at
  }

  /** Consecutive failed loads of the key in `slot` (saturates at 255, far past any backoff cap). */
  failures(slot: number): number {
    return this.#failures[slot]!
  }

  setFailures(slot: number, failures: number): void {
    this.#failures[slot] = Math.min(failures, 0xff)
  }

  /** The lifecycle phase of the key in `slot`, as a small integer the engine defines (0..255). */
  phase(slot: number): number {
    return this.#phase[slot]!
  }

  setPhase(slot: number, phase: number): void {
    this.#phase[slot] = phase
  }

  #grow(): void {
    const old = this.#keys.length
    if (old >= this.#maxCapacity) {
      throw new RangeError(`the key table is full (${this.#maxCapacity} keys)`)
    }
    const capacity = Math.min(this.#maxCapacity, old * 2)
    this.#keys = grownArray(this.#keys, capacity)
    this.#values = grownArray(this.#values, capacity)
    this.#version = grownTyped(this.#version, new Float64Array(capacity))
    this.#updatedAt = grownTyped(this.#updatedAt, new Float64Array(capacity))
    this.#lastReadAt = grownTyped(this.#lastReadAt, new Float64Array(capacity))
    this.#nextDueAt = grownTyped(this.#nextDueAt, new Float64Array(capacity))
    this.#failures = grownTyped(this.#failures, new Uint8Array(capacity))
    this.#phase = grownTyped(this.#phase, new Uint8Array(capacity))
  }
}

/** A copy of `old` with room for `capacity` elements, preallocated (so V8 keeps it packed). */
function grownArray<T>(old: readonly (T | undefined)[], capacity: number): (T | undefined)[] {
  const bigger = new Array<T | undefined>(capacity).fill(undefined)
  for (let i = 0; i < old.length; i++) bigger[i] = old[i]
  return bigger
}

function grownTyped<T extends Float64Array | Uint8Array>(old: T, bigger: T): T {
  bigger.set(old)
  return bigger
}
