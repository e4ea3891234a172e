/**
 * A file snapshot under Redis: a replica that boots while Redis is unreachable still starts warm,
 * once Redis answers the values it loads reach both layers, and its snapshot follows the values it
 * takes from other replicas.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { fileStore } from '../../src/file/index.js'
import { type FleetStore, layeredStore, Resources } from '../../src/index.js'
import { redisStore } from '../../src/redis/index.js'
import { freshPrefix, subscribed, until, useRedis } from './helpers.js'
import { freePort } from './redis-server.js'

const redis = useRedis()
const dir = mkdtempSync(join(tmpdir(), 'evergreen-layered-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('a file snapshot layered under Redis', () => {
  it('starts warm from the snapshot while Redis is unreachable, and loads on its own', async () => {
    const path = join(dir, 'down.json')
    // A first run saved the value to the file.
    const first = new Resources({ store: fileStore({ path }) })
    first.define('rates', () => ({ eur: 1.08 }))
    await first.start({ wait: true })
    await first.stop()

    // Nothing listens on this port: every Redis command fails fast.
    const unreachable = redisStore({
      url: `redis://127.0.0.1:${await freePort()}`,
      prefix: freshPrefix('down'),
    })
    const errors: string[] = []
    let loads = 0
    const second = new Resources({
      store: layeredStore(unreachable, fileStore({ path })),
      onError: (e) => errors.push(e.code),
    })
    const rates = second.define('rates', async () => {
      loads++
      await new Promise((resolve) => setTimeout(resolve, 200))
      return { eur: 1.09 }
    })
    await second.start({ wait: true })
    expect(rates.get()).toEqual({ eur: 1.08 })
    expect(rates.peek().source).toBe('store')
    // Redis being away does not stop the replica from refreshing by itself.
    await until(() => rates.peek().source === 'load', 5_000, 'the replica did not load on its own')
    expect(rates.get()).toEqual({ eur: 1.09 })
    expect(loads).toBe(1)
    expect(errors).toContain('E_STORE')
    await second.stop()
  }, 20_000)

  it("keeps a replica's snapshot up to date with the values other replicas load", async () => {
    const path = join(dir, 'follows.json')
    const prefix = freshPrefix('follows')
    const writer = new Resources({ interval: '1h', store: redis.store({ prefix }) })
    let n = 0
    const written = writer.define('rates', () => ({ eur: 1 + ++n / 100 }))
    const layers = layeredStore(redis.store({ prefix }), fileStore({ path, writeDelay: 0 }))
    const reader = new Resources({ interval: '1h', store: layers })
    let readerLoads = 0
    const rates = reader.define('rates', () => {
      readerLoads++
      return { eur: 0 }
    })
    try {
      await writer.start({ wait: true })
      await reader.start({ wait: true })
      await subscribed(layers as FleetStore, redis.client(), prefix) // so it hears the announcement
      await written.refresh()
      await until(() => rates.peek().version === 2, 5_000, 'the reader takes the new shared value')
    } finally {
      await Promise.all([writer.stop(), reader.stop()])
    }
    expect(readerLoads).toBe(0)
    const snapshot = fileStore({ path })
    expect(await snapshot.get('rates')).toMatchObject({ value: { eur: 1.02 }, version: 2 })
    await snapshot.close()
  }, 20_000)

  it('writes what it loads to both layers once Redis answers', async () => {
    const path = join(dir, 'up.json')
    const prefix = freshPrefix('up')
    const resources = new Resources({ store: layeredStore(redis.store({ prefix }), fileStore({ path })) })
    resources.define('flags', () => ({ dark: true }))
    await resources.start({ wait: true })
    await resources.stop()

    const fromRedis = redis.store({ prefix })
    const fromFile = fileStore({ path })
    expect(await fromRedis.get('flags')).toMatchObject({ value: { dark: true }, version: 1 })
    expect(await fromFile.get('flags')).toMatchObject({ value: { dark: true }, version: 1 })
    await fromFile.close()
  }, 20_000)
})
