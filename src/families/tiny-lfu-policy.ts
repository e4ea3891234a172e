import type { EvictionBounds, EvictionPolicy } from './eviction-policy.js'
import { FrequencySketch } from './frequency-sketch.js'
import { GhostFilter } from './ghost-filter.js'
import { keyHash } from './key-hash.js'
import { NO_LIST, SlotLists } from './slot-lists.js'

/** New keys enter here (LRU); the window's overflow competes for a place in the main region. */
const WINDOW = 0
/** Main region, keys not read since they entered it: the victims come from here first. */
const PROBATION = 1
/** Main region, keys read again after they entered it. */
const PROTECTED = 2
/** Keys marked failed or idle: evicted before any other. */
const FIRST = 3

/** The window's first share of the capacity (W-TinyLFU(1%), the TinyLFU paper's default). */
const INITIAL_WINDOW_SHARE = 0.01
/** The protected segment's share of the main region. */
const PROTECTED_SHARE = 0.8
/**
 * A candidate this popular that ties or loses still gets in once in a while (1 in 128), so that
 * keys crafted to collide with a victim in the sketch cannot lock the main region.
 */
const WARM_CANDIDATE = 6

/** Options of the policy beyond its bounds. */
export interface TinyLfuOptions {
  /** Adapt the window to the workload (`true`), or keep it at 1% of the capacity. @default true */
  readonly adaptive?: boolean
  /** Seed of the rare random admission; fixed for reproducible simulations. @default random */
  readonly seed?: number
}

/**
 * W-TinyLFU, after Einziger, Friedman and Manes ("TinyLFU: A Highly Efficient Cache Admission
 * Policy"): a small LRU window takes new keys, so a burst of new keys cannot flush the cache; a
 * key leaving the window joins the main region only if the frequency sketch says it is read more
 * often than the key it would displace (the main region's LRU victim); the main region is a
 * segmented LRU (probation, protected), so keys read again are kept over keys read once. Keys
 * marked failed or idle are evicted before all others.
 *
 * The window adapts as ARC's target does: each region remembers the keys it gave up lately
 * (`GhostFilter`); a miss on a key the window rejected grows the window by one key (recency is
 * paying), a miss on a key the main region evicted shrinks it by one (frequency is paying). Only
 * keys the sketch has seen before count, so the filters' false positives (keys never seen, as in
 * a scan) do not move the window. A
 * workload whose popular keys keep changing moves towards LRU; a skewed, steady one keeps the
 * small window where TinyLFU's admission does best.
 *
 * Per slot: 9 bytes of list links (17 when weighted) and 4 of hash; per key of capacity, about 4
 * bytes of sketch and 2 of ghost filters.
 */
export class TinyLfuPolicy implements EvictionPolicy {
  readonly #lists: SlotLists
  readonly #sketch: FrequencySketch
  readonly #windowGhosts: GhostFilter
  readonly #mainGhosts: GhostFilter
  readonly #adaptive: boolean
  readonly #maxKeys: number
  readonly #maxSize: number
  /** The bound the regions share: `maxSize` when given, else `maxKeys`. */
  readonly #capacity: number
  #hashes: Int32Array
  #windowMax: number
  #protectedMax: number
  #random: number
  /** The last key that missed and its hash: the insert that follows a miss reuses it. */
  #missKey: string | undefined
  #missHash = 0

  constructor(bounds: EvictionBounds, capacity: number, options: TinyLfuOptions = {}) {
    this.#maxKeys = bounds.maxKeys
    this.#maxSize = bounds.maxSize ?? Number.POSITIVE_INFINITY
    this.#capacity = bounds.maxSize ?? bounds.maxKeys
    this.#adaptive = options.adaptive !== false
    this.#lists = new SlotLists(4, capacity, bounds.maxSize !== undefined)
    this.#sketch = new FrequencySketch(capacity)
    this.#windowGhosts = new GhostFilter(capacity)
    this.#mainGhosts = new GhostFilter(capacity)
    this.#hashes = new Int32Array(capacity)
    this.#windowMax = 0
    this.#protectedMax = 0
    this.#setWindow(this.#capacity * INITIAL_WINDOW_SHARE)
    this.#random = (options.seed ?? Math.floor(Math.random() * 2 ** 32)) | 1
  }

  get size(): number {
    const lists = this.#lists
    return lists.count(WINDOW) + lists.count(PROBATION) + lists.count(PROTECTED) + lists.count(FIRST)
  }

  get weight(): number {
    const lists = this.#lists
    return (
      lists.weightOf(WINDOW) + lists.weightOf(PROBATION) + lists.weightOf(PROTECTED) + lists.weightOf(FIRST)
    )
  }

  /** The window's target weight now (for tests and diagnostics). */
  get windowTarget(): number {
    return this.#windowMax
  }

