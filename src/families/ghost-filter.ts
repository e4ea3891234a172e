/** Bits per key of capacity: with the filter emptied every `capacity` additions, at most 1 in 8 set. */
const BITS_PER_KEY = 8

/**
 * Remembers, approximately, the keys one region of the cache gave up lately: one bit per key
 * hash in a bitset of 8 bits per key of capacity (one byte a key). It is emptied after `capacity`
 * additions, so it holds about the last `capacity` keys given up (as the ghost lists of ARC do)
 * and at most an eighth of its bits are set (a false positive rate below 1 in 8). A read that
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

  /** Grows (and empties) the filter to suit `expectedKeys`; never shrinks. */
  ensureCapacity(expectedKeys: number): void {
    const keys = 2 ** Math.ceil(Math.log2(Math.max(8, expectedKeys)))
    const bits = keys * BITS_PER_KEY
    if (bits <= this.#bits.length * 32) return
    this.#bits = new Uint32Array(bits >>> 5)
    this.#mask = bits - 1
    this.#limit = keys
    this.#added = 0
  }

  /** Remembers the key with this hash. */
  add(hash: number): void {
    const bit = hash & this.#mask
    const word = bit >>> 5
    const flag = 1 << (bit & 31)
    if ((this.#bits[word]! & flag) !== 0) return
    this.#bits[word] = this.#bits[word]! | flag
    if (++this.#added >= this.#limit) {
      this.#bits.fill(0)
      this.#added = 0
    }
  }

  /** Whether the key with this hash was given up lately (or collides with one that was). */
  has(hash: number): boolean {
    const bit = hash & this.#mask
    return (this.#bits[bit >>> 5]! & (1 << (bit & 31))) !== 0
  }
}
