// Hit ratio is a count, not a timing: on a seeded trace it is the same on every machine, so the
// ordering of the policies can be checked here. The full comparison is bench/hit-ratio.bench.ts.
import { LRUCache } from 'lru-cache'
import { describe, expect, it } from 'vitest'
import { zipfTrace } from '../../bench/traces.js'
import { FamilyTable } from '../../src/families/family-table.js'

const KEY_SPACE = 20_000
const trace = zipfTrace({ skew: 0.8, length: 200_000, seed: 42, keySpace: KEY_SPACE })
const keys = Array.from({ length: KEY_SPACE }, (_, i) => `key-${i}`)

function familyHits(cache: FamilyTable<number>): number {
  let hits = 0
  for (const id of trace) {
    const key = keys[id]!
    if (cache.read(key) !== -1) hits++
    else cache.set(key, id)
  }
  return hits
}

function lruCacheHits(max: number): number {
  const cache = new LRUCache<string, number>({ max })
  let hits = 0
  for (const id of trace) {
    const key = keys[id]!
    if (cache.get(key) !== undefined) hits++
    else cache.set(key, id)
  }
  return hits
}

describe('hit ratio on a seeded Zipf 0.8 trace', () => {
  it.each([200, 2_000])('W-TinyLFU beats LRU with room for %i keys', (maxKeys) => {
    const tinyLfu = familyHits(new FamilyTable({ maxKeys, seed: 1 }))
    const lru = familyHits(new FamilyTable({ maxKeys, policy: 'lru' }))
    expect(tinyLfu).toBeGreaterThan(lru)
  })

  it('the family table with the lru policy hits exactly where lru-cache does', () => {
    expect(familyHits(new FamilyTable({ maxKeys: 200, policy: 'lru' }))).toBe(lruCacheHits(200))
  })
})