  bytes(capacity: number): number {
    const fixed = this.#sketch.byteLength + this.#windowGhosts.byteLength + this.#mainGhosts.byteLength
    return capacity * (this.#lists.bytesPerSlot + 4) + fixed
  }

  grow(capacity: number): void {
    this.#lists.grow(capacity)
    if (capacity > this.#hashes.length) {
      const hashes = new Int32Array(capacity)
      hashes.set(this.#hashes)
      this.#hashes = hashes
    }
    const keys = Math.min(capacity, this.#maxKeys)
    this.#sketch.ensureCapacity(keys)
    this.#windowGhosts.ensureCapacity(keys)
    this.#mainGhosts.ensureCapacity(keys)
  }

  add(slot: number, key: string, weight: number): void {
    let hash: number
    if (key === this.#missKey) {
      hash = this.#missHash
      this.#missKey = undefined
    } else {
      hash = keyHash(key)
    }
    this.#hashes[slot] = hash
    this.#lists.setWeight(slot, weight)
    this.#lists.append(WINDOW, slot)
    this.#spill()
  }

  hit(slot: number): void {
    this.#sketch.increment(this.#hashes[slot]!)
    const lists = this.#lists
    const list = lists.listOf(slot)
    if (list === PROBATION) {
      lists.moveTo(PROTECTED, slot)
      this.#fitProtected()
    } else {
      lists.moveTo(list, slot)
    }
  }

  miss(key: string): void {
    const hash = keyHash(key)
    this.#missKey = key
    this.#missHash = hash
    // Seen before (by the sketch): a ghost's answer for a key never seen is a false positive.
    const seen = this.#sketch.frequency(hash) > 0
    this.#sketch.increment(hash)
    if (!this.#adaptive || !seen) return
    // One key's worth of weight: 1 unless weighted, else the mean weight held.
    const size = this.size
    const step = this.#maxSize === Number.POSITIVE_INFINITY || size === 0 ? 1 : this.weight / size
    if (this.#windowGhosts.has(hash)) this.#setWindow(this.#windowMax + step)
    else if (this.#mainGhosts.has(hash)) this.#setWindow(this.#windowMax - step)
  }

  reweigh(slot: number, weight: number): void {
    this.#lists.setWeight(slot, weight)
    if (this.#lists.listOf(slot) === PROTECTED) this.#fitProtected()
  }

  remove(slot: number): void {
    this.#lists.unlink(slot)
  }

  setEvictFirst(slot: number, yes: boolean): void {
    const list = this.#lists.listOf(slot)
    if (list === NO_LIST || (list === FIRST) === yes) return
    this.#lists.moveTo(yes ? FIRST : WINDOW, slot)
  }

  isEvictFirst(slot: number): boolean {
    return this.#lists.listOf(slot) === FIRST
  }

  overBound(): boolean {
    return this.size > this.#maxKeys || this.weight > this.#maxSize
  }

  evict(): number {
    const lists = this.#lists
    const first = lists.head(FIRST)
    if (first !== -1) return this.#take(first)
    this.#spill()
    // The window is still over its share: its oldest key competes with the main region's
    // victim, and the loser is evicted.
    if (lists.weightOf(WINDOW) > this.#windowMax) {
      const candidate = lists.head(WINDOW)
      const victim = this.#mainVictim()
      if (victim === -1 || !this.#admit(candidate, victim))
        return this.#evictFrom(this.#windowGhosts, candidate)
      lists.moveTo(PROBATION, candidate)
      return this.#evictFrom(this.#mainGhosts, victim)
    }
    // The window is within its share, so the main region is over its own.
    const victim = this.#mainVictim()
    if (victim !== -1) return this.#evictFrom(this.#mainGhosts, victim)
    const oldest = lists.head(WINDOW)
    return oldest === -1 ? -1 : this.#evictFrom(this.#windowGhosts, oldest)
  }

  /** Moves the window's oldest keys past its share into the main region while it has room. */
  #spill(): void {
    const lists = this.#lists
    const mainMax = this.#capacity - this.#windowMax
    while (lists.weightOf(WINDOW) > this.#windowMax) {
      const oldest = lists.head(WINDOW)
      const room = mainMax - lists.weightOf(PROBATION) - lists.weightOf(PROTECTED)
      if (lists.weight(oldest) > room) return
      lists.moveTo(PROBATION, oldest)
    }
  }

  #mainVictim(): number {
    const victim = this.#lists.head(PROBATION)
    return victim === -1 ? this.#lists.head(PROTECTED) : victim
  }

  #take(slot: number): number {
    this.#lists.unlink(slot)
    return slot
  }

  #evictFrom(ghosts: GhostFilter, slot: number): number {
    ghosts.add(this.#hashes[slot]!)
    return this.#take(slot)
  }

  /** Whether the window's candidate should displace the main region's victim. */
  #admit(candidate: number, victim: number): boolean {
    const candidateFrequency = this.#sketch.frequency(this.#hashes[candidate]!)
    const victimFrequency = this.#sketch.frequency(this.#hashes[victim]!)
    if (candidateFrequency > victimFrequency) return true
    if (candidateFrequency < WARM_CANDIDATE) return false
    return (this.#nextRandom() & 127) === 0
  }

  /** xorshift32: cheap, seeded, good enough for a 1-in-128 draw. */
  #nextRandom(): number {
    let x = this.#random
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    this.#random = x
    return x >>> 0
  }

  /** Sets the window's target (within one key of empty and of the whole capacity). */
  #setWindow(target: number): void {
    const next = Math.min(this.#capacity - 1, Math.max(1, target))
    if (next === this.#windowMax) return
    this.#windowMax = next
    this.#protectedMax = (this.#capacity - next) * PROTECTED_SHARE
    this.#fitProtected()
  }

  /** Demotes the protected segment's oldest keys to probation until it fits its share. */
  #fitProtected(): void {
    const lists = this.#lists
    while (lists.weightOf(PROTECTED) > this.#protectedMax) {
      const oldest = lists.head(PROTECTED)
      if (oldest === -1) return
      lists.moveTo(PROBATION, oldest)
    }
  }
}
