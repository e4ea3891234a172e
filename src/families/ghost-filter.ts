import { mix32 } from './key-hash.js'

/** Bits per key of capacity: emptied every `capacity` additions, at most a quarter are set. */
const BITS_PER_KEY = 8

/**
 * Remembers, approximately, the keys one region of the cache gave up lately: a Bloom filter (two
 * bits per key hash) of 8 bits per key of capacity (one byte a key). It is emptied after
 * `capacity` additions, so it holds about the last `capacity` keys given up (as the ghost lists
 * of ARC do) and at most a quarter of its bits are set (false positives below 1 in 16, about 1 in
 * 50 on average). A read that
 * misses and finds its key here says that region let the key go too soon.
 */
export class GhostFilter {
  #bits = new Uint32Array(0)
  #mask = 0
  #added = 0
  #limit = 0

  constructor(expectedKeys: number) {
    this.ensureCapacity(expectedKeys)
  }

  get byteLength(): number {
    return this.#bits.byteLength
  }

  /**
   * Grows the filter to suit `expectedKeys` (never shrinks), keeping what it holds: a hash's bit
   * sits at the same low bits of a bigger bitset, so the old one is copied into each part.
   */
  ensureCapacity(expectedKeys: number): void {
    const keys = 2 ** Math.ceil(Math.log2(Math.max(8, expectedKeys)))
    const bits = keys * BITS_PER_KEY
    const old = this.#bits
    if (bits <= old.length * 32) return
    const grown = new Uint32Array(bits >>> 5)
    for (let at = 0; at < grown.length && old.length > 0; at += old.length) grown.set(old, at)
    this.#bits = grown
    this.#mask = bits - 1
    this.#limit = keys
  }

  /** Remembers the key with this hash (two bits, as a Bloom filter with two hash functions). */
  add(hash: number): void {
    const first = this.#set(hash & this.#mask)
    const second = this.#set(mix32(hash) & this.#mask)
    if ((first || second) && ++this.#added >= this.#limit) {
      this.#bits.fill(0)
      this.#added = 0
    }
  }

  /** Sets one bit; true when it was clear. */
  #set(bit: number): boolean {
    const word = bit >>> 5
    const flag = 1 << (bit & 31)
    if ((this.#bits[word]! & flag) !== 0) return false
    this.#bits[word] = this.#bits[word]! | flag
    return true
  }

  /** Whether the key with this hash was given up lately (or collides with keys that were). */
  has(hash: number): boolean {
    return this.#get(hash & this.#mask) && this.#get(mix32(hash) & this.#mask)
  }

  #get(bit: number): boolean {
    return (this.#bits[bit >>> 5]! & (1 << (bit & 31))) !== 0
  }
}
