/**
 * A family fully wired in a registry: read cost of a warm key against lru-cache in the same run,
 * bytes per warm key, loads per interval of a hot key under a heavy read rate, and a stampede.
 *
 * Read cost: each contender is its own loop (own type feedback), timed in interleaved rounds with
 * the order rotated; ratios are the median over rounds of paired ratios (same round).
 */
import { LRUCache } from 'lru-cache'
import { Resources } from '../src/index.js'
import { checks, fmt, heapUsedAfterGc, median, nowNs, sleep, table, turn } from './support.js'

interface Value {
  readonly id: number
}
const VALUE: Value = { id: 7 }
const KEY = 'tenant-42'
const SYNC_N = 1_000_000
const ASYNC_N = 100_000
const ROUNDS = 21
const WARMUP = 3

type Loop = (n: number) => number | Promise<number>

async function readCost(): Promise<{ label: string; median: number; ratio: number }[]> {
  const map = new Map<string, Value>([[KEY, VALUE]])
  const lru = new LRUCache<string, Value>({ max: 1_000 })
  lru.set(KEY, VALUE)
  const lruFetch = new LRUCache<string, Value>({ max: 1_000, ttl: 3_600_000, fetchMethod: async () => VALUE })
  await lruFetch.fetch(KEY)
  const resources = new Resources({ interval: '1h', jitter: 0 })
  const family = resources.family('bench', async () => VALUE, { maxKeys: 1_000 })
  await resources.start()
  await family.fetch(KEY)
  const lruFamily = resources.family('bench-lru', async () => VALUE, { maxKeys: 1_000, policy: 'lru' })
  await lruFamily.fetch(KEY)
  if (family.get(KEY) !== VALUE || lruFamily.get(KEY) !== VALUE) throw new Error('the family key is not warm')

  const mapGet: Loop = (n) => {
    let sink = 0
    for (let i = 0; i < n; i++) sink += map.get(KEY)!.id
    return sink
  }
  const lruGet: Loop = (n) => {
    let sink = 0
    for (let i = 0; i < n; i++) sink += lru.get(KEY)!.id
    return sink
  }
  const familyGet: Loop = (n) => {
    let sink = 0
    for (let i = 0; i < n; i++) sink += family.get(KEY)!.id
    return sink
  }
  const lruFamilyGet: Loop = (n) => {
    let sink = 0
    for (let i = 0; i < n; i++) sink += lruFamily.get(KEY)!.id
    return sink
  }
  const lruFetchLoop: Loop = async (n) => {
    let sink = 0
    for (let i = 0; i < n; i++) sink += (await lruFetch.fetch(KEY))!.id
    return sink
  }
  const familyFetch: Loop = async (n) => {
    let sink = 0
    for (let i = 0; i < n; i++) sink += (await family.fetch(KEY)).id
    return sink
  }
  const list = [
    { label: 'Map.get (baseline)', loop: mapGet, n: SYNC_N },
    { label: 'lru-cache get', loop: lruGet, n: SYNC_N },
    { label: 'family.get (warm key)', loop: familyGet, n: SYNC_N },
    { label: "family.get (warm key, policy: 'lru')", loop: lruFamilyGet, n: SYNC_N },
    { label: 'lru-cache fetch (cached key)', loop: lruFetchLoop, n: ASYNC_N },
    { label: 'family.fetch (warm key)', loop: familyFetch, n: ASYNC_N },
  ]
  const rounds: number[][] = []
  for (let r = 0; r < WARMUP + ROUNDS; r++) {
    const times = new Array<number>(list.length).fill(0)
    for (let k = 0; k < list.length; k++) {
      const index = (r + k) % list.length
      const c = list[index]!
      const start = nowNs()
      const sink = await c.loop(c.n)
      times[index] = (nowNs() - start) / c.n
      if (sink !== c.n * VALUE.id) throw new Error(`${c.label}: wrong sink`)
    }
    if (r >= WARMUP) rounds.push(times)
  }
  await resources.stop()
  return list.map((c, k) => ({
    label: c.label,
    median: median(rounds.map((t) => t[k]!)),
    // Sync contenders against lru-cache get, async ones against lru-cache fetch, paired per round.
    ratio: median(rounds.map((t) => t[k]! / t[k < 4 ? 1 : 4]!)),
  }))
}

