import { describe, expect, it } from 'vitest'
import { OptionRangeError, OptionTypeError } from '../../src/core/errors.js'
import { FamilyTable } from '../../src/families/family-table.js'

const POLICIES = ['tinylfu', 'lru'] as const

describe('FamilyTable', () => {
  it.each([0, -1, 1.5, Number.NaN, 2 ** 31, '10'])('rejects maxKeys %s with a typed error', (maxKeys) => {
    expect(() => new FamilyTable({ maxKeys: maxKeys as number })).toThrow(OptionRangeError)
  })

  it.each([0, -5, Number.POSITIVE_INFINITY, Number.NaN])('rejects maxSize %s', (maxSize) => {
    expect(() => new FamilyTable({ maxKeys: 10, maxSize })).toThrow(OptionRangeError)
  })

  it('rejects an unknown policy', () => {
    expect(() => new FamilyTable({ maxKeys: 10, policy: 'fifo' as 'lru' })).toThrow(OptionTypeError)
  })

  it.each(POLICIES)('treats a number key as its String() (%s)', (policy) => {
    const table = new FamilyTable<string>({ maxKeys: 10, policy })
    table.set(1, 'one')
    expect(table.find('1')).toBe(table.find(1))
    expect(table.table.valueAt(table.read('1'))).toBe('one')
    table.set('1', 'uno')
    expect(table.size).toBe(1)
    expect(table.table.valueAt(table.find(1))).toBe('uno')
    expect(table.delete(1)).toBe(true)
    expect(table.find('1')).toBe(-1)
  })

  it.each(POLICIES)('never holds more than maxKeys, telling the listener of each eviction (%s)', (policy) => {
    const evicted: string[] = []
    const table = new FamilyTable<number>({
      maxKeys: 5,
      policy,
      seed: 1,
      onEvict: (key) => evicted.push(key),
    })
    for (let i = 0; i < 20; i++) {
      table.set(`k${i}`, i)
      expect(table.size).toBeLessThanOrEqual(5)
    }
    expect(table.size).toBe(5)
    expect(evicted).toHaveLength(15)
    expect(table.evictions).toBe(15)
    for (const key of evicted) expect(table.find(key)).toBe(-1)
  })

  it('evicts the least recently read key with the lru policy; find does not count as a read', () => {
    const table = new FamilyTable<number>({ maxKeys: 3, policy: 'lru' })
    table.set('a', 1)
    table.set('b', 2)
    table.set('c', 3)
    table.read('a')
    table.find('b')
    table.set('d', 4)
    expect([...table.keys()].sort()).toEqual(['a', 'c', 'd'])
  })

  it.each(POLICIES)('evicts keys marked failed or idle before any other (%s)', (policy) => {
    const table = new FamilyTable<number>({ maxKeys: 100, policy, seed: 1 })
    for (let i = 0; i < 100; i++) table.set(`k${i}`, i)
    // The most read keys, marked idle, still go first.
    for (let r = 0; r < 5; r++) for (const i of [10, 20]) table.read(`k${i}`)
    table.setEvictFirst(table.find('k10'), true)
    table.setEvictFirst(table.find('k20'), true)
    expect(table.isEvictFirst(table.find('k10'))).toBe(true)
    // A read does not lift the mark.
    table.read('k10')
    table.set('new-1', 1)
    table.set('new-2', 2)
    expect(table.find('k10')).toBe(-1)
    expect(table.find('k20')).toBe(-1)
    expect(table.size).toBe(100)
  })

  it.each(POLICIES)('a key no longer marked is evicted by the policy as usual (%s)', (policy) => {
    const table = new FamilyTable<number>({ maxKeys: 2, policy, seed: 1 })
    table.set('a', 1)
    table.set('b', 2)
    table.setEvictFirst(table.find('a'), true)
    table.setEvictFirst(table.find('a'), false)
    expect(table.isEvictFirst(table.find('a'))).toBe(false)
    table.set('c', 3)
    expect(table.size).toBe(2)
  })

  it.each(POLICIES)('keeps the summed weight within maxSize (%s)', (policy) => {
    const table = new FamilyTable<string>({ maxKeys: 100, maxSize: 10, policy, seed: 1 })
    for (let i = 0; i < 30; i++) {
      table.set(`k${i}`, 'v', (i % 4) + 1)
      expect(table.weight).toBeLessThanOrEqual(10)
    }
    expect(table.size).toBeLessThan(10)
  })

  it.each(POLICIES)('does not keep a value heavier than maxSize, and says so (%s)', (policy) => {
    const table = new FamilyTable<string>({ maxKeys: 10, maxSize: 10, policy })
    table.set('small', 's', 2)
    expect(table.set('huge', 'h', 11)).toBe(-1)
    expect(table.find('huge')).toBe(-1)
    expect(table.find('small')).not.toBe(-1)
  })

  it.each(POLICIES)('re-weighs a key whose value changes (%s)', (policy) => {
    const table = new FamilyTable<string>({ maxKeys: 10, maxSize: 10, policy })
    table.set('a', 'x', 3)
    table.set('b', 'y', 3)
    table.set('a', 'bigger', 6)
    expect(table.weight).toBeLessThanOrEqual(10)
    expect(table.size).toBeLessThanOrEqual(2)
  })

  it('delete is not an eviction, and clear drops everything', () => {
    const evicted: string[] = []
    const table = new FamilyTable<number>({ maxKeys: 3, onEvict: (key) => evicted.push(key) })
    table.set('a', 1)
    table.set('b', 2)
    expect(table.delete('a')).toBe(true)
    expect(table.delete('a')).toBe(false)
    table.clear()
    expect(table.size).toBe(0)
    expect(table.weight).toBe(0)
    expect(evicted).toEqual([])
    expect(table.evictions).toBe(0)
  })

  it('still keeps its bounds when the eviction listener throws', () => {
    const table = new FamilyTable<number>({
      maxKeys: 2,
      onEvict: () => {
        throw new Error('listener bug')
      },
    })
    for (let i = 0; i < 10; i++) table.set(`k${i}`, i)
    expect(table.size).toBe(2)
  })

  it('keeps frequently read keys over a scan of keys read once', () => {
    const table = new FamilyTable<number>({ maxKeys: 100, seed: 7 })
    const hot = Array.from({ length: 50 }, (_, i) => `hot-${i}`)
    for (let round = 0; round < 20; round++) {
      for (const key of hot) if (table.read(key) === -1) table.set(key, 1)
    }
    for (let i = 0; i < 10_000; i++) if (table.read(`scan-${i}`) === -1) table.set(`scan-${i}`, 1)
    const kept = hot.filter((key) => table.find(key) !== -1).length
    expect(kept).toBeGreaterThanOrEqual(45)
  })
})
