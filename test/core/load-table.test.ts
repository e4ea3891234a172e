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

  it('tells an index holder when its load is gone, even once the index names another load', () => {
    const table = new LoadTable<{ id: string }>()
    const first = { id: 'first' }
    const index = table.add(first)
    const generation = table.generation(index)
    expect(table.at(index, generation)).toBe(first)
    table.delete(index)
    expect(table.at(index, generation)).toBeUndefined()
    const next = { id: 'next' }
    expect(table.add(next)).toBe(index)
    expect(table.at(index, generation)).toBeUndefined()
    expect(table.at(index, table.generation(index))).toBe(next)
  })
})