/** Bytes per warm key of a family in a registry: keys and values made first, then loaded. */
async function bytesPerKey(keys: number): Promise<number> {
  const names = Array.from({ length: keys }, (_, i) => `tenant-${i}`)
  const resources = new Resources({ interval: '1h', jitter: 0.1, concurrency: Number.POSITIVE_INFINITY })
  const before = (await heapUsedAfterGc()) + process.memoryUsage().arrayBuffers
  const family = resources.family('memory', () => VALUE, { maxKeys: keys })
  await resources.start()
  for (let i = 0; i < keys; i += 10_000) {
    await Promise.all(names.slice(i, i + 10_000).map((key) => family.fetch(key)))
  }
  if (family.size !== keys) throw new Error(`the family holds ${family.size} keys`)
  const after = (await heapUsedAfterGc()) + process.memoryUsage().arrayBuffers
  await resources.stop()
  return (after - before) / keys
}

/** Loads per interval of one key read as fast as the loop allows, on real time. */
async function hotKey(): Promise<{ perInterval: number; reads: number }> {
  const interval = 50
  let loads = 0
  const resources = new Resources({ interval, jitter: 0.1 })
  const family = resources.family('hot', async () => {
    loads++
    return VALUE
  })
  await resources.start()
  await family.fetch(KEY)
  loads = 0
  const started = performance.now()
  let reads = 0
  while (performance.now() - started < 2_000) {
    for (let i = 0; i < 1_000; i++) if (family.get(KEY) !== undefined) reads++
    await turn()
  }
  const elapsed = performance.now() - started
  await resources.stop()
  return { perInterval: loads / (elapsed / interval), reads }
}

async function stampede(): Promise<number> {
  let loads = 0
  const resources = new Resources()
  const family = resources.family('stampede', async () => {
    loads++
    await sleep(10)
    return VALUE
  })
  await Promise.all(Array.from({ length: 10_000 }, () => family.fetch('cold')))
  await resources.stop()
  return loads
}

export async function run(): Promise<string> {
  const reads = await readCost()
  const keys = 200_000
  const perKey = await bytesPerKey(keys)
  const hot = await hotKey()
  const stampedeLoads = await stampede()
  const get = reads.find((r) => r.label.startsWith('family.get (warm key)'))!
  const lruGet = reads.find((r) => r.label.includes("'lru'"))!
  const fetch = reads.find((r) => r.label.startsWith('family.fetch'))!
  const x = (v: number) => `${fmt(v, 2)}x`
  return [
    '## Family reads, memory and backend load (`family.bench.ts`)',
    '',
    checks([
      {
        target: 'warm `family.get(key)` ≤ 1.5x lru-cache `get`',
        measured: x(get.ratio),
        met: get.ratio <= 1.5,
      },
      {
        target: "warm `family.get(key)` with `policy: 'lru'` ≤ 1.5x lru-cache `get`",
        measured: x(lruGet.ratio),
        met: lruGet.ratio <= 1.5,
      },
      {
        target: 'warm `family.fetch(key)` ≤ lru-cache `fetch` of a cached key',
        measured: x(fetch.ratio),
        met: fetch.ratio <= 1,
      },
      {
        target: 'a hot key ≤ 1.05 loads per interval',
        measured: `${fmt(hot.perInterval, 3)} (${fmt(hot.reads, 0)} reads in 2 s)`,
        met: hot.perInterval <= 1.05,
      },
      {
        target: 'a stampede of 10,000 fetches of a cold key: 1 load',
        measured: String(stampedeLoads),
        met: stampedeLoads === 1,
      },
    ]),
    '',
    table(
      ['Contender', 'ns/op (median)', 'vs lru-cache (get, or fetch for async rows)'],
      reads.map((r) => [r.label, fmt(r.median, 2), x(r.ratio)]),
    ),
    '',
    `Bytes per warm key of a family in a started registry (${fmt(keys, 0)} keys loaded through fetch, ` +
      `each due for a refresh, heap + array buffers after full collections, keys and the shared value made first): ` +
      `**${fmt(perKey, 0)} B**. Compare with the storage alone in *Family memory* (family-memory.bench.ts).`,
  ].join('\n')
}
