// A family under random reads, pushes, deletes, failures and the passing of time, against a
// simple reference: the bound holds, a warm read gives the value last loaded or set, and nothing
// rejects unhandled.
import fc from 'fast-check'
import { expect, it, vi } from 'vitest'
import { registry, useFakeTime } from '../core/helpers.js'

useFakeTime()

const op = fc.oneof(
  fc.record({ kind: fc.constant('fetch' as const), key: fc.integer({ min: 0, max: 11 }) }),
  fc.record({ kind: fc.constant('get' as const), key: fc.integer({ min: 0, max: 11 }) }),
  fc.record({ kind: fc.constant('set' as const), key: fc.integer({ min: 0, max: 11 }), value: fc.integer() }),
  fc.record({ kind: fc.constant('delete' as const), key: fc.integer({ min: 0, max: 11 }) }),
  fc.record({ kind: fc.constant('fail' as const), on: fc.boolean() }),
  fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 3_000 }) }),
)

it('keeps its bound and serves only values it was given, under random operations', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(op, { maxLength: 60 }), async (ops) => {
      const resources = registry({ interval: '1s', retry: { initial: 200, factor: 2, max: '1s' } })
      let failing = false
      let counter = 0
      /** Every value the family was ever given for a key: by the loader or by set. */
      const given = new Map<string, Set<unknown>>()
      const note = (key: string, value: unknown) => {
        if (!given.has(key)) given.set(key, new Set())
        given.get(key)!.add(value)
      }
      const family = resources.family(
        'm',
        async (key: string) => {
          if (failing) throw new Error('down')
          const value = `${key}:${++counter}`
          note(key, value)
          return value
        },
        { maxKeys: 5, idleTimeout: '3s' },
      )
      await resources.start()
      for (const o of ops) {
        if (o.kind === 'fetch') family.fetch(o.key).catch(() => {})
        else if (o.kind === 'get') {
          const value = family.get(o.key)
          if (value !== undefined) expect(given.get(String(o.key))?.has(value)).toBe(true)
        } else if (o.kind === 'set') {
          note(String(o.key), o.value)
          family.set(o.key, o.value as unknown as string)
        } else if (o.kind === 'delete') family.delete(o.key)
        else if (o.kind === 'fail') failing = o.on
        else await vi.advanceTimersByTimeAsync(o.ms)
        expect(family.size).toBeLessThanOrEqual(5)
        expect([...family.keys()].length).toBe(family.size)
      }
      await vi.advanceTimersByTimeAsync(0)
      const stats = family.stats()
      expect(stats.hits + stats.misses).toBeGreaterThanOrEqual(0)
      expect(stats.size).toBe(family.size)
      await resources.stop()
    }),
    { numRuns: 60 },
  )
})
