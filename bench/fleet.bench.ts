/**
 * Fleet mode on a real redis-server: how much backend work a fleet saves, how fast a new value
 * reaches the other replicas, and what fleet mode costs a read.
 *
 * Harness: a `redis-server` of our own (the tests' harness, random port, no persistence). Each
 * replica is a registry with its own Redis store and connections, in this process (the event loop
 * is shared, which only makes the numbers more pessimistic). Backend calls are counted in the
 * loaders; the baseline is the same replicas, each refreshing alone (no store).
 */
import { Redis } from 'ioredis'
import { type Resource, Resources } from '../src/index.js'
import { redisStore } from '../src/redis/index.js'
import type { FleetStore } from '../src/stores/store.js'
import { type RedisServer, startRedis } from '../test/redis/redis-server.js'
import { checks, fmt, median, nowNs, quantile, sleep, table } from './support.js'

const INTERVAL = 100
const RESOURCES = 10
const LOADER_MS = 2
const INTERVALS = 30
const REPLICAS = [1, 2, 4, 8] as const
const PROPAGATIONS = 200
const READS = 1_000_000
const READ_ROUNDS = 21

interface Replica {
  readonly resources: Resources
  readonly store: FleetStore | undefined
}

function replica(server: RedisServer, prefix: string | undefined, onCall: () => void): Replica {
  const store = prefix === undefined ? undefined : redisStore({ url: server.url, prefix, leaseTtl: '2s' })
  const resources = new Resources({
    interval: INTERVAL,
    jitter: 0.1,
    ...(store === undefined ? {} : { store }),
  })
  for (let i = 0; i < RESOURCES; i++) {
    resources.define(`r${i}`, async () => {
      onCall()
      await sleep(LOADER_MS)
      return { at: Date.now() }
    })
  }
  return { resources, store }
}

/** Waits until every replica's store answers (its connection is open). */
async function connected(replicas: readonly Replica[]): Promise<void> {
  for (const r of replicas) {
    if (r.store === undefined) continue
    for (let i = 0; ; i++) {
      if (
        await r.store.list().then(
          () => true,
          () => false,
        )
      )
        break
      if (i > 100) throw new Error('a replica could not reach redis-server')
      await sleep(20)
    }
  }
}

/** Backend calls per resource per interval, for `n` replicas in fleet mode or each alone. */
async function callsPerInterval(
  server: RedisServer,
  n: number,
  fleet: boolean,
  run: number,
): Promise<number> {
  let calls = 0
  const prefix = fleet ? `bench-${process.pid}-${run}` : undefined
  const replicas = Array.from({ length: n }, () => replica(server, prefix, () => calls++))
  await connected(replicas)
  await Promise.all(replicas.map((r) => r.resources.start()))
  // Let the first loads settle, then count over whole intervals.
  await sleep(INTERVAL * 3)
  const before = calls
  const started = performance.now()
  await sleep(INTERVAL * INTERVALS)
  const elapsed = performance.now() - started
  const counted = calls - before
  await Promise.all(replicas.map((r) => r.resources.stop()))
  return counted / RESOURCES / (elapsed / INTERVAL)
}

/** Ms from the writer's load to the new value on each other replica, over `PROPAGATIONS` changes. */
async function propagation(server: RedisServer): Promise<number[]> {
  const prefix = `bench-propagation-${process.pid}`
  const replicas = Array.from({ length: 4 }, () => {
    const store = redisStore({ url: server.url, prefix })
    const resources = new Resources({ interval: '1h', store })
    // The loader awaits a little, like a real one: the value carries the time the load ended.
    const handle = resources.define('p', async () => {
      await sleep(1)
      return { at: performance.now() }
    })
    return { resources, store, handle }
  })
  await connected(replicas)
  await Promise.all(replicas.map((r) => r.resources.start({ wait: true })))
  // The subscriptions open in the background: wait until a change reaches every replica.
  const [writer, ...readers] = replicas as [(typeof replicas)[0], ...typeof replicas]
  const delays: number[] = []
  for (let i = 0; i < PROPAGATIONS + 5; i++) {
    const seen = readers.map(
      (r) =>
        new Promise<number>((resolve) => {
          const off = r.resources.on('change', (e) => {
            if (e.source !== 'fleet') return
            off()
            resolve(performance.now())
          })
        }),
    )
    const value = await writer.handle.refresh()
    const arrived = await Promise.race([Promise.all(seen), sleep(2_000).then(() => undefined)])
    if (arrived === undefined) throw new Error('a change did not reach every replica within 2 s')
    if (i >= 5) for (const at of arrived) delays.push(at - value.at)
  }
  await Promise.all(replicas.map((r) => r.resources.stop()))
  return delays
}

type Loop = (n: number) => number

