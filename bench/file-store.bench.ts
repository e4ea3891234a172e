// The file store: warm start against cold start, snapshot write cost, and read latency while
// snapshots are written. `run()` returns a markdown section; bench/run.ts collects them.
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileStore } from '../src/file/index.js'
import { Resources } from '../src/index.js'
import type { Store } from '../src/stores/store.js'

const RESOURCES = 10_000
const LOADER_MS = 50

function names(count = RESOURCES): string[] {
  return Array.from({ length: count }, (_, i) => `resource-${i}`)
}

function sample(name: string) {
  return { name, replicas: 3, tags: ['a', 'b'], updated: '2024-06-01T00:00:00Z' }
}

/** A loader that takes `LOADER_MS` and honours its signal. */
function slowLoader({ name, signal }: { name: string; signal: AbortSignal }) {
  return new Promise<ReturnType<typeof sample>>((resolve, reject) => {
    const timer = setTimeout(() => resolve(sample(name)), LOADER_MS)
    signal.addEventListener('abort', () => {
      clearTimeout(timer)
      reject(signal.reason)
    })
  })
}

function quantile(samples: number[], q: number): number {
  const sorted = [...samples].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN
}

const ms = (n: number) => `${n.toFixed(n < 10 ? 2 : 0)} ms`
const us = (n: number) => `${(n * 1_000).toFixed(2)} µs`
const latencies = (samples: number[]) =>
  `${us(quantile(samples, 0.5))} / ${us(quantile(samples, 0.99))} / ${ms(samples.reduce((a, b) => Math.max(a, b), 0))}`

/** Defines every resource on a new registry, starts it and returns the ms until every get() works. */
async function startAll(
  options: { store?: Store; concurrency?: number },
  count = RESOURCES,
): Promise<number> {
  const resources = new Resources({ interval: '1h', jitter: 0, ...options })
  const started = performance.now()
  const all = names(count).map((name) => resources.define(name, slowLoader))
  await resources.start()
  await Promise.all(all.map((r) => r.ready()))
  const elapsed = performance.now() - started
  for (const r of all) r.get()
  await resources.stop()
  return elapsed
}

async function writeSnapshot(path: string, count = RESOURCES): Promise<void> {
  const store = fileStore({ path, writeDelay: 0 })
  const now = Date.now()
  await Promise.all(
    names(count).map((name) => store.set(name, { value: sample(name), version: 1, loadedAt: now })),
  )
  await store.close()
}

/** Median ms of a full snapshot write (one set() on a store holding every resource). */
async function writeCost(path: string): Promise<{ first: number; rewrite: number }> {
  const store = fileStore({ path, writeDelay: 0 })
  const now = Date.now()
  const startedFirst = performance.now()
  await Promise.all(
    names().map((name) => store.set(name, { value: sample(name), version: 100, loadedAt: now })),
  )
  const first = performance.now() - startedFirst
  const rewrites: number[] = []
  for (let i = 0; i < 15; i++) {
    const started = performance.now()
    await store.set('resource-0', { value: sample(`changed-${i}`), version: 101 + i, loadedAt: now })
    rewrites.push(performance.now() - started)
  }
  await store.close()
  return { first, rewrite: quantile(rewrites, 0.5) }
}

/** Latency of reads served from the event loop (as a request handler would), over `duration` ms. */
async function readLatencies(read: () => void, duration: number): Promise<number[]> {
  const samples: number[] = []
  const end = performance.now() + duration
  while (performance.now() < end) {
    const asked = performance.now()
    await new Promise((resolve) => setImmediate(resolve))
    read()
    samples.push(performance.now() - asked)
  }
  return samples
}

async function readsDuringWrites(
  path: string,
): Promise<{ idle: number[]; writing: number[]; writes: number }> {
  const store = fileStore({ path, writeDelay: 0 })
  const resources = new Resources({ interval: '1h', jitter: 0, store })
  const all = names().map((name) => resources.define(name, ({ name }) => sample(name)))
  await resources.start({ wait: true })
  await store.set('writer', { value: 0, version: 1, loadedAt: Date.now() }) // settles the first writes
  let i = 0
  const read = () => all[i++ % all.length]?.get()
  const idle = await readLatencies(read, 1_000)
  let writing = true
  let writes = 0
  const writer = (async () => {
    for (let version = 2; writing; version++) {
      await store.set('writer', { value: version, version, loadedAt: Date.now() })
      writes++
    }
  })()
  const during = await readLatencies(read, 1_000)
  writing = false
  await writer
  await resources.stop()
  return { idle, writing: during, writes }
}

const WARM = 100_000

/** A value of about 80 bytes of JSON, so that 100,000 entries make a snapshot of about 12 MB. */
function warmSample(name: string) {
  return { name, replicas: 3, zone: 'eu-west-1b', updated: '2024-06-01T00:00:00Z' }
}

/** Warm start of `WARM` resources from their snapshot: the store alone, and a whole registry. */
async function warmStart(
  dir: string,
): Promise<{ bytes: number; store: number; ready: number; define: number }> {
  const path = join(dir, 'warm.json')
  const writer = fileStore({ path, writeDelay: 0 })
  const now = Date.now()
  await Promise.all(
    names(WARM).map((name) => writer.set(name, { value: warmSample(name), version: 1, loadedAt: now })),
  )
  await writer.close()
  const bytes = (await stat(path)).size
  global.gc?.()
  // The store alone: read the file, then decode every entry, as a registry's restore does.
  let started = performance.now()
  const store = fileStore({ path })
  await Promise.all(names(WARM).map((name) => store.get(name)))
  const alone = performance.now() - started
  await store.close()
  global.gc?.()
  // A whole registry: define every resource, start, and wait until every get() serves a value.
  started = performance.now()
  const resources = new Resources({ interval: '1h', jitter: 0, store: fileStore({ path }) })
  const all = names(WARM).map((name) => resources.define(name, () => new Promise<never>(() => {})))
  const define = performance.now() - started
  await resources.start()
  await Promise.all(all.map((r) => r.ready()))
  const ready = performance.now() - started
  await resources.stop()
  return { bytes, store: alone, ready, define }
}

