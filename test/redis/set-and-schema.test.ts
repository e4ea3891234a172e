// set() in fleet mode, and schemaVersion and validate across replicas, on a real redis-server.
import { describe, expect, it } from 'vitest'
import { type EvergreenError, InvalidValueError, Resources } from '../../src/index.js'
import { freshPrefix, pause, subscribed, until, useRedis } from './helpers.js'

const redis = useRedis()

/** A replica on a store of its own (own connections) under `prefix`, listening to the fleet. */
async function replica(prefix: string, options: { schemaVersion?: number; errors?: EvergreenError[] } = {}) {
  const store = redis.store({ prefix, leaseTtl: 3_000 })
  const resources = new Resources({
    interval: '1h',
    jitter: 0,
    store,
    ...(options.schemaVersion === undefined ? {} : { schemaVersion: options.schemaVersion }),
    onError: (error) => options.errors?.push(error),
  })
  await subscribed(store, redis.client(), prefix)
  return { resources, store }
}

describe('the Redis store', () => {
  it("keeps an entry's schemaVersion, and a write without one removes it", async () => {
    const store = redis.store()
    expect(await store.set('a', { value: 1, version: 1, loadedAt: Date.now(), schemaVersion: 3 })).toBe(true)
    expect(await store.get('a')).toMatchObject({ value: 1, version: 1, schemaVersion: 3 })
    expect(await store.set('a', { value: 2, version: 2, loadedAt: Date.now() })).toBe(true)
    expect(await store.get('a')).not.toHaveProperty('schemaVersion')
    expect(await store.set('a', { value: 3, version: 3, loadedAt: Date.now(), schemaVersion: 0 })).toBe(true)
    expect((await store.get('a'))?.schemaVersion).toBe(0)
  })

  it('gives the next fencing token without the lease, above the counter and the stored version', async () => {
    const store = redis.store()
    const lease = await store.fleet.acquire('a', 0)
    expect(lease?.token).toBe(1)
    expect(await store.fleet.token?.('a', 0)).toBe(2)
    expect(await store.fleet.token?.('a', 10)).toBe(11)
    // The lease taken before is now behind: its write is refused.
    expect(await store.set('a', { value: 'x', version: 11, loadedAt: Date.now() })).toBe(true)
    expect(await store.set('a', { value: 'late', version: lease?.token ?? 0, loadedAt: Date.now() })).toBe(
      false,
    )
  })
})

describe('set() in fleet mode', () => {
  it('is written under the next fencing token and announced: another replica takes it', async () => {
    const prefix = freshPrefix()
    const a = await replica(prefix)
    const b = await replica(prefix)
    try {
      const podsA = a.resources.define('pods', () => 'loaded')
      const podsB = b.resources.define('pods', () => 'loaded by b')
      await a.resources.start({ wait: true })
      await b.resources.start({ wait: true })
      podsA.set('pushed')
      expect(podsA.get()).toBe('pushed')
      await until(() => podsB.peek().value === 'pushed', 5_000, 'replica b takes the pushed value')
      expect(podsB.peek().source).toBe('fleet')
      const stored = await a.store.get('pods')
      expect(stored?.value).toBe('pushed')
      expect(podsA.peek().version).toBe(stored?.version)
    } finally {
      await Promise.all([a.resources.stop(), b.resources.stop()])
    }
  })

  it('wins over a load another replica began under the lease before it', async () => {
    const prefix = freshPrefix()
    const a = await replica(prefix)
    const b = await replica(prefix)
    try {
      const podsA = a.resources.define('pods', () => 'a')
      let release: (() => void) | undefined
      const podsB = b.resources.define(
        'pods',
        () => new Promise<string>((r) => (release = () => r('slow load'))),
      )
      await a.resources.start({ wait: true })
      // b loads under the lease (refresh() takes it if free) and hangs.
      await pause(50)
      const refreshed = podsB.refresh()
      await until(() => release !== undefined, 2_000, 'b is loading')
      podsA.set('pushed')
      await until(
        async () => (await a.store.get('pods'))?.value === 'pushed',
        2_000,
        'the pushed value is written',
      )
      release?.()
      await refreshed.catch(() => {})
      await until(() => podsB.peek().value === 'pushed', 5_000, 'b takes the pushed value over its own load')
      await pause(100)
      expect((await a.store.get('pods'))?.value).toBe('pushed')
      expect(podsA.get()).toBe('pushed')
    } finally {
      await Promise.all([a.resources.stop(), b.resources.stop()])
    }
  })
})

describe('across a deploy', () => {
  it('a replica ignores entries of another schema version, loads its own, and does not count them fresh', async () => {
    const prefix = freshPrefix()
    const errors: EvergreenError[] = []
    const old = await replica(prefix, { schemaVersion: 1 })
    const next = await replica(prefix, { schemaVersion: 2, errors })
    try {
      old.resources.define('pods', () => ({ names: ['a'] }))
      await old.resources.start({ wait: true })
      let loads = 0
      const pods = next.resources.define('pods', () => {
        loads++
        return { items: [{ name: 'a' }] }
      })
      await next.resources.start({ wait: true })
      expect(pods.get()).toEqual({ items: [{ name: 'a' }] })
      expect(loads).toBe(1)
      expect(errors).toEqual([])
      const stored = await next.store.get('pods')
      expect(stored).toMatchObject({ schemaVersion: 2, version: 2 })
    } finally {
      await Promise.all([old.resources.stop(), next.resources.stop()])
    }
  })

  it("does not serve another replica's value that fails validate, and reports it", async () => {
    const prefix = freshPrefix()
    const errors: EvergreenError[] = []
    const a = await replica(prefix)
    const b = await replica(prefix, { errors })
    try {
      const podsA = a.resources.define<unknown>('pods', () => ['ok'])
      const podsB = b.resources.define<unknown>('pods', () => ['ok'], {
        validate: (v) => Array.isArray(v),
      })
      await a.resources.start({ wait: true })
      await b.resources.start({ wait: true })
      podsA.set('not an array')
      await until(() => errors.length > 0, 5_000, 'b reports the invalid value')
      expect(errors[0]).toBeInstanceOf(InvalidValueError)
      expect(errors[0]).toMatchObject({ source: 'fleet', resource: 'pods' })
      expect(podsB.get()).toEqual(['ok'])
    } finally {
      await Promise.all([a.resources.stop(), b.resources.stop()])
    }
  })
})
