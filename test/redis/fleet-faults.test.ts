// Fleet mode while Redis misbehaves: killed and restarted empty, frozen, pausing its clients, busy,
// dropping pub/sub connections. Reads never fail nor slow down, replicas keep loading on their own,
// versions only go up, and the fleet converges afterwards.
import { describe, expect, it } from 'vitest'
import { regressions, useFleet } from './fleet.js'
import { freshPrefix, pause as sleep, useRedis } from './helpers.js'

const redis = useRedis()
const startFleet = useFleet()

describe('fleet mode: Redis fails under the fleet', () => {
  it('keeps serving and refreshing through a crash (data lost), a freeze, CLIENT PAUSE and DEBUG SLEEP, then converges', async () => {
    const interval = 200
    const commandTimeout = 300
    const resources = 10
    const prefix = freshPrefix('faults')
    const fleet = startFleet(3, {
      url: redis.server.url,
      prefix,
      resources,
      interval,
      jitter: 0.1,
      loaderMs: 5,
      leaseTtl: 1_000,
      commandTimeout,
      readEvery: 2,
    })
    await fleet.ready()
    await fleet.converged(5_000)
    const storedVersions = async () => {
      const versions: number[] = []
      for (let i = 0; i < resources; i++)
        versions.push(Number(await redis.server.command('HGET', `${prefix}:{r${i}}:value`, 'version')))
      return versions
    }
    const beforeCrash = await storedVersions()

    // Killed; down for a second; back empty.
    await redis.server.kill()
    await sleep(1_000)
    await redis.server.restart()
    await sleep(1_500)
    // Frozen for 1.5 s: replicas must load on their own meanwhile.
    redis.server.freeze()
    const frozenAt = Date.now()
    await sleep(1_500)
    redis.server.thaw()
    const thawedAt = Date.now()
    await sleep(1_500)
    await redis.server.pauseClients(1_000)
    await sleep(2_000)
    await redis.server.sleep(1)
    await sleep(2_000)

    await fleet.converged(5_000)
    const afterFaults = await storedVersions()
    const finals = await fleet.stop()

    for (const r of fleet.replicas) {
      expect(r.of('fatal')).toEqual([])
      // Each replica refreshed every resource on its own while Redis was frozen.
      const during = r
        .of('call')
        .filter((l) => l.at! > frozenAt + commandTimeout + interval && l.at! < thawedAt)
      expect(new Set(during.map((l) => l.name)).size).toBe(resources)
      expect(regressions(r)).toEqual([])
    }
    for (const f of finals) {
      expect(f).toMatchObject({ readFailures: 0, regressions: 0 })
      expect(f.reads).toBeGreaterThan(1_000)
      expect(f.p99).toBeLessThan(1)
      expect(f.max).toBeLessThan(100)
      expect(f.heapMax).toBeLessThan(64 * 2 ** 20)
    }
    // Only store problems were reported (never a failed load), and rate-limited.
    const errors = fleet.lines('error')
    expect(errors.filter((e) => e.code !== 'E_STORE')).toEqual([])
    expect(errors.length).toBeGreaterThan(0)
    for (const r of fleet.replicas) expect(r.of('error').length).toBeLessThan(resources * 40)
    // After the data loss, the shared versions went on from above the old ones.
    for (let i = 0; i < resources; i++) expect(afterFaults[i]!).toBeGreaterThan(beforeCrash[i]!)
  }, 60_000)

  it.each(['client', 'url'] as const)(
    'hands back at once a lease that a timed-out ACQUIRE won after Redis paused (%s)',
    async (via) => {
      const prefix = freshPrefix()
      const late = redis.store({ via, prefix, commandTimeout: 200, leaseTtl: 10_000 })
      const other = redis.store({ via, prefix, commandTimeout: 1_000, leaseTtl: 10_000 })
      await late.fleet.head('pods') // connected before the pause
      await redis.server.pauseClients(700)
      const started = Date.now()
      // Sent before the pause ends, so Redis runs it afterwards: the caller has given up by then.
      await expect(late.fleet.acquire('pods', 0)).rejects.toMatchObject({ code: 'E_STORE' })
      expect(Date.now() - started).toBeLessThan(600)
      await sleep(700 + 300 - (Date.now() - started))
      // Without the hand-back, the late lease would block every replica for its 10 s.
      const lease = await other.fleet.acquire('pods', 0)
      expect(lease).toBeDefined()
      await lease!.release()
    },
  )

  it('hands back only what the timed-out ACQUIRE took, not a lease the same store holds for another caller', async () => {
    // Two registries on one store object: one holds the lease, the other's ACQUIRE times out.
    const store = redis.store({ commandTimeout: 200, leaseTtl: 10_000 })
    const held = (await store.fleet.acquire('pods', 0))!
    expect(held).toBeDefined()
    await redis.server.pauseClients(700)
    const started = Date.now()
    await expect(store.fleet.acquire('pods', 0)).rejects.toMatchObject({ code: 'E_STORE' })
    await sleep(700 + 300 - (Date.now() - started))
    expect(await held.renew()).toBe(true)
    await held.release()
  })

  it('converges while pub/sub connections are killed over and over as values change', async () => {
    const interval = 200
    const fleet = startFleet(3, {
      url: redis.server.url,
      prefix: freshPrefix('pubsub'),
      resources: 5,
      interval,
      jitter: 0.1,
      commandTimeout: 1_000,
    })
    await fleet.ready()
    const until = Date.now() + 3_000
    let killed = 0
    while (Date.now() < until) {
      killed += await redis.server.killPubsub()
      await sleep(150)
    }
    expect(killed).toBeGreaterThan(3)
    await fleet.converged(3_000)
    await fleet.stop()
    for (const r of fleet.replicas) expect(regressions(r)).toEqual([])
    expect(fleet.conflicts()).toEqual([])
  }, 30_000)
})