/**
 * Snapshot writes of 1,000 live entries while names churn (10 removed and 10 new each round):
 * the median write at the start and after the churn, against the same churn with the removed
 * names kept (what happened before removed names were deleted), in the same run.
 */
async function churn(
  dir: string,
): Promise<{ start: number; after: number; kept: number; entries: number; keptEntries: number }> {
  const ROUNDS = 300
  const run = async (path: string, deleteRemoved: boolean) => {
    const store = fileStore({ path, writeDelay: 0 })
    const now = Date.now()
    let next = 0
    const live: string[] = []
    const add = () => {
      const name = `churn-${next++}`
      live.push(name)
      return store.set(name, { value: warmSample(name), version: 1, loadedAt: now })
    }
    await Promise.all(Array.from({ length: 1_000 }, add))
    const times: number[] = []
    for (let round = 0; round < ROUNDS; round++) {
      const removed = live.splice(0, 10)
      const started = performance.now()
      await Promise.all([
        ...(deleteRemoved ? removed.map((name) => store.delete(name)) : []),
        ...Array.from({ length: 10 }, add),
      ])
      times.push(performance.now() - started)
    }
    const entries = (await store.list()).length
    await store.close()
    return { first: quantile(times.slice(0, 20), 0.5), last: quantile(times.slice(-20), 0.5), entries }
  }
  const deleted = await run(join(dir, 'churn.json'), true)
  const kept = await run(join(dir, 'churn-kept.json'), false)
  return {
    start: deleted.first,
    after: deleted.last,
    kept: kept.last,
    entries: deleted.entries,
    keptEntries: kept.entries,
  }
}

export async function run(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'evergreen-bench-'))
  try {
    // A small round first, so both starts below run warmed-up code.
    const warmup = join(dir, 'warmup.json')
    await writeSnapshot(warmup, 1_000)
    await startAll({ store: fileStore({ path: warmup }) }, 1_000)
    await startAll({ concurrency: Number.POSITIVE_INFINITY }, 1_000)

    const path = join(dir, 'snapshot.json')
    await writeSnapshot(path)
    const warm = await startAll({ store: fileStore({ path }) })
    const cold = await startAll({})
    const coldUnbounded = await startAll({ concurrency: Number.POSITIVE_INFINITY })
    const cost = await writeCost(join(dir, 'cost.json'))
    const reads = await readsDuringWrites(join(dir, 'reads.json'))
    const warmed = await warmStart(dir)
    const churned = await churn(dir)
    const n = RESOURCES.toLocaleString('en-US')
    const w = WARM.toLocaleString('en-US')
    return [
      '## File store (warm restarts)',
      '',
      `${n} resources, each with a ${LOADER_MS} ms loader; the snapshot holds a small object per resource.`,
      '',
      '| Measure | Result |',
      '|---|---|',
      `| Warm start: every get() served from the snapshot | ${ms(warm)} |`,
      `| Cold start, default concurrency (64) | ${ms(cold)} (${(cold / warm).toFixed(0)}× the warm start) |`,
      `| Cold start, unbounded concurrency | ${ms(coldUnbounded)} (${(coldUnbounded / warm).toFixed(1)}× the warm start) |`,
      `| First snapshot of ${n} entries (one write) | ${ms(cost.first)} (${us(cost.first / RESOURCES)} per resource) |`,
      `| Rewrite after one change, median | ${ms(cost.rewrite)} (${us(cost.rewrite / RESOURCES)} per resource) |`,
      `| Read latency p50 / p99 / max, store idle | ${latencies(reads.idle)} |`,
      `| Read latency p50 / p99 / max, during ${reads.writes} snapshot writes in 1 s | ${latencies(reads.writing)} |`,
      '',
      'Read latency is the time from asking on the event loop to the value being returned, so it',
      'includes any event-loop stall caused by encoding a snapshot; the file I/O itself runs off the loop.',
      '',
      `### Warm start of ${w} resources (snapshot of ${(warmed.bytes / 1e6).toFixed(1)} MB)`,
      '',
      '| Measure | Result |',
      '|---|---|',
      `| The store alone: read the file and decode every entry | ${ms(warmed.store)} |`,
      `| A registry: define ${w} resources | ${ms(warmed.define)} |`,
      `| A registry: define, start, every get() served from the snapshot | ${ms(warmed.ready)} (target: within 1 s) |`,
      '',
      '### Snapshot writes under churn of names',
      '',
      `1,000 live entries; each round removes 10 names and adds 10 new ones, then writes. After 300 rounds the`,
      `snapshot holds ${churned.entries} entries when removed names are deleted, ${churned.keptEntries} when they are kept.`,
      '',
      '| Measure | Result |',
      '|---|---|',
      `| Write, median of the first 20 rounds | ${ms(churned.start)} |`,
      `| Write, median of the last 20 rounds, removed names deleted | ${ms(churned.after)} (${(churned.after / churned.start).toFixed(2)}× the first) |`,
      `| Write, median of the last 20 rounds, removed names kept | ${ms(churned.kept)} (${(churned.kept / churned.start).toFixed(2)}× the first) |`,
      '',
    ].join('\n')
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
