import { mix32 } from './key-hash.js'

/** Counters per 32-bit word: eight 4-bit counters. */
const COUNTERS_PER_WORD = 8
/** A counter saturates here (4 bits). */
const MAX_COUNT = 15
/** Each key is counted in this many counters; its estimate is the smallest of them. */
const DEPTH = 4
/** Halves every counter after this many increments per word of the sketch (the aging period). */
const SAMPLE_PER_WORD = 10
/** The largest sketch kept, in words (64 MiB): beyond it, keys share counters a little more. */
const MAX_WORDS = 2 ** 24

/** Keeps the high 3 bits of every 4-bit counter after a shift right by one: halves all eight. */
const HALVE_MASK = 0x77777777

/**
 * An approximate count of how often each key was seen lately (a count-min sketch with 4-bit
 * counters, as TinyLFU uses): about one 32-bit word per key the cache can hold, so four bytes a
 * key. A key is spread over four counters; an increment raises only those at the key's current
 * minimum (conservative update), which keeps estimates of rare keys from being inflated by
 * collisions. After `10 x words` increments every counter is halved, so the sketch follows what
 * is popular now rather than what was popular once.
 *
 * Estimates are in 0..15 and never below the true count since the last halving (capped at 15).
 */
export class FrequencySketch {
  #words: Uint32Array
  #counterMask: number
  #samplePeriod: number
  #increments = 0

  constructor(expectedKeys: number) {
    const words = wordsFor(expectedKeys)
    this.#words = new Uint32Array(words)
    this.#counterMask = words * COUNTERS_PER_WORD - 1
    this.#samplePeriod = words * SAMPLE_PER_WORD
  }

  /** Bytes held by the counters. */
  get byteLength(): number {
    return this.#words.byteLength
  }

  /**
   * Grows the sketch to suit `expectedKeys` (never shrinks), keeping every estimate: a key's
   * counters sit at the same low bits of a bigger table, so the old table is copied into each
   * part of the new one.
   */
  ensureCapacity(expectedKeys: number): void {
    const words = wordsFor(expectedKeys)
    const old = this.#words
    if (words <= old.length) return
    const grown = new Uint32Array(words)
    for (let at = 0; at < words; at += old.length) grown.set(old, at)
    this.#words = grown
    this.#counterMask = words * COUNTERS_PER_WORD - 1
    this.#samplePeriod = words * SAMPLE_PER_WORD
  }

  /** The estimated recent count of the key with this hash (see `keyHash`), 0..15. */
  frequency(hash: number): number {
    const words = this.#words
    const step = mix32(hash) | 1
    let min = MAX_COUNT
    for (let i = 0; i < DEPTH; i++) {
      const counter = (hash + Math.imul(i, step)) & this.#counterMask
      const count = (words[counter >>> 3]! >>> ((counter & 7) << 2)) & 0xf
      if (count < min) min = count
    }
    return min
  }

  /** Counts one sighting of the key with this hash. */
  increment(hash: number): void {
    const words = this.#words
    const mask = this.#counterMask
    const step = mix32(hash) | 1
    const min = this.frequency(hash)
    if (min === MAX_COUNT) return
    for (let i = 0; i < DEPTH; i++) {
      const counter = (hash + Math.imul(i, step)) & mask
      const word = counter >>> 3
      const shift = (counter & 7) << 2
      if (((words[word]! >>> shift) & 0xf) === min) words[word] = words[word]! + (1 << shift)
    }
    if (++this.#increments >= this.#samplePeriod) this.#age()
  }

  /** Halves every counter, so old popularity fades. */
  #age(): void {
    const words = this.#words
    for (let i = 0; i < words.length; i++) words[i] = (words[i]! >>> 1) & HALVE_MASK
    this.#increments = this.#increments >>> 1
  }
}

/** A power of two of words, at least one per expected key (and at least 8). */
function wordsFor(expectedKeys: number): number {
  const wanted = Math.min(MAX_WORDS, Math.max(8, Math.ceil(expectedKeys)))
  return 2 ** Math.ceil(Math.log2(wanted))
}
