import { describe, expect, it } from 'vitest'
import { KeyTable } from '../../src/families/key-table.js'

describe('KeyTable', () => {
  it('maps each key to its own slot, with the value and zeroed fields', () => {
    const table = new KeyTable<string>(100)
    const a = table.insert('a', 'A')
    const b = table.insert('b', 'B')
    expect(a).not.toBe(b)
    expect(table.slotOf('a')).toBe(a)
    expect(table.slotOf('b')).toBe(b)
    expect(table.slotOf('c')).toBe(-1)
    expect(table.valueAt(a)).toBe('A')
    expect(table.keyAt(b)).toBe('b')
    expect(table.size).toBe(2)
    expect([table.version(a), table.updatedAt(a), table.lastReadAt(a), table.nextDueAt(a)]).toEqual([
      0, 0, 0, 0,
    ])
    expect([table.failures(a), table.phase(a)]).toEqual([0, 0])
  })

  it('keeps each field per slot', () => {
    const table = new KeyTable<number>(10)
    const slot = table.insert('k', 1)
    table.setVersion(slot, 2 ** 53 - 1)
    table.setUpdatedAt(slot, 1_700_000_000_123.5)
    table.setLastReadAt(slot, 5)
    table.setNextDueAt(slot, 6)
    table.setFailures(slot, 3)
    table.setPhase(slot, 4)
    const other = table.insert('other', 2)
    expect(table.version(slot)).toBe(2 ** 53 - 1)
    expect(table.updatedAt(slot)).toBe(1_700_000_000_123.5)
    expect([table.lastReadAt(slot), table.nextDueAt(slot), table.failures(slot), table.phase(slot)]).toEqual([
      5, 6, 3, 4,
    ])
    expect(table.version(other)).toBe(0)
  })

  it('saturates the failure count instead of wrapping', () => {
    const table = new KeyTable<number>(2)
    const slot = table.insert('k', 1)
    table.setFailures(slot, 10_000)
    expect(table.failures(slot)).toBe(255)
  })

  it('reuses the slot of a removed key and clears its fields', () => {
    const table = new KeyTable<string>(10)
    const first = table.insert('a', 'A')
    table.setVersion(first, 9)
    table.setFailures(first, 2)
    table.remove(first)
    expect(table.slotOf('a')).toBe(-1)
    expect(table.isUsed(first)).toBe(false)
    expect(table.valueAt(first)).toBeUndefined()
    const again = table.insert('b', 'B')
    expect(again).toBe(first)
    expect(table.version(again)).toBe(0)
    expect(table.failures(again)).toBe(0)
    table.remove(again)
    table.remove(again)
    expect(table.size).toBe(0)
  })

  it('grows by doubling up to its maximum, keeping every key and field, then refuses more', () => {
    const table = new KeyTable<number>(1_000)
    for (let i = 0; i < 1_000; i++) table.setVersion(table.insert(`k${i}`, i), i * 2)
    expect(table.capacity).toBe(1_000)
    for (let i = 0; i < 1_000; i++) {
      const slot = table.slotOf(`k${i}`)
      expect(table.valueAt(slot)).toBe(i)
      expect(table.version(slot)).toBe(i * 2)
    }
    expect(() => table.insert('one too many', 0)).toThrow(RangeError)
  })

  it('lists the held keys and slots', () => {
    const table = new KeyTable<number>(10)
    table.insert('x', 1)
    table.remove(table.insert('y', 2))
    table.insert('z', 3)
    expect([...table.keys()]).toEqual(['x', 'z'])
    expect([...table.slots()].map((s) => table.keyAt(s))).toEqual(['x', 'z'])
  })
})
