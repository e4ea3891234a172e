// The Redis store on its own, against a real redis-server: fenced writes, refresh leases, fencing
// tokens (also after Redis lost its data) and change notifications, hostile ones included.
import { describe, expect, it } from 'vitest'
import { StoreError } from '../../src/core/errors.js'
import type { Lease } from '../../src/stores/fleet.js'
import { freshPrefix, pause, subscribed, until, useRedis } from './helpers.js'

const redis = useRedis()
const VIAS = ['client', 'url'] as const

describe('redisStore: fenced writes', () => {
  it.each(VIAS)('refuses an older or equal version and keeps the newer value (%s)', async (via) => {
    const prefix = freshPrefix()
    const a = redis.store({ via, prefix })
    const b = redis.store({ via, prefix })
    expect(await a.set('pods', { value: 'v5', version: 5, loadedAt: 5_000 })).toBe(true)
    expect(await b.set('pods', { value: 'v4', version: 4, loadedAt: 9_000 })).toBe(false)
    expect(await b.set('pods', { value: 'v5 again', version: 5, loadedAt: 9_000 })).toBe(false)
    expect(await a.get('pods')).toEqual({ value: 'v5', version: 5, loadedAt: 5_000 })
    expect(await b.set('pods', { value: 'v6', version: 6, loadedAt: 6_000 })).toBe(true)
    expect(await a.get('pods')).toEqual({ value: 'v6', version: 6, loadedAt: 6_000 })
  })

  it('gives the head (version and load time) of an entry without its value', async () => {
    const store = redis.store()
    expect(await store.fleet.head('pods')).toBeUndefined()
    await store.set('pods', { value: { big: 'x'.repeat(1_000) }, version: 3, loadedAt: 1_234 })
    expect(await store.fleet.head('pods')).toEqual({ version: 3, loadedAt: 1_234 })
  })

  it('keeps the keys of one prefix away from another', async () => {
    const a = redis.store()
    const b = redis.store()
    await a.set('pods', { value: 'a', version: 1, loadedAt: 1 })
    expect(await b.get('pods')).toBeUndefined()
    expect(await b.list()).toEqual([])
    expect(await b.set('pods', { value: 'b', version: 1, loadedAt: 1 })).toBe(true)
    expect((await a.get('pods'))?.value).toBe('a')
  })

  it('reports a stored value that cannot be decoded as a StoreError naming the resource', async () => {
    const prefix = freshPrefix()
    const store = redis.store({ prefix })
    await redis.server.command(
      'HSET',
      `${prefix}:{pods}:value`,
      'version',
      1,
      'loadedAt',
      1,
      'value',
      '{nope',
    )
    const error = await store.get('pods').then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(StoreError)
    expect((error as StoreError).resource).toBe('pods')
  })
})

describe('redisStore: scripts', () => {
  it('sends its scripts by SHA, and in full again once the server has lost them', async () => {
    const store = redis.store()
    expect(await store.set('pods', { value: 1, version: 1, loadedAt: 1 })).toBe(true)
    await redis.server.command('SCRIPT', 'FLUSH')
    expect(await store.fleet.head('pods')).toEqual({ version: 1, loadedAt: 1 })
    const lease = (await store.fleet.acquire('pods', 1))!
    expect(await lease.renew()).toBe(true)
    expect(await store.set('pods', { value: 2, version: lease.token, loadedAt: 2 })).toBe(true)
    await lease.release()
    const calls = async () => {
      const stats = String(await redis.server.command('INFO', 'commandstats'))
      const count = (command: string) =>
        Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(stats)?.[1])
      return { eval: count('eval'), evalsha: count('evalsha') }
    }
    const before = await calls()
    for (let i = 0; i < 10; i++) await store.fleet.head('pods')
    expect(await calls()).toEqual({ eval: before.eval, evalsha: before.evalsha + 10 })
  })
})

