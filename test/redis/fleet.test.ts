// Fleet mode end to end: replicas as child processes on the built package, one real redis-server.
import { describe, expect, it } from 'vitest'
import { type Line, type Replica, regressions, useFleet } from './fleet.js'
import { freshPrefix, pause as sleep, useRedis } from './helpers.js'

const redis = useRedis()
const startFleet = useFleet()

/**
 * Loader calls that repeated a refresh of the same resource that had just happened (less than half
 * an interval after the previous call, anywhere in the fleet).
 */
function repeats(calls: readonly Line[], interval: number): string[] {
  const last = new Map<string, Line>()
  const found: string[] = []
  for (const c of calls) {
    const previous = last.get(c.name!)
    if (previous !== undefined && c.at! - previous.at! < interval / 2) {
      found.push(`${c.name}: ${c.id} ${c.at! - previous.at!} ms after ${previous.id}`)
    }
    last.set(c.name!, c)
  }
  return found
}

/** Loader calls of one resource across the fleet that overlapped (two replicas loading at once). */
function overlaps(calls: readonly Line[], loaderMs: number): string[] {
  const found: string[] = []
  const byName = new Map<string, Line[]>()
  for (const c of calls) byName.set(c.name!, [...(byName.get(c.name!) ?? []), c])
  for (const [name, list] of byName) {
    for (let i = 1; i < list.length; i++) {
      const previous = list[i - 1]!
      const current = list[i]!
      if (current.at! < previous.at! + loaderMs) found.push(`${name}: ${previous.id} and ${current.id}`)
    }
  }
  return found
}

describe('fleet mode: steady state', () => {
  it('refreshes each resource about once per interval across 4 replicas, converging, versions only going up', async () => {
    const interval = 150
    const loaderMs = 10
    const resources = 20
    const intervals = 100
    const fleet = startFleet(4, {
      url: redis.server.url,
      prefix: freshPrefix('fleet'),
      resources,
      interval,
      loaderMs,
      jitter: 0.1,
      commandTimeout: 1_000,
    })
    await fleet.ready()
    const started = Date.now()
    await sleep(interval * intervals)
    const elapsed = Date.now() - started
    const calls = fleet.lines('call').filter((l) => l.at! >= started && l.at! < started + elapsed)
    await fleet.converged(3_000)
    const finals = await fleet.stop()

    // One refresh per resource per interval for the whole fleet, not one per replica.
    const perInterval = calls.length / ((resources * elapsed) / interval)
    expect(perInterval).toBeGreaterThan(0.9)
    expect(perInterval).toBeLessThan(1.1)
    // The work is shared: every replica did some of it.
    for (const r of fleet.replicas) expect(r.of('call').length).toBeGreaterThan(calls.length / 10)
    expect(overlaps(calls, loaderMs)).toEqual([])
    // No replica reloads what another has just loaded (it adopts that value instead).
    expect(repeats(calls, interval)).toEqual([])
    // Every replica saw the others' values, and a version names one value everywhere.
    for (const r of fleet.replicas)
      expect(r.of('change').filter((l) => l.source === 'fleet').length).toBeGreaterThan(0)
    expect(fleet.conflicts()).toEqual([])
    for (const r of fleet.replicas) expect(regressions(r)).toEqual([])
    for (const f of finals) expect(f).toMatchObject({ readFailures: 0, regressions: 0 })
    expect(fleet.lines('error')).toEqual([])
  }, 60_000)
})

describe('fleet mode: notifications', () => {
  it('shows a new value on every replica at once, long before their next check, also after pub/sub connections were killed', async () => {
    const fleet = startFleet(3, {
      url: redis.server.url,
      prefix: freshPrefix('notify'),
      resources: 2,
      interval: 10_000,
      jitter: 0,
      commandTimeout: 1_000,
    })
    await fleet.ready()
    await fleet.converged(5_000)
    const [writer, ...others] = fleet.replicas as [Replica, ...Replica[]]
    const propagate = async () => {
      const from = others.map((r) => r.lines.length)
      const start = writer.lines.length
      writer.send('refresh r0')
      const load = await writer.waitFor(
        (l) => l.t === 'load' && l.name === 'r0',
        5_000,
        'the forced load',
        start,
      )
      const seen = await Promise.all(
        others.map((r, i) =>
          r.waitFor(
            (l) => l.t === 'change' && l.name === 'r0' && l.id === load.id,
            2_000,
            'the new value',
            from[i],
          ),
        ),
      )
      return seen.map((l) => l.at! - load.at!)
    }
    for (const delay of await propagate()) expect(delay).toBeLessThan(500)
    expect(await redis.server.killPubsub()).toBeGreaterThanOrEqual(3)
    // ioredis reconnects the subscribers by itself; give it a moment.
    await sleep(1_000)
    for (const delay of await propagate()) expect(delay).toBeLessThan(500)
    await fleet.stop()
    expect(fleet.conflicts()).toEqual([])
  }, 30_000)
})

