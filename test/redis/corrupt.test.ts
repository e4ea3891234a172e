// Keys that hold something a store never writes — a lease without expiry left by a restore, versions
// such as `inf` or `1e300`, garbage, keys of another type — are reported as a StoreError naming the
// resource, never adopted, and repaired by the next lease and fenced write: they never stop a
// resource from refreshing.
import { describe, expect, it } from 'vitest'
import { Resources, StoreError } from '../../src/index.js'
import type { FleetStore } from '../../src/stores/store.js'
import { freshPrefix, until, useRedis } from './helpers.js'

const redis = useRedis()

/** A store on a fresh prefix whose reports are collected. */
function reportingStore(options: { leaseTtl?: number } = {}) {
  const prefix = freshPrefix('corrupt')
  const reports: { error: unknown; resource: string | undefined }[] = []
  const store: FleetStore = redis.store({ prefix, ...options })
  store.attach?.({ reportError: (error, resource) => reports.push({ error, resource }) })
  return { prefix, store, reports }
}

const BAD_VERSIONS = [
  'inf',
  '-inf',
  'nan',
  '1e300',
  '1e+300',
  '-1',
  '0',
  '1.5',
  '0x10',
  ' 5',
  '5 ',
  '',
  'garbage',
  '9007199254740992',
  '99999999999999999999',
]

describe('redisStore: corrupt versions', () => {
  it.each(BAD_VERSIONS)(
    'treats the version %j as corrupt: reported, not adopted, then replaced',
    async (bad) => {
      const { prefix, store, reports } = reportingStore()
      await redis.server.command(
        'HSET',
        `${prefix}:{pods}:value`,
        'version',
        bad,
        'loadedAt',
        1,
        'value',
        '"forged"',
      )

      expect(await store.fleet.head('pods')).toBeUndefined()
      expect(await store.get('pods')).toBeUndefined()
      expect(reports.length).toBeGreaterThanOrEqual(2)
      for (const { error, resource } of reports) {
        expect(error).toBeInstanceOf(StoreError)
        expect((error as StoreError).resource).toBe('pods')
        expect(resource).toBe('pods')
        expect((error as StoreError).message).toContain('corrupt')
      }

      // The lease is granted (the corrupt version blocks nobody) and the fenced write repairs the entry.
      const lease = await store.fleet.acquire('pods', 3)
      expect(lease?.token).toBe(4)
      expect(await store.set('pods', { value: 'fresh', version: lease!.token, loadedAt: 2 })).toBe(true)
      expect(await store.get('pods')).toEqual({ value: 'fresh', version: 4, loadedAt: 2 })
    },
  )

  it('writes over a corrupt version without a lease too (a replica loading on its own)', async () => {
    const { prefix, store } = reportingStore()
    await redis.server.command(
      'HSET',
      `${prefix}:{pods}:value`,
      'version',
      'inf',
      'loadedAt',
      1,
      'value',
      '1',
    )
    expect(await store.set('pods', { value: 'mine', version: 1, loadedAt: 1 })).toBe(true)
    expect(await store.fleet.head('pods')).toEqual({ version: 1, loadedAt: 1 })
  })

  it.each(['inf', '1e300', 'garbage', '-5', '1.5'])(
    'ignores a token counter of %j: tokens stay above the floor',
    async (bad) => {
      const { prefix, store } = reportingStore()
      await redis.server.command('SET', `${prefix}:{pods}:fence`, bad)
      const lease = await store.fleet.acquire('pods', 7)
      expect(lease?.token).toBe(8)
      expect(await redis.server.command('GET', `${prefix}:{pods}:fence`)).toBe('8')
    },
  )

  it('writes tokens and versions near 2^53 in full digits, never in exponent form', async () => {
    const { prefix, store } = reportingStore()
    const floor = Number.MAX_SAFE_INTEGER - 1
    const lease = (await store.fleet.acquire('pods', floor))!
    expect(lease.token).toBe(Number.MAX_SAFE_INTEGER)
    expect(await redis.server.command('GET', `${prefix}:{pods}:fence`)).toBe(String(Number.MAX_SAFE_INTEGER))
    expect(await store.set('pods', { value: 1, version: lease.token, loadedAt: 1 })).toBe(true)
    expect((await store.fleet.head('pods'))?.version).toBe(Number.MAX_SAFE_INTEGER)
  })

  it('refuses to write a version that is not a positive safe integer', async () => {
    const { store } = reportingStore()
    for (const version of [0, -1, 1.5, Number.POSITIVE_INFINITY, Number.NaN, 2 ** 53]) {
      await expect(store.set('pods', { value: 1, version, loadedAt: 1 })).rejects.toBeInstanceOf(StoreError)
    }
    expect(await store.fleet.head('pods')).toBeUndefined()
  })
})