describe('redisStore: refresh leases', () => {
  it('gives the lease of a name to exactly one of many replicas asking at once', async () => {
    const prefix = freshPrefix()
    const stores = Array.from({ length: 8 }, () => redis.store({ prefix, leaseTtl: '5s' }))
    for (let round = 0; round < 5; round++) {
      const leases = await Promise.all(stores.map((s) => s.fleet.acquire(`pods-${round}`, 0)))
      const held = leases.filter((l): l is Lease => l !== undefined)
      expect(held).toHaveLength(1)
    }
  })

  it('refuses the lease to every other replica (and to the holder) while it is held', async () => {
    const prefix = freshPrefix()
    const a = redis.store({ prefix, leaseTtl: '5s' })
    const b = redis.store({ prefix, leaseTtl: '5s' })
    const lease = await a.fleet.acquire('pods', 0)
    expect(lease).toBeDefined()
    expect(await b.fleet.acquire('pods', 0)).toBeUndefined()
    expect(await a.fleet.acquire('pods', 0)).toBeUndefined()
    // Other names are free.
    expect(await b.fleet.acquire('keys', 0)).toBeDefined()
  })

  it('frees the lease on release, and the next holder gets a higher token', async () => {
    const prefix = freshPrefix()
    const a = redis.store({ prefix })
    const b = redis.store({ prefix })
    const first = await a.fleet.acquire('pods', 0)
    await first!.release()
    const second = await b.fleet.acquire('pods', 0)
    expect(second).toBeDefined()
    expect(second!.token).toBeGreaterThan(first!.token)
  })

  it('keeps the lease while it is renewed past its ttl', async () => {
    const prefix = freshPrefix()
    const a = redis.store({ prefix, leaseTtl: 300 })
    const b = redis.store({ prefix, leaseTtl: 300 })
    const lease = (await a.fleet.acquire('pods', 0))!
    const end = Date.now() + 900
    while (Date.now() < end) {
      await pause(100)
      expect(await lease.renew()).toBe(true)
      expect(await b.fleet.acquire('pods', 0)).toBeUndefined()
    }
  })

  it('lets another replica take over once a lease expires unrenewed', async () => {
    const prefix = freshPrefix()
    const a = redis.store({ prefix, leaseTtl: 200 })
    const b = redis.store({ prefix, leaseTtl: 200 })
    const first = (await a.fleet.acquire('pods', 0))!
    await pause(100)
    expect(await b.fleet.acquire('pods', 0)).toBeUndefined()
    let second: Lease | undefined
    await until(
      async () => (second = await b.fleet.acquire('pods', 0)) !== undefined,
      1_000,
      'the expired lease is taken',
    )
    expect(second!.token).toBeGreaterThan(first.token)
  })

  it('checks the owner on renew and release: a lapsed holder can neither extend nor free the new lease', async () => {
    const prefix = freshPrefix()
    const a = redis.store({ prefix, leaseTtl: 150 })
    const b = redis.store({ prefix, leaseTtl: 5_000 })
    const c = redis.store({ prefix, leaseTtl: 5_000 })
    const lapsed = (await a.fleet.acquire('pods', 0))!
    await pause(250)
    const current = (await b.fleet.acquire('pods', 0))!
    expect(current).toBeDefined()
    expect(await lapsed.renew()).toBe(false)
    await lapsed.release()
    expect(await c.fleet.acquire('pods', 0)).toBeUndefined()
    expect(await current.renew()).toBe(true)
  })

  it('checks the owner and the token: the same store cannot renew an older lease of its own', async () => {
    const store = redis.store({ leaseTtl: 150 })
    const old = (await store.fleet.acquire('pods', 0))!
    await pause(250)
    const fresh = (await store.fleet.acquire('pods', 0))!
    expect(fresh.token).toBeGreaterThan(old.token)
    expect(await old.renew()).toBe(false)
    await old.release()
    expect(await store.fleet.acquire('pods', 0)).toBeUndefined()
    await fresh.release()
    expect(await store.fleet.acquire('pods', 0)).toBeDefined()
  })
})

