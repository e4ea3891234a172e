import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { FamilyTable } from '../../src/families/family-table.js'

type Op =
  | { readonly kind: 'read'; readonly key: number }
  | { readonly kind: 'set'; readonly key: number; readonly weight: number }
  | { readonly kind: 'delete'; readonly key: number }
  | { readonly kind: 'evictFirst'; readonly key: number; readonly yes: boolean }

// A small key space (so keys come back) with some keys given as numbers and some as strings.
const key = fc.integer({ min: 0, max: 40 })
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: key.map((k) => ({ kind: 'read' as const, key: k })) },
  {
    weight: 4,
    arbitrary: fc
      .tuple(key, fc.integer({ min: 0, max: 6 }))
      .map(([k, weight]) => ({ kind: 'set' as const, key: k, weight })),
  },
  { weight: 1, arbitrary: key.map((k) => ({ kind: 'delete' as const, key: k })) },
  {
    weight: 1,
    arbitrary: fc.tuple(key, fc.boolean()).map(([k, yes]) => ({ kind: 'evictFirst' as const, key: k, yes })),
  },
)

const asKey = (k: number) => (k % 2 === 0 ? k : String(k))

describe.each(['tinylfu', 'lru'] as const)('FamilyTable under random operations (%s)', (policy) => {
  it('keeps its bounds, forgets evicted keys, and agrees with a model of what it holds', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.option(fc.integer({ min: 6, max: 30 }), { nil: undefined }),
        fc.array(op, { maxLength: 300 }),
        fc.integer(),
        (maxKeys, maxSize, ops, seed) => {
          // The model: key -> [value, weight], updated by sets, deletes and the eviction listener.
          const model = new Map<string, readonly [number, number]>()
          const evicted: string[] = []
          let value = 0
          const table = new FamilyTable<number>({
            maxKeys,
            maxSize,
            policy,
            seed,
            onEvict: (k, v) => {
              expect(model.get(k)?.[0]).toBe(v)
              model.delete(k)
              evicted.push(k)
            },
          })
          for (const o of ops) {
            const k = asKey(o.key)
            const name = String(k)
            evicted.length = 0
            if (o.kind === 'read') {
              const slot = table.read(k)
              expect(slot !== -1).toBe(model.has(name))
              if (slot !== -1) expect(table.table.valueAt(slot)).toBe(model.get(name)![0])
            } else if (o.kind === 'set') {
              value++
              model.set(name, [value, o.weight])
              const slot = table.set(k, value, o.weight)
              // The key is kept unless it was evicted by this very set.
              expect(slot === -1).toBe(evicted.includes(name) || !model.has(name))
              if (slot === -1) model.delete(name)
              else expect(table.table.keyAt(slot)).toBe(name)
            } else if (o.kind === 'delete') {
              expect(table.delete(k)).toBe(model.delete(name))
            } else {
              const slot = table.find(k)
              if (slot !== -1) {
                table.setEvictFirst(slot, o.yes)
                expect(table.isEvictFirst(slot)).toBe(o.yes)
              }
            }
            // Bounds.
            expect(table.size).toBeLessThanOrEqual(maxKeys)
            if (maxSize !== undefined) expect(table.weight).toBeLessThanOrEqual(maxSize)
            // Evicted keys are gone.
            for (const gone of evicted) expect(table.find(gone)).toBe(-1)
            // The table holds exactly the model's keys, each in its own slot with its value.
            expect(table.size).toBe(model.size)
            expect(new Set(table.keys())).toEqual(new Set(model.keys()))
            const slots = new Set<number>()
            let weight = 0
            for (const [name, [v, w]] of model) {
              const slot = table.find(name)
              expect(slot).not.toBe(-1)
              expect(table.table.keyAt(slot)).toBe(name)
              expect(table.table.valueAt(slot)).toBe(v)
              slots.add(slot)
              weight += maxSize === undefined ? 1 : w
            }
            expect(slots.size).toBe(model.size)
            expect(table.weight).toBe(weight)
          }
        },
      ),
      { numRuns: 200 },
    )
  })
})
