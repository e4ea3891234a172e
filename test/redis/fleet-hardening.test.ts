// The core's fleet guarantees against a real redis-server: a flood of forged announcements, a holder
// that outlives its lease, an older load written above a replica's version, a forged load time a day
// ahead. The same rules with fake timers: test/fleet/hardening.test.ts.
import { describe, expect, it } from 'vitest'
import { Resources } from '../../src/index.js'
import type { FleetStore } from '../../src/stores/store.js'
import { freshPrefix, pause, subscribed, until, useRedis } from './helpers.js'

const redis = useRedis()
const DAY = 24 * 3_600_000

/** `store`, counting its reads of whole entries. */
function counting(store: FleetStore): { store: FleetStore; reads: () => number } {
  let reads = 0
  return {
    store: {
      ...store,
      get: (name) => {
        reads++
        return store.get(name)
      },
    },
    reads: () => reads,
  }
}

/** Blocks the whole process for `ms`, as SIGSTOP would: no timer, no renewal, no I/O runs. */
function freeze(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}

describe('fleet mode on Redis, hardened', { timeout: 30_000 }, () => {
  it('reads the shared entry a handful of times for 5,000 forged announcements', async () => {
    const prefix = freshPrefix()
    const a = counting(redis.store({ prefix }))
    const b = counting(redis.store({ prefix }))
    const replicas = [a, b].map(({ store }) => {
      const resources = new Resources({ interval: '1m', store })
      resources.define('k', () => 'v')
      return resources
    })
    try {
      for (const r of replicas) await r.start({ wait: true })
      const publisher = redis.client()
      await subscribed(a.store, publisher, prefix)
      await subscribed(b.store, publisher, prefix)
      const before = a.reads() + b.reads()
      const sends: Promise<unknown>[] = []
      for (let i = 0; i < 5_000; i++)
        sends.push(publisher.publish(`${prefix}:changes`, JSON.stringify({ n: 'k', v: 100 + i })))
      await Promise.all(sends)
      await pause(300)
      const reads = a.reads() + b.reads() - before
      expect(reads).toBeLessThanOrEqual(20)
      for (const r of replicas) expect(r.get('k')).toBe('v')
    } finally {
      await Promise.all(replicas.map((r) => r.stop()))
    }
  })

  it('does not write a load whose lease expired while the process was frozen', async () => {
    const prefix = freshPrefix()
    const leaseTtl = 200
    const resources = new Resources({ interval: '1m', store: redis.store({ prefix, leaseTtl }) })
    const changes: number[] = []
    const errors: string[] = []
    resources.on('change', (e) => changes.push(e.version))
    resources.on('error', (e) => errors.push(e.error.code))
    resources.define('slow', () => {
      freeze(3 * leaseTtl)
      return 'late'
    })
    try {
      await resources.start()
      await until(() => errors.length > 0, 5_000, 'the load fails')
      expect(errors[0]).toBe('E_LOAD_ABORTED')
      expect(changes).toEqual([])
      const raw = redis.client()
      expect(await raw.exists(`${prefix}:{slow}:value`)).toBe(0)
    } finally {
      await resources.stop()
    }
  })

  it('never goes back to an older load written above its version, and writes its own above it', async () => {
    const prefix = freshPrefix()
    const store = redis.store({ prefix })
    let n = 0
    const resources = new Resources({ interval: '1m', store })
    const served: unknown[] = []
    resources.define('counter', () => ++n).subscribe((v) => served.push(v))
    const other = redis.store({ prefix })
    try {
      await resources.start({ wait: true })
      await subscribed(store, redis.client(), prefix)
      await resources.resource('counter').refresh()
      const mine = resources.resource('counter').peek().version
      // As after Redis lost its data: a write of a load older than ours lands above our version.
      await other.set('counter', { value: 0, version: mine + 5, loadedAt: Date.now() - 60_000 })
      await until(
        async () => ((await other.fleet.head('counter'))?.version ?? 0) > mine + 5,
        5_000,
        'the replica writes its own value above the older one',
      )
      expect(served).toEqual([1, 2])
      expect(resources.get('counter')).toBe(2)
      expect(await other.get('counter')).toMatchObject({ value: 2, version: mine + 6 })
    } finally {
      await resources.stop()
    }
  })

  it('ages a value whose shared load time was forged a day ahead from when it was taken', async () => {
    const prefix = freshPrefix()
    const forger = redis.store({ prefix })
    await forger.set('rates', { value: 'forged', version: 1, loadedAt: Date.now() + DAY })
    const resources = new Resources({ interval: 500, store: redis.store({ prefix }) })
    let loads = 0
    resources.define('rates', () => {
      loads++
      return 'fresh'
    })
    try {
      await resources.start({ wait: true })
      const took = Date.now()
      await pause(200)
      expect(resources.resource('rates').peek().age).toBeGreaterThanOrEqual(Date.now() - took - 50)
      const next = resources.status().resources[0]?.nextRefreshIn ?? Number.POSITIVE_INFINITY
      expect(next).toBeLessThanOrEqual(500)
      await until(() => loads > 0, 3_000, 'the value is refreshed within an interval')
    } finally {
      await resources.stop()
    }
  })
})