describe('fleet mode: the lease holder fails', () => {
  it('lets another replica take over within lease + interval when the holder is SIGKILLed mid-load', async () => {
    const interval = 300
    const leaseTtl = 600
    const fleet = startFleet(3, {
      url: redis.server.url,
      prefix: freshPrefix('killed'),
      resources: 1,
      interval,
      jitter: 0,
      leaseTtl,
      slow: { r0: 2_000 },
      commandTimeout: 1_000,
    })
    await fleet.ready()
    const first = await Promise.race(
      fleet.replicas.map((r) => r.waitFor((l) => l.t === 'call', 5_000, 'a first load')),
    )
    const holder = fleet.replicas.find((r) => r.id === first.replica)!
    await sleep(200)
    const killedAt = Date.now()
    holder.kill('SIGKILL')
    const survivors = fleet.replicas.filter((r) => r !== holder)
    const takeover = await Promise.race(
      survivors.map((r) => r.waitFor((l) => l.t === 'call' && l.at! > killedAt, 5_000, 'a takeover')),
    )
    expect(takeover.at! - killedAt).toBeLessThanOrEqual(leaseTtl + interval + 300)
    // Only one survivor took over, and its value reaches the other.
    await sleep(100)
    expect(fleet.lines('call').filter((l) => l.at! > killedAt && l.at! < takeover.at! + 500)).toHaveLength(1)
    const snapshots = await fleet.converged(5_000)
    expect(snapshots[0]!.r0![1]).toBe(takeover.id)
    await fleet.stop()
  }, 30_000)

  it('refuses the write of a holder SIGSTOPped past its lease and resumed: the newer value stays', async () => {
    const interval = 300
    const leaseTtl = 600
    const prefix = freshPrefix('frozen')
    const fleet = startFleet(3, {
      url: redis.server.url,
      prefix,
      resources: 1,
      interval,
      jitter: 0,
      leaseTtl,
      slow: { r0: 1_500 },
      commandTimeout: 1_000,
    })
    await fleet.ready()
    const first = await Promise.race(
      fleet.replicas.map((r) => r.waitFor((l) => l.t === 'call', 5_000, 'a first load')),
    )
    const holder = fleet.replicas.find((r) => r.id === first.replica)!
    await sleep(100)
    holder.kill('SIGSTOP')
    const frozenAt = Date.now()
    const survivors = fleet.replicas.filter((r) => r !== holder)
    // Another replica takes the expired lease, loads and writes a newer version.
    const newer = await Promise.race(
      survivors.map((r) => r.waitFor((l) => l.t === 'load' && l.at! > frozenAt, 6_000, 'the takeover load')),
    )
    await sleep(300)
    holder.kill('SIGCONT')
    // The holder's load finishes (its timer is overdue) with its old token; the write must be refused.
    await sleep(1_000)
    const stored = (await redis.server.command('HGET', `${prefix}:{r0}:value`, 'value')) as string
    const version = Number(await redis.server.command('HGET', `${prefix}:{r0}:value`, 'version'))
    expect((JSON.parse(stored) as { id: string }).id).not.toBe(first.id)
    expect(version).toBeGreaterThanOrEqual(newer.version!)
    // The stale load finished after the resume, but its lease had run out by the holder's own
    // monotonic clock: it was neither written nor served (one version, one value, one change).
    expect(holder.of('load').map((l) => l.id)).not.toContain(first.id)
    expect(holder.of('error').map((l) => l.code)).toContain('E_LOAD_ABORTED')
    // Nobody shows the stale value at a version above the newer one.
    const stale = fleet.lines('change').filter((l) => l.id === first.id && l.version! >= newer.version!)
    expect(stale).toEqual([])
    await fleet.converged(5_000)
    await fleet.stop()
    for (const r of fleet.replicas) expect(regressions(r)).toEqual([])
    expect(fleet.conflicts()).toEqual([])
  }, 30_000)
})
