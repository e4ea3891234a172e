/** The bounds a policy keeps a family within. */
export interface EvictionBounds {
  /** At most this many keys are held (an integer >= 1). */
  readonly maxKeys: number
  /** At most this much summed weight is held, when given (weights come from `sizeOf`). */
  readonly maxSize?: number | undefined
}

/**
 * Decides which key goes when a family is over its bounds. It sees slots (dense indices the key
 * table hands out), never values; the table tells it about every insert, read and removal.
 */
export interface EvictionPolicy {
  /** Makes room for slots `0..capacity-1`. */
  grow(capacity: number): void
  /** A key is now held in `slot` (a miss being filled, or a value pushed in). */
  add(slot: number, key: string, weight: number): void
  /** A read found the key held in `slot`. */
  hit(slot: number): void
  /** A read did not find `key`. */
  miss(key: string): void
  /** The value in `slot` changed weight. */
  reweigh(slot: number, weight: number): void
  /** The key in `slot` is gone for a reason of the caller's (deleted, dropped): forget the slot. */
  remove(slot: number): void
  /**
   * Marks the key in `slot` as failed or idle (`true`): it is evicted before any other key, and
   * reads do not lift that; `false` gives it back its normal standing (as a new key).
   */
  setEvictFirst(slot: number, yes: boolean): void
  /** Whether the key in `slot` is marked to be evicted first. */
  isEvictFirst(slot: number): boolean
  /** Whether more keys, or more weight, are held than the bounds allow. */
  overBound(): boolean
  /** Chooses the next key to evict and forgets its slot, which it returns; -1 when none is held. */
  evict(): number
  /** Keys held. */
  readonly size: number
  /** Summed weight held (the key count when unweighted). */
  readonly weight: number
  /** Bytes the policy keeps per slot of capacity, plus its fixed structures (for accounting). */
  bytes(capacity: number): number
}
