// Replicas whose clocks disagree: the store hands out load times on the reader's clock, measured by
// the Redis server's clock (one clock for the whole fleet), and never later than the reader's now.
import { describe, expect, it } from 'vitest'
import { Resources } from '../../src/index.js'
import { type Clock, systemClock } from '../../src/scheduling/clock.js'
import type { FleetStore } from '../../src/stores/store.js'
import { freshPrefix, until, useRedis } from './helpers.js'

const redis = useRedis()
const HOUR = 3_600_000
const DAY = 24 * HOUR
/** Round trips and scheduling on a loaded machine. */
const SLACK = 1_000

const skewed = (offset: number): Clock => ({ ...systemClock, now: () => Date.now() + offset })

/** A store on `prefix` used by a registry whose clock is `offset` ms off. */
function storeWithClock(prefix: string, offset: number): FleetStore {
  const store = redis.store({ prefix })
  store.attach?.({ reportError: () => {}, ...(offset === 0 ? {} : { clock: skewed(offset) }) })
  return store
}

describe('redisStore: load times across skewed clocks', () => {
  it.each([
    ['an hour ahead', HOUR],
    ['an hour behind', -HOUR],
    ['a day ahead', DAY],
  ])("puts a load time written by a replica %s on the reader's clock", async (_, offset) => {
    const prefix = freshPrefix()
    const writer = storeWithClock(prefix, offset)
    const reader = storeWithClock(prefix, 0)
    // Loaded 2 s ago, on the writer's clock.
    await writer.set('pods', { value: 1, version: 1, loadedAt: Date.now() + offset - 2_000 })
    const now = Date.now()
    for (const seen of [await reader.fleet.head('pods'), await reader.get('pods')]) {
      expect(seen?.loadedAt).toBeGreaterThan(now - 2_000 - SLACK)
      expect(seen?.loadedAt).toBeLessThanOrEqual(Date.now() - 2_000 + SLACK)
    }
    // The writer reads its own time back as it wrote it (within the tolerance of the mapping).
    expect(Math.abs((await writer.fleet.head('pods'))!.loadedAt - (now + offset - 2_000))).toBeLessThan(SLACK)
  })

  it('never hands out a load time later than now, even from an entry written by hand', async () => {
    const prefix = freshPrefix()
    const reader = storeWithClock(prefix, 0)
    const ahead = Date.now() + DAY
    await redis.server.command(
      'HSET',
      `${prefix}:{pods}:value`,
      'version',
      1,
      'loadedAt',
      ahead,
      'value',
      '1',
    )
    expect((await reader.fleet.head('pods'))!.loadedAt).toBeLessThanOrEqual(Date.now())
    // A stamp from the future is not believed either.
    await redis.server.command('HSET', `${prefix}:{pods}:value`, 'stamp', ahead)
    expect((await reader.get('pods'))!.loadedAt).toBeLessThanOrEqual(Date.now())
  })

  it('keeps load times exactly as written when the clocks agree', async () => {
    const prefix = freshPrefix()
    const writer = storeWithClock(prefix, 0)
    const reader = storeWithClock(prefix, 0)
    const loadedAt = Date.now() - 5_000
    await writer.set('pods', { value: 1, version: 1, loadedAt })
    expect(await reader.fleet.head('pods')).toEqual({ version: 1, loadedAt })
  })
})

describe('a fleet with a replica whose clock runs an hour ahead', () => {
  it('takes over within lease TTL + interval once that replica is gone', async () => {
    const prefix = freshPrefix()
    const interval = 300
    const leaseTtl = 300
    const ahead = new Resources({ interval, clock: skewed(HOUR), store: redis.store({ prefix, leaseTtl }) })
    const calls: number[] = []
    const onTime = new Resources({ interval, store: redis.store({ prefix, leaseTtl }) })
    ahead.define('pods', () => 'ahead')
    onTime.define('pods', () => {
      calls.push(Date.now())
      return 'on time'
    })
    try {
      await ahead.start({ wait: true })
      await onTime.start({ wait: true })
      await ahead.stop()
      const gone = Date.now()
      await until(
        () => calls.some((at) => at >= gone),
        leaseTtl + interval + 2 * SLACK,
        'the other replica loads',
      )
    } finally {
      await Promise.all([ahead.stop(), onTime.stop()])
    }
  })
})