describe('redisStore: fencing tokens', () => {
  it('gives tokens above the floor the replica passes', async () => {
    const store = redis.store()
    const lease = (await store.fleet.acquire('pods', 41))!
    expect(lease.token).toBe(42)
  })

  it('gives tokens above the stored version', async () => {
    const store = redis.store()
    await store.set('pods', { value: 'v100', version: 100, loadedAt: 1 })
    const lease = (await store.fleet.acquire('pods', 100))!
    expect(lease.token).toBe(101)
  })

  it('refuses the lease to a replica that has not seen the stored version: it adopts that value instead of loading again', async () => {
    const prefix = freshPrefix()
    const a = redis.store({ prefix })
    const b = redis.store({ prefix })
    // Both looked at version 4; a refreshed first (took the lease, wrote 5, released it).
    await a.set('pods', { value: 'v4', version: 4, loadedAt: 1 })
    const lease = (await a.fleet.acquire('pods', 4))!
    await a.set('pods', { value: 'v5', version: lease.token, loadedAt: 2 })
    await lease.release()
    // b, still at 4, must not reload what was just loaded.
    expect(await b.fleet.acquire('pods', 4)).toBeUndefined()
    expect(await b.fleet.acquire('pods', lease.token)).toBeDefined()
  })

  it('gives strictly increasing tokens to successive holders, each write winning over the last', async () => {
    const prefix = freshPrefix()
    const stores = [redis.store({ prefix }), redis.store({ prefix }), redis.store({ prefix })]
    let last = 0
    for (let i = 0; i < 30; i++) {
      const store = stores[i % stores.length]!
      const lease = (await store.fleet.acquire('pods', last))!
      expect(lease.token).toBeGreaterThan(last)
      expect(await store.set('pods', { value: i, version: lease.token, loadedAt: i })).toBe(true)
      last = lease.token
      await lease.release()
    }
  })

  it('keeps tokens going up after redis-server is SIGKILLed and restarted empty, thanks to the floor', async () => {
    const client = redis.client()
    const store = redis.store({ client })
    let seen = 0
    for (let i = 0; i < 5; i++) {
      const lease = (await store.fleet.acquire('pods', seen))!
      expect(await store.set('pods', { value: i, version: lease.token, loadedAt: i })).toBe(true)
      seen = lease.token
      await lease.release()
    }
    expect(seen).toBe(5)
    await redis.server.crash()
    // The store reconnects by itself; the data is gone.
    await until(async () => (await client.ping().catch(() => '')) === 'PONG', 5_000, 'redis is back')
    let after: Lease | undefined
    await until(
      async () => (after = await store.fleet.acquire('pods', seen).catch(() => undefined)) !== undefined,
      5_000,
      'the store reconnects and acquires',
    )
    expect(await store.get('pods')).toBeUndefined()
    expect(after!.token).toBeGreaterThan(seen)
    // A stale write with an old version is accepted by the empty store, but the new holder's wins after it.
    expect(await store.set('pods', { value: 'new', version: after!.token, loadedAt: 1 })).toBe(true)
    expect(await store.set('pods', { value: 'stale', version: seen, loadedAt: 1 })).toBe(false)
    // Without the floor, the counter would have started over: that is what the floor is for.
    const other = (await store.fleet.acquire('keys', 0))!
    expect(other.token).toBe(1)
  })
})

