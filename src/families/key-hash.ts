/**
 * A 32-bit hash of a key string for the frequency sketch: FNV-1a over the UTF-16 code units,
 * then a final avalanche so that keys differing only in their last characters (`sku-1`, `sku-2`)
 * spread over the whole range. Not a security measure: the admission policy adds a little
 * randomness of its own against keys chosen to collide.
 */
export function keyHash(key: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return mix32(h)
}

/** Spreads the bits of a 32-bit integer (a murmur3-style finaliser). */
export function mix32(value: number): number {
  let h = value | 0
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h | 0
}
