import { describe, expect, it } from 'vitest'
import { LoadTable } from '../../src/core/load-table.js'

describe('the table of loads in flight', () => {
  it('gives each load an index, finds it there, and reuses freed indices first', () => {
    const table = new LoadTable<{ id: string }>()
    const a = { id: 'a' }
    const b = { id: 'b' }
    const ia = table.add(a)
    const ib = table.add(b)
    expect(ia).not.toBe(ib)
    expect(table.get(ia)).toBe(a)
    expect(table.get(-1)).toBeUndefined()
    table.delete(ia)
    expect(table.get(ia)).toBeUndefined()
    expect(table.size).toBe(1)
    const c = { id: 'c' }
    expect(table.add(c)).toBe(ia)
    expect(table.size).toBe(2)
  })

  it('keeps every load it holds through growth and any order of frees', () => {
    const table = new LoadTable<{ id: number }>()
    const held = new Map<number, { id: number }>()
    let id = 0
    // A fixed pseudo-random sequence of adds and deletes, well past the initial room of 16.
    let seed = 7
    const next = () => {
      seed = (seed * 48271) % 2147483647
      return seed
    }
    for (let step = 0; step < 5_000; step++) {
      if (held.size === 0 || next() % 3 !== 0) {
        const load = { id: id++ }
        const index = table.add(load)
        expect(held.has(index)).toBe(false)
        held.set(index, load)
      } else {
        const indices = [...held.keys()]
        const index = indices[next() % indices.length] as number
        table.delete(index)
        held.delete(index)
      }
      expect(table.size).toBe(held.size)
    }
    for (const [index, load] of held) expect(table.at(index, table.ticket(index))).toBe(load)
  })

  it('tells an index holder when its load is gone, even once the index names another load', () => {
    const table = new LoadTable<{ id: string }>()
    const first = { id: 'first' }
    const index = table.add(first)
    const ticket = table.ticket(index)
    expect(table.at(index, ticket)).toBe(first)
    table.delete(index)
    expect(table.at(index, ticket)).toBeUndefined()
    const next = { id: 'next' }
    expect(table.add(next)).toBe(index)
    expect(table.at(index, ticket)).toBeUndefined()
    expect(table.at(index, table.ticket(index))).toBe(next)
  })
})