describe('redisStore: other corrupt entries', () => {
  it.each([
    ['a load time that is not a number', ['version', '3', 'loadedAt', 'soon', 'value', '1']],
    ['a load time out of range', ['version', '3', 'loadedAt', '1e300', 'value', '1']],
    ['no load time', ['version', '3', 'value', '1']],
    ['no version', ['loadedAt', '1', 'value', '1']],
  ])('treats an entry with %s as corrupt', async (_, fields) => {
    const { prefix, store, reports } = reportingStore()
    await redis.server.command('HSET', `${prefix}:{pods}:value`, ...fields)
    expect(await store.fleet.head('pods')).toBeUndefined()
    expect(reports.map((r) => r.resource)).toEqual(['pods'])
    expect(await store.fleet.acquire('pods', 0)).toBeDefined()
    expect(await store.set('pods', { value: 'ok', version: 1, loadedAt: 5 })).toBe(true)
    expect(await store.get('pods')).toEqual({ value: 'ok', version: 1, loadedAt: 5 })
  })

  it('treats an entry with no value as corrupt on get()', async () => {
    const { prefix, store, reports } = reportingStore()
    await redis.server.command('HSET', `${prefix}:{pods}:value`, 'version', '3', 'loadedAt', '1')
    expect(await store.get('pods')).toBeUndefined()
    expect(reports).toHaveLength(1)
  })

  it('treats keys of another type as corrupt, and replaces them', async () => {
    const { prefix, store, reports } = reportingStore({ leaseTtl: 300 })
    await redis.server.command('SET', `${prefix}:{pods}:value`, 'a string')
    await redis.server.command('HSET', `${prefix}:{pods}:fence`, 'a', 'hash')
    await redis.server.command('RPUSH', `${prefix}:{pods}:lease`, 'a list')
    expect(await store.fleet.head('pods')).toBeUndefined()
    expect(await store.get('pods')).toBeUndefined()
    expect(reports.length).toBe(2)
    // The list has no expiry: it is given one, and the lease is free once it lapses.
    await until(
      async () => (await store.fleet.acquire('pods', 0)) !== undefined,
      3_000,
      'the lease is granted',
    )
    expect(await store.set('pods', { value: 'ok', version: 2, loadedAt: 5 })).toBe(true)
    expect(await store.get('pods')).toEqual({ value: 'ok', version: 2, loadedAt: 5 })
  })
})

describe('redisStore: a lease key without expiry', () => {
  it('is broken after one lease TTL, and reported', async () => {
    const { prefix, store, reports } = reportingStore({ leaseTtl: 300 })
    // What a restore that drops TTLs leaves behind.
    await redis.server.command('SET', `${prefix}:{pods}:lease`, 'some-owner:9')
    const started = Date.now()
    expect(await store.fleet.acquire('pods', 0)).toBeUndefined()
    expect(reports.map((r) => [r.resource, (r.error as StoreError).code])).toEqual([['pods', 'E_STORE']])
    expect(Number(await redis.server.command('PTTL', `${prefix}:{pods}:lease`))).toBeGreaterThan(0)
    await until(
      async () => (await store.fleet.acquire('pods', 0)) !== undefined,
      3_000,
      'the lease is granted',
    )
    expect(Date.now() - started).toBeGreaterThanOrEqual(250)
    expect(reports).toHaveLength(1)
  })
})

describe('a registry in fleet mode over a corrupt entry', () => {
  it('reports it through onError naming the resource, never adopts it, and goes on refreshing', async () => {
    const prefix = freshPrefix('corrupt')
    await redis.server.command(
      'HSET',
      `${prefix}:{pods}:value`,
      'version',
      '1e300',
      'loadedAt',
      1,
      'value',
      '"forged"',
    )
    await redis.server.command('SET', `${prefix}:{pods}:lease`, 'restored-owner:1')
    await redis.server.command('SET', `${prefix}:{pods}:fence`, 'inf')
    const errors: { code: string; resource: string | undefined }[] = []
    let n = 0
    const resources = new Resources({
      interval: 200,
      jitter: 0.1,
      store: redis.store({ prefix, leaseTtl: 300 }),
      onError: (error, resource) => errors.push({ code: error.code, resource }),
    })
    const pods = resources.define('pods', () => `v${++n}`)
    try {
      await resources.start({ wait: true })
      // Loads go on, and the store follows them once the lease without expiry has lapsed.
      await until(
        async () => (await redis.store({ prefix }).fleet.head('pods'))?.version !== undefined,
        5_000,
        'the entry is repaired',
      )
      const before = pods.peek().version
      await until(() => pods.peek().version > before + 1, 5_000, 'the resource goes on refreshing')
      expect(pods.get()).not.toBe('forged')
      expect(pods.peek().version).toBeLessThan(1_000)
      expect(errors.length).toBeGreaterThan(0)
      expect(errors.every((e) => e.code === 'E_STORE' && e.resource === 'pods')).toBe(true)
    } finally {
      await resources.stop()
    }
  })
})
