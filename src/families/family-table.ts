import { OptionRangeError, OptionTypeError } from '../core/errors.js'
import type { EvictionPolicy } from './eviction-policy.js'
import { type FamilyKey, keyString } from './key-string.js'
import { KeyTable } from './key-table.js'
import { LruPolicy } from './lru-policy.js'
import { TinyLfuPolicy } from './tiny-lfu-policy.js'

/** Called for each key evicted to keep the bounds, after its slot is freed. Must not throw. */
export type EvictionListener<V> = (key: string, value: V | undefined) => void

/** Options of a family's bounded key table. */
export interface FamilyTableOptions<V> {
  /** Most keys held; `size` never exceeds it. An integer in 1..2^30. */
  readonly maxKeys: number
  /** Most summed weight held, when given (weights passed to `set`). A number > 0. */
  readonly maxSize?: number | undefined
  /** `'tinylfu'` (W-TinyLFU, adaptive window) or `'lru'`. @default 'tinylfu' */
  readonly policy?: 'tinylfu' | 'lru' | undefined
  /** With `'tinylfu'`: tune the window by hill climbing, or keep it at 1%. @default true */
  readonly adaptive?: boolean | undefined
  /** Seed of the policy's rare random admission, for reproducible runs. @default random */
  readonly seed?: number | undefined
  /** Told of every key evicted to keep the bounds (not of `delete`). */
  readonly onEvict?: EvictionListener<V> | undefined
}

/** The largest `maxKeys` a table accepts. */
export const MAX_KEYS_LIMIT = 2 ** 30

/**
 * A family's keys and values within their bounds: the key table (storage and per-key fields)
 * with an eviction policy that decides which key goes when a `set` goes over `maxKeys` or
 * `maxSize`. Reads go through `read` (counted by the policy) or `find` (not counted, for
 * `peek`). Keys are strings or numbers; a number is the same key as its `String()`.
 */
export class FamilyTable<V> {
  /** The storage: fields of a slot are read and written here. */
  readonly table: KeyTable<V>
  readonly #policy: EvictionPolicy
  readonly #maxKeys: number
  readonly #maxSize: number | undefined
  readonly #onEvict: EvictionListener<V> | undefined
  #evictions = 0

  constructor(options: FamilyTableOptions<V>) {
    const { maxKeys, maxSize, policy = 'tinylfu', adaptive = true, seed, onEvict } = options
    if (!Number.isInteger(maxKeys) || maxKeys < 1 || maxKeys > MAX_KEYS_LIMIT) {
      throw new OptionRangeError('maxKeys', `an integer from 1 to ${MAX_KEYS_LIMIT}`, maxKeys)
    }
    if (maxSize !== undefined && !(typeof maxSize === 'number' && maxSize > 0 && maxSize < Infinity)) {
      throw new OptionRangeError('maxSize', 'a finite number > 0', maxSize)
    }
    if (policy !== 'tinylfu' && policy !== 'lru') {
      throw new OptionTypeError('policy', '"tinylfu" or "lru"', policy)
    }
    this.#maxKeys = maxKeys
    this.#maxSize = maxSize
    this.#onEvict = onEvict
    // One slot more than maxKeys: a key is inserted before the policy chooses what to evict.
    this.table = new KeyTable<V>(maxKeys + 1)
    const bounds = { maxKeys, maxSize }
    const capacity = this.table.capacity
    this.#policy =
      policy === 'lru'
        ? new LruPolicy(bounds, capacity)
        : new TinyLfuPolicy(bounds, capacity, seed === undefined ? { adaptive } : { adaptive, seed })
  }

  /** Keys held. */
  get size(): number {
    return this.table.size
  }

  /** Summed weight held (equals `size` unless weights are given). */
  get weight(): number {
    return this.#policy.weight
  }

  /** Keys evicted to keep the bounds so far. */
  get evictions(): number {
    return this.#evictions
  }

  get maxKeys(): number {
    return this.#maxKeys
  }

  get maxSize(): number | undefined {
    return this.#maxSize
  }

  /** Bytes of the storage arrays and the policy's structures (the `Map` and the keys not counted). */
  get arrayBytes(): number {
    return this.table.arrayBytes + this.#policy.bytes(this.table.capacity)
  }

  /** The slot of `key`, or -1; not counted as a read (for `peek`, `has`). */
  find(key: FamilyKey): number {
    return this.table.slotOf(keyString(key))
  }

  /** The slot of `key`, or -1; counted as a read, which the policy uses to rank keys. */
  read(key: FamilyKey): number {
    const name = keyString(key)
    const slot = this.table.slotOf(name)
    if (slot === -1) this.#policy.miss(name)
    else this.#policy.hit(slot)
    return slot
  }

  /**
   * Holds `value` for `key` (replacing the value of a held key, which keeps its fields), then
   * evicts until within bounds. Returns the key's slot, or -1 when the key itself was evicted
   * (it weighs more than `maxSize`, or lost its place at once). `weight` is the value's size
   * for `maxSize`: a finite number >= 0 (see `weigh`).
   */
  set(key: FamilyKey, value: V | undefined, weight = 1): number {
    const name = keyString(key)
    let slot = this.table.slotOf(name)
    if (this.#maxSize !== undefined && weight > this.#maxSize) {
      // Too heavy to keep at all: no other key is evicted to make room for it.
      if (slot !== -1) this.#evict(slot)
      return -1
    }
    if (slot !== -1) {
      this.table.setValue(slot, value)
      if (this.#maxSize !== undefined) this.#policy.reweigh(slot, weight)
    } else {
      const capacity = this.table.capacity
      slot = this.table.insert(name, value)
      if (this.table.capacity !== capacity) this.#policy.grow(this.table.capacity)
      this.#policy.add(slot, name, this.#maxSize === undefined ? 1 : weight)
    }
    this.#fit()
    return this.table.keyAt(slot) === name ? slot : -1
  }

  /** Drops `key`; true when it was held. Not an eviction (no listener call). */
  delete(key: FamilyKey): boolean {
    const slot = this.table.slotOf(keyString(key))
    if (slot === -1) return false
    this.#policy.remove(slot)
    this.table.remove(slot)
    return true
  }

  /** Marks the key in `slot` failed or idle (`true`): evicted before any other; `false` undoes it. */
  setEvictFirst(slot: number, yes: boolean): void {
    this.#policy.setEvictFirst(slot, yes)
  }

  isEvictFirst(slot: number): boolean {
    return this.#policy.isEvictFirst(slot)
  }

  /** The held keys. */
  keys(): IterableIterator<string> {
    return this.table.keys()
  }

  /** Drops every key (not evictions). */
  clear(): void {
    for (const slot of [...this.table.slots()]) {
      this.#policy.remove(slot)
      this.table.remove(slot)
    }
  }

  #fit(): void {
    const policy = this.#policy
    while (policy.overBound()) {
      const slot = policy.evict()
      if (slot === -1) return
      this.#evicted(slot)
    }
  }

  /** Evicts the key in `slot` by the caller's decision (not the policy's). */
  #evict(slot: number): void {
    this.#policy.remove(slot)
    this.#evicted(slot)
  }

  /** Frees `slot`, which the policy has already let go, and tells the listener. */
  #evicted(slot: number): void {
    const key = this.table.keyAt(slot)!
    const value = this.table.valueAt(slot)
    this.table.remove(slot)
    this.#evictions++
    try {
      this.#onEvict?.(key, value)
    } catch {
      // The listener is the family's own and must not throw; if it does, the bounds still hold.
    }
  }
}