describe('redisStore: change notifications', () => {
  it.each(VIAS)(
    'announces an accepted write to the watchers of every replica, not a refused one (%s)',
    async (via) => {
      const prefix = freshPrefix()
      const writer = redis.store({ via, prefix })
      const watcher = redis.store({ via, prefix })
      await subscribed(watcher, redis.client(), prefix)
      const seen: [string, number][] = []
      watcher.fleet.watch((name, version) => seen.push([name, version]))
      expect(await writer.set('pods', { value: 'v', version: 2, loadedAt: 1 })).toBe(true)
      expect(await writer.set('pods', { value: 'old', version: 1, loadedAt: 1 })).toBe(false)
      expect(await writer.set('pods', { value: 'same', version: 2, loadedAt: 1 })).toBe(false)
      expect(await writer.set('pods', { value: 'new', version: 3, loadedAt: 1 })).toBe(true)
      await until(() => seen.length >= 2, 2_000, 'the announcements of the accepted writes')
      await pause(50)
      expect(seen).toEqual([
        ['pods', 2],
        ['pods', 3],
      ])
    },
  )

  it('stops calling a watcher once it unsubscribes', async () => {
    const prefix = freshPrefix()
    const store = redis.store({ prefix })
    const kept: number[] = []
    const dropped: number[] = []
    store.fleet.watch((_, v) => kept.push(v))
    const unsubscribe = store.fleet.watch((_, v) => dropped.push(v))
    let version = 0
    await until(
      async () => {
        await store.set('pods', { value: 1, version: ++version, loadedAt: 1 })
        return kept.length > 0
      },
      3_000,
      'subscribed',
    )
    unsubscribe()
    unsubscribe()
    const before = dropped.length
    await store.set('pods', { value: 1, version: ++version, loadedAt: 1 })
    await until(() => kept.includes(version), 2_000, 'the last announcement')
    expect(dropped).toHaveLength(before)
  })

  it('reports a watcher that throws and still calls the others', async () => {
    const store = redis.store()
    const reported: unknown[] = []
    store.attach?.({ reportError: (error) => reported.push(error) })
    const seen: number[] = []
    store.fleet.watch(() => {
      throw new Error('listener bug')
    })
    store.fleet.watch((_, v) => seen.push(v))
    let version = 0
    await until(
      async () => {
        await store.set('pods', { value: 1, version: ++version, loadedAt: 1 })
        return seen.length > 0
      },
      3_000,
      'subscribed',
    )
    expect(reported.length).toBeGreaterThan(0)
    expect(reported[0]).toBeInstanceOf(StoreError)
  })

  it('ignores hostile or malformed messages published by anyone on the channel, and never throws', async () => {
    const prefix = freshPrefix()
    const store = redis.store({ prefix })
    const reported: unknown[] = []
    store.attach?.({ reportError: (error) => reported.push(error) })
    const channel = `${prefix}:changes`
    const publisher = redis.client()
    await subscribed(store, publisher, prefix)
    const seen: [string, number][] = []
    store.fleet.watch((name, version) => seen.push([name, version]))
    const hostile: (string | Buffer)[] = [
      'not json',
      '',
      '{',
      'null',
      '42',
      '"pods"',
      '[]',
      '["pods", 2]',
      '{}',
      '{"n":5,"v":2}',
      '{"n":"pods"}',
      '{"v":2}',
      '{"n":"pods","v":"2"}',
      '{"n":"pods","v":null}',
      '{"n":"pods","v":true}',
      '{"n":"pods","v":-1}',
      '{"n":"pods","v":0}',
      '{"n":"pods","v":1.5}',
      '{"n":"pods","v":NaN}',
      '{"n":"pods","v":Infinity}',
      '{"n":"pods","v":1e308}',
      '{"n":"pods","v":9007199254740993}',
      '{"n":"pods","v":{"valueOf":2}}',
      '{"n":{"toString":"pods"},"v":2}',
      '{"n":["pods"],"v":2}',
      '{"n":"","v":2}',
      '{"__proto__":{"n":"pods","v":2}}',
      '{"constructor":{"prototype":{"n":"pods","v":2}}}',
      JSON.stringify({ n: 'x'.repeat(1_025), v: 2 }),
      JSON.stringify({ n: 'pods', v: 2, pad: 'x'.repeat(2_000) }),
      JSON.stringify({ n: 'pods', v: 2, pad: 'x'.repeat(1_000_000) }),
      Buffer.from([0xff, 0xfe, 0x00, 0x7b, 0x22]),
    ]
    for (const message of hostile) await publisher.publish(channel, message)
    // Shapes that are valid are passed on as plain strings, whatever the name: the registry ignores
    // names it does not know.
    const valid: [string, number][] = [
      ['__proto__', 3],
      ['constructor', 4],
      ['unknown-name', 5],
      ['pods', Number.MAX_SAFE_INTEGER],
    ]
    for (const [n, v] of valid) await publisher.publish(channel, JSON.stringify({ n, v }))
    await publisher.publish(channel, '{"n":"pods","v":6,"__proto__":{"polluted":true}}')
    await publisher.publish(channel, JSON.stringify({ n: 'sentinel', v: 7 }))
    await until(() => seen.some(([n]) => n === 'sentinel'), 3_000, 'the sentinel arrives')
    expect(seen).toEqual([...valid, ['pods', 6], ['sentinel', 7]])
    expect(reported).toEqual([])
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined()
    expect(Object.prototype).not.toHaveProperty('n')
  })

  it('measures the size limit of a message in bytes, as documented', async () => {
    const prefix = freshPrefix()
    const store = redis.store({ prefix, maxMessageBytes: 1_024 })
    const publisher = redis.client()
    const channel = `${prefix}:changes`
    await subscribed(store, publisher, prefix)
    const seen: string[] = []
    store.fleet.watch((name) => seen.push(name))
    // 400 characters, 1,200 bytes in UTF-8.
    const wide = '日'.repeat(400)
    await publisher.publish(channel, JSON.stringify({ n: wide, v: 2 }))
    await publisher.publish(channel, JSON.stringify({ n: 'sentinel', v: 3 }))
    await until(() => seen.includes('sentinel'), 3_000, 'the sentinel arrives')
    expect(seen).not.toContain(wide)
  })

  it('does not hear the announcements of another prefix', async () => {
    const mine = redis.store()
    const theirs = redis.store()
    const seen: string[] = []
    mine.fleet.watch((name) => seen.push(name))
    let version = 0
    await until(
      async () => {
        await mine.set('mine', { value: 1, version: ++version, loadedAt: 1 })
        return seen.length > 0
      },
      3_000,
      'subscribed',
    )
    await theirs.set('theirs', { value: 1, version: 1, loadedAt: 1 })
    await mine.set('mine', { value: 1, version: ++version, loadedAt: 1 })
    await until(() => seen.length >= 2, 2_000, 'the second announcement')
    expect(seen).not.toContain('theirs')
  })
})