/** ns per `get()` on a fleet-mode resource (4 replicas refreshing in the background) and on a plain one. */
async function readCost(server: RedisServer): Promise<{ fleet: number[]; plain: number[]; ratio: number[] }> {
  const prefix = `bench-read-${process.pid}`
  const fleet = Array.from({ length: 4 }, () => replica(server, prefix, () => {}))
  await connected(fleet)
  await Promise.all(fleet.map((r) => r.resources.start({ wait: true })))
  const plainRegistry = new Resources({ interval: INTERVAL, jitter: 0.1 })
  const plainResource = plainRegistry.define('r0', async () => ({ at: Date.now() }))
  await plainRegistry.start({ wait: true })
  const fleetResource = fleet[0]!.resources.resource('r0') as Resource<{ at: number }>

  const fleetGet: Loop = (n) => {
    let sink = 0
    for (let i = 0; i < n; i++) sink += fleetResource.get().at > 0 ? 1 : 0
    return sink
  }
  const plainGet: Loop = (n) => {
    let sink = 0
    for (let i = 0; i < n; i++) sink += plainResource.get().at > 0 ? 1 : 0
    return sink
  }
  const time = (loop: Loop) => {
    const start = nowNs()
    if (loop(READS) !== READS) throw new Error('a read was skipped')
    return (nowNs() - start) / READS
  }
  const result = { fleet: [] as number[], plain: [] as number[], ratio: [] as number[] }
  for (let round = 0; round < READ_ROUNDS + 3; round++) {
    // Background refreshes run between rounds, as they would between requests.
    await sleep(5)
    // The order alternates, so drift within a round hits both alike.
    let fleetNs: number
    let p: number
    if (round % 2 === 0) {
      fleetNs = time(fleetGet)
      p = time(plainGet)
    } else {
      p = time(plainGet)
      fleetNs = time(fleetGet)
    }
    if (round < 3) continue
    result.fleet.push(fleetNs)
    result.plain.push(p)
    result.ratio.push(fleetNs / p)
  }
  await Promise.all([...fleet.map((r) => r.resources.stop()), plainRegistry.stop()])
  return result
}

export async function run(): Promise<string> {
  const server = await startRedis()
  try {
    const rows: (string | number)[][] = []
    const ratios = new Map<number, number>()
    let runId = 0
    for (const n of REPLICAS) {
      const fleet = await callsPerInterval(server, n, true, runId++)
      const alone = await callsPerInterval(server, n, false, runId++)
      ratios.set(n, fleet / alone)
      rows.push([n, fmt(fleet, 2), fmt(alone, 2), fmt(fleet / alone, 2), fmt(1 / n, 2)])
    }
    const delays = await propagation(server)
    const reads = await readCost(server)
    // A client of our own checks that the server is still healthy after the runs.
    const probe = new Redis(server.url)
    await probe.ping()
    probe.disconnect()

    const p50 = quantile(delays, 0.5)
    const p99 = quantile(delays, 0.99)
    const readRatio = median(reads.ratio)
    const sharingMet = REPLICAS.every((n) => {
      const r = ratios.get(n)!
      return r <= 1.25 / n && r >= 0.75 / n
    })
    return [
      '## Fleet mode (`fleet.bench.ts`)',
      '',
      checks([
        {
          target: 'backend calls of a fleet of N replicas ≈ 1/N of the same replicas refreshing alone',
          measured: REPLICAS.map((n) => `N=${n}: ${fmt(ratios.get(n)!, 2)}`).join(', '),
          met: sharingMet,
        },
        {
          target: 'a new value reaches the other replicas within 50 ms (p99, localhost)',
          measured: `p50 ${fmt(p50, 2)} ms, p99 ${fmt(p99, 2)} ms`,
          met: p99 < 50,
        },
        {
          target: '`get()` in fleet mode within 1.2x of `get()` without a store',
          measured: `${fmt(readRatio, 2)}x (${fmt(median(reads.fleet), 2)} vs ${fmt(median(reads.plain), 2)} ns/op)`,
          met: readRatio <= 1.2,
        },
      ]),
      '',
      table(
        [
          'Replicas',
          'Fleet: calls / resource / interval',
          'Alone: calls / resource / interval',
          'Ratio',
          '1/N',
        ],
        rows,
      ),
      '',
      table(
        ['Propagation (writer load → other replica)', 'ms'],
        [
          ['p50', fmt(p50, 2)],
          ['p90', fmt(quantile(delays, 0.9), 2)],
          ['p99', fmt(p99, 2)],
          ['max', fmt(quantile(delays, 1), 2)],
        ],
      ),
      '',
      `${RESOURCES} resources, interval ${INTERVAL} ms with jitter 0.1, loaders of ${LOADER_MS} ms, counted over ` +
        `${INTERVALS} intervals after the first loads. Each replica is a registry with its own Redis store ` +
        '(its own connections) on one local `redis-server`; "alone" is the same replicas without a store. ' +
        'A fleet refreshes a little more than once per interval: the earliest of the jittered checks wins. ' +
        `Propagation: ${PROPAGATIONS} forced refreshes on one of 4 replicas; the time from the end of the load ` +
        'to the `change` event on each of the 3 others (fenced write, pub/sub announcement, fetch of the value). ' +
        `Read cost: median ns per \`get()\` over ${READ_ROUNDS} rounds of ${fmt(READS, 0)} reads, the fleet ` +
        'refreshing in the background between rounds; the ratio is the median of paired per-round ratios.',
    ].join('\n')
  } finally {
    await server.stop()
  }
}
