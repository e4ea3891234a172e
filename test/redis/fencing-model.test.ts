// The Redis store's fenced writes under random interleavings, against a real redis-server: two stores
// on one prefix write versions of a few entries concurrently (versions of one, two and three digits,
// so a comparison of text instead of numbers would show), leases are taken and their tokens used as
// versions. Whatever the order, the stored entry is the highest version written, each write is told
// truly whether it landed, and every lease token is above every version stored before it was granted.
import fc from 'fast-check'
import { expect, it } from 'vitest'
import type { FleetStore } from '../../src/stores/store.js'
import { freshPrefix, useRedis } from './helpers.js'

const redis = useRedis()
const NAMES = ['a', 'b'] as const
type Name = (typeof NAMES)[number]

type Command =
  | { readonly kind: 'set'; readonly store: 0 | 1; readonly name: Name; readonly version: number }
  | { readonly kind: 'lease'; readonly store: 0 | 1; readonly name: Name; readonly floor: number }
  | { readonly kind: 'settle' }

const which = fc.constantFrom<0 | 1>(0, 1)
const name = fc.constantFrom(...NAMES)
const version = fc.oneof(
  fc.integer({ min: 1, max: 12 }),
  fc.integer({ min: 90, max: 110 }),
  fc.integer({ min: 990, max: 1_010 }),
)
const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('set' as const), store: which, name, version }) },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('lease' as const), store: which, name, floor: version }),
  },
  { weight: 2, arbitrary: fc.constant({ kind: 'settle' as const }) },
)

it('keeps the highest version of concurrent writes and leases, and tells each write truly whether it landed', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 25 }), async (commands) => {
      const prefix = freshPrefix('fencing')
      const stores: [FleetStore, FleetStore] = [redis.store({ prefix }), redis.store({ prefix, via: 'url' })]
      const problems: string[] = []
      /** Per name: every version written that was acknowledged, and every version tried. */
      const landed = new Map<Name, number[]>(NAMES.map((n) => [n, []]))
      const tried = new Map<Name, number[]>(NAMES.map((n) => [n, []]))
      let inFlight: Promise<unknown>[] = []

      for (const c of commands) {
        if (c.kind === 'set') {
          tried.get(c.name)!.push(c.version)
          inFlight.push(
            stores[c.store]
              .set(c.name, { value: `${c.name}@${c.version}`, version: c.version, loadedAt: c.version })
              .then((written) => {
                if (written) landed.get(c.name)!.push(c.version)
              }),
          )
        } else if (c.kind === 'lease') {
          // Writes answered before the lease was asked for are below its token.
          await Promise.all(inFlight)
          inFlight = []
          const before = (await stores[c.store].fleet.head(c.name))?.version ?? 0
          const lease = await stores[c.store].fleet.acquire(c.name, c.floor)
          if (lease !== undefined) {
            if (!(lease.token > before && lease.token > c.floor))
              problems.push(`lease of ${c.name}: token ${lease.token}, stored ${before}, floor ${c.floor}`)
            await lease.release()
          } else if (before <= c.floor) {
            problems.push(`lease of ${c.name} refused with nothing held, stored ${before}, floor ${c.floor}`)
          }
        } else {
          await Promise.all(inFlight)
          inFlight = []
        }
        if (problems.length > 0) break
      }
      await Promise.all(inFlight)

      for (const n of NAMES) {
        const entry = await stores[0].get(n)
        const highest = Math.max(0, ...tried.get(n)!)
        const acknowledged = landed.get(n)!
        // The highest version tried always lands (nothing can refuse it), and the entry holds it.
        if ((entry?.version ?? 0) !== highest || (entry !== undefined && entry.value !== `${n}@${highest}`))
          problems.push(`${n}: stored ${JSON.stringify(entry)}, highest written ${highest}`)
        if (highest > 0 && !acknowledged.includes(highest))
          problems.push(`${n}: v${highest} landed but was refused`)
        // A write acknowledged is one that landed over lower versions only: acknowledged versions of a
        // name are all different.
        if (new Set(acknowledged).size !== acknowledged.length) problems.push(`${n}: a version landed twice`)
      }
      await Promise.all(stores.map((s) => s.close()))
      expect(problems).toEqual([])
    }),
    { numRuns: Number(process.env.FENCING_MODEL_RUNS ?? 40) },
  )
}, 120_000)
