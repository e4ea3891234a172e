import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type HeapEntry, MinHeap } from '../../src/scheduling/heap.js'

interface Entry extends HeapEntry {
  readonly id: number
}

const entry = (id: number): Entry => ({ id, at: 0, seq: 0, slot: -1 })
const earlier = (a: Entry, b: Entry) => a.at < b.at || (a.at === b.at && a.seq < b.seq)

describe('the min-heap', () => {
  it('always yields the earliest entry, whatever the pushes, moves and removals (property)', () => {
    type Op =
      | { kind: 'push'; id: number; at: number }
      | { kind: 'move'; id: number; at: number }
      | { kind: 'remove'; id: number }
      | { kind: 'pop' }
    const id = fc.integer({ min: 0, max: 40 })
    // Few distinct times, so ties (broken by sequence) are common.
    const at = fc.integer({ min: 0, max: 20 })
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ kind: fc.constant('push' as const), id, at }),
      fc.record({ kind: fc.constant('move' as const), id, at }),
      fc.record({ kind: fc.constant('remove' as const), id }),
      fc.constant({ kind: 'pop' as const }),
    )
    fc.assert(
      fc.property(fc.array(op, { minLength: 20, maxLength: 300, size: 'max' }), (ops) => {
        const heap = new MinHeap<Entry>()
        const entries = Array.from({ length: 41 }, (_, i) => entry(i))
        const inHeap = new Set<Entry>()
        let seq = 0
        for (const o of ops) {
          if (o.kind === 'pop') {
            const top = heap.peek()
            const expected = [...inHeap].sort((a, b) => (earlier(a, b) ? -1 : 1))[0]
            expect(top).toBe(expected)
            if (top !== undefined) {
              heap.remove(top)
              inHeap.delete(top)
            }
            continue
          }
          const e = entries[o.id]!
          if (o.kind === 'remove') {
            heap.remove(e)
            inHeap.delete(e)
          } else if (o.kind === 'push' && !inHeap.has(e)) {
            e.at = o.at
            e.seq = seq++
            heap.push(e)
            inHeap.add(e)
          } else if (o.kind === 'move' && inHeap.has(e)) {
            e.at = o.at
            e.seq = seq++
            heap.update(e)
          }
          expect(heap.size).toBe(inHeap.size)
        }
        expect(entries.filter((x) => x.slot !== -1)).toEqual(entries.filter((x) => inHeap.has(x)))
        // Draining yields every entry once, in order.
        const drained: Entry[] = []
        for (let top = heap.peek(); top !== undefined; top = heap.peek()) {
          heap.remove(top)
          drained.push(top)
        }
        expect(drained).toEqual([...inHeap].sort((a, b) => (earlier(a, b) ? -1 : 1)))
      }),
      { numRuns: 100 },
    )
  })

  it('grows past its initial capacity and reuses the handles of removed entries', () => {
    const heap = new MinHeap<Entry>()
    const entries = Array.from({ length: 1_000 }, (_, i) => entry(i))
    for (const e of entries) {
      e.at = (e.id * 7919) % 1_000
      heap.push(e)
    }
    for (const e of entries.slice(0, 500)) heap.remove(e)
    for (const e of entries.slice(0, 500)) heap.push(e)
    expect(Math.max(...entries.map((e) => e.slot))).toBeLessThan(1_000)
    const order: number[] = []
    for (let top = heap.peek(); top !== undefined; top = heap.peek()) {
      heap.remove(top)
      order.push(top.at)
    }
    expect(order).toEqual([...order].sort((a, b) => a - b))
    expect(entries.every((e) => e.slot === -1)).toBe(true)
  })
})
