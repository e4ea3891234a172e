/**
 * Read latency while the backend is slow (50 ms per call): evergreen against a plain TTL cache on
 * the same simulated backend, under a steady stream of reads; and the number of backend calls,
 * which for evergreen must be one per resource per refresh, whatever the read rate.
 *
 * Reads arrive at a fixed rate (open loop: a read is issued when it is due, whether or not earlier
 * ones have completed), spread round-robin over a few resources. The driver yields to the event loop
 * between batches (`setImmediate`), as a server would between requests. A read's latency is the time
 * from calling the read function to having the value, with `performance.now()`; a second figure
 * counts from the read's scheduled arrival, so that any event-loop lag is included too.
 */
import { Resources } from '../src/index.js'
import { checks, fmt, quantile, sleep, table, turn } from './support.js'

const BACKEND_MS = 50
const INTERVAL_MS = 500
const RUN_MS = 5_000
const RESOURCES = 4
const LOW_RATE = 2_000
const HIGH_RATE = 20_000

interface Value {
  readonly resource: number
  readonly call: number
}

type Read = (resource: number) => Value | Promise<Value>

/** The simulated backend: every call takes `BACKEND_MS`, and is counted per resource. */
class Backend {
  readonly calls: number[] = new Array<number>(RESOURCES).fill(0)

  async fetch(resource: number): Promise<Value> {
    const call = ++this.calls[resource]!
    await sleep(BACKEND_MS)
    return { resource, call }
  }
}

/**
 * The baseline: a plain TTL cache. A hit returns the value synchronously; an expired or missing
 * entry is loaded from the backend and the read waits for it. With `coalesce`, concurrent misses
 * of one key share a single backend call (the usual "single flight"); without, each miss calls.
 */
class TtlCache<K, V> {
  readonly #entries = new Map<K, { value: V; expiresAt: number }>()
  readonly #inflight = new Map<K, Promise<V>>()

  constructor(
    readonly ttl: number,
    readonly load: (key: K) => Promise<V>,
    readonly coalesce: boolean,
  ) {}

  get(key: K): V | Promise<V> {
    const entry = this.#entries.get(key)
    if (entry !== undefined && entry.expiresAt > performance.now()) return entry.value
    if (!this.coalesce) return this.#fetch(key)
    let pending = this.#inflight.get(key)
    if (pending === undefined) {
      pending = this.#fetch(key).finally(() => this.#inflight.delete(key))
      this.#inflight.set(key, pending)
    }
    return pending
  }

  async #fetch(key: K): Promise<V> {
    const value = await this.load(key)
    this.#entries.set(key, { value, expiresAt: performance.now() + this.ttl })
    return value
  }
}

interface System {
  readonly read: Read
  readonly stop: () => Promise<void>
}

interface Contender {
  readonly label: string
  readonly rate: number
  readonly evergreen: boolean
  /** Builds the system and waits until every resource has a value. */
  readonly setup: (backend: Backend) => Promise<System>
}

async function evergreen(backend: Backend): Promise<System> {
  const resources = new Resources({ interval: INTERVAL_MS, jitter: 0 })
  const handles = Array.from({ length: RESOURCES }, (_, i) =>
    resources.define(`resource-${i}`, () => backend.fetch(i)),
  )
  await resources.start({ wait: true })
  return { read: (i) => handles[i]!.get(), stop: () => resources.stop() }
}

/** The harness's own floor: the value is simply in an array. */
async function plainArray(): Promise<System> {
  const values = Array.from({ length: RESOURCES }, (_, i): Value => ({ resource: i, call: 0 }))
  return { read: (i) => values[i]!, stop: async () => {} }
}

function ttlCache(coalesce: boolean) {
  return async (backend: Backend): Promise<System> => {
    const cache = new TtlCache<number, Value>(INTERVAL_MS, (i) => backend.fetch(i), coalesce)
    await Promise.all(Array.from({ length: RESOURCES }, (_, i) => cache.get(i)))
    return { read: (i) => cache.get(i), stop: async () => {} }
  }
}

interface Measurement {
  readonly contender: Contender
  readonly reads: number
  /** Latency of each read, call to value, in ms. */
  readonly service: Float64Array
  /** Latency of each read, scheduled arrival to value, in ms. */
  readonly response: Float64Array
  readonly calls: readonly number[]
  /** From the first backend call to the end of the run, in ms. */
  readonly elapsed: number
}

async function measure(contender: Contender): Promise<Measurement> {
  const backend = new Backend()
  const began = performance.now()
  const system = await contender.setup(backend)
  const capacity = Math.ceil((contender.rate * RUN_MS) / 1000) + 1
  const service = new Float64Array(capacity)
  const response = new Float64Array(capacity)
  let done = 0
  const pending: Promise<void>[] = []
  const start = performance.now()
  const gap = 1000 / contender.rate
  let issued = 0
  for (;;) {
    const now = performance.now()
    if (now - start >= RUN_MS) break
    const due = Math.min(capacity, Math.floor((now - start) / gap) + 1)
    while (issued < due) {
      const arrival = start + issued * gap
      const resource = issued % RESOURCES
      issued++
      const t0 = performance.now()
      const result = system.read(resource)
      if (result instanceof Promise) {
        pending.push(
          result.then(() => {
            const t1 = performance.now()
            service[done] = t1 - t0
            response[done++] = t1 - arrival
          }),
        )
      } else {
        const t1 = performance.now()
        if (result.resource !== resource) throw new Error('read the wrong resource')
        service[done] = t1 - t0
        response[done++] = t1 - arrival
      }
    }
    if (pending.length > 10_000) await Promise.all(pending.splice(0))
    await turn()
  }
  await Promise.all(pending)
  const calls = [...backend.calls]
  const elapsed = performance.now() - began
  await system.stop()
  return {
    contender,
    reads: done,
    service: service.subarray(0, done),
    response: response.subarray(0, done),
    calls,
    elapsed,
  }
}

/** Loads of one resource in `elapsed` ms: one at once, then one per (interval + load time). */
const expectedCalls = (elapsed: number) => Math.floor(elapsed / (INTERVAL_MS + BACKEND_MS)) + 1

const range = (values: readonly number[]) => {
  const lo = Math.min(...values)
  const hi = Math.max(...values)
  return lo === hi ? String(lo) : `${lo}–${hi}`
}

export async function run(): Promise<string> {
  const contenders: Contender[] = [
    { label: 'floor: value in an array', rate: HIGH_RATE, evergreen: false, setup: plainArray },
    { label: 'evergreen', rate: LOW_RATE, evergreen: true, setup: evergreen },
    { label: 'evergreen', rate: HIGH_RATE, evergreen: true, setup: evergreen },
    { label: 'TTL cache (coalesced misses)', rate: LOW_RATE, evergreen: false, setup: ttlCache(true) },
    { label: 'TTL cache (coalesced misses)', rate: HIGH_RATE, evergreen: false, setup: ttlCache(true) },
    { label: 'TTL cache (every miss calls)', rate: LOW_RATE, evergreen: false, setup: ttlCache(false) },
  ]
  const results: Measurement[] = []
  for (const c of contenders) {
    process.stderr.write(`[latency] ${c.label} at ${c.rate} reads/s\n`)
    results.push(await measure(c))
  }

  const ms = (v: number) => (v < 1 ? `${fmt(v * 1000, 1)} µs` : `${fmt(v, 1)} ms`)
  const rows = results.map((m) => [
    m.contender.label,
    fmt(m.contender.rate, 0),
    fmt(m.reads, 0),
    ms(quantile(m.service, 0.5)),
    ms(quantile(m.service, 0.99)),
    ms(quantile(m.service, 0.999)),
    ms(quantile(m.service, 1)),
    ms(quantile(m.response, 0.99)),
    range(m.calls),
    m.contender.evergreen ? String(expectedCalls(m.elapsed)) : '–',
  ])

  const budget = BACKEND_MS / 100
  const ever = results.filter((m) => m.contender.evergreen)
  const ttl = results.filter((m) => m.contender.label.startsWith('TTL cache (coalesced'))
  const p99 = (m: Measurement) => quantile(m.service, 0.99)
  const callsOk = ever.every((m) => m.calls.every((c) => Math.abs(c - expectedCalls(m.elapsed)) <= 1))
  const allCalls = ever.flatMap((m) => m.calls)
  const rateIndependent = Math.max(...allCalls) - Math.min(...allCalls) <= 1

  return [
    '## Read latency under a slow backend (`latency.bench.ts`)',
    '',
    checks([
      {
        target: `evergreen read p99 under 1% of backend latency (${ms(budget)})`,
        measured: ever.map((m) => `${ms(p99(m))} at ${fmt(m.contender.rate, 0)}/s`).join(', '),
        met: ever.every((m) => p99(m) < budget),
      },
      {
        target: 'baseline check: TTL cache read p99 ≈ backend latency (within 20%)',
        measured: ttl.map((m) => `${ms(p99(m))} at ${fmt(m.contender.rate, 0)}/s`).join(', '),
        met: ttl.every((m) => Math.abs(p99(m) - BACKEND_MS) <= 0.2 * BACKEND_MS),
      },
      {
        target: 'evergreen: one backend call per resource per refresh (expected ±1)',
        measured: ever
          .map(
            (m) =>
              `${range(m.calls)} (expected ${expectedCalls(m.elapsed)}) at ${fmt(m.contender.rate, 0)}/s`,
          )
          .join(', '),
        met: callsOk,
      },
      {
        target: 'evergreen: backend calls independent of the read rate (±1)',
        measured: `${range(allCalls)} per resource at ${ever.map((m) => fmt(m.contender.rate, 0)).join(' and ')} reads/s`,
        met: rateIndependent,
      },
    ]),
    '',
    table(
      [
        'Contender',
        'Reads/s',
        'Reads',
        'p50',
        'p99',
        'p99.9',
        'max',
        'p99 from arrival',
        'Backend calls per resource',
        'Expected',
      ],
      rows,
    ),
    '',
    `Backend: ${BACKEND_MS} ms per call (a timer). ${RESOURCES} resources read round-robin for ${RUN_MS / 1000} s ` +
      `per row, each row in a fresh system. evergreen: \`interval: ${INTERVAL_MS}\`, \`jitter: 0\`, started with ` +
      `\`start({ wait: true })\`; reads are \`resource.get()\`. TTL cache: TTL ${INTERVAL_MS} ms, written for this ` +
      'benchmark (a hit returns at once, an expired entry is fetched and the read waits); "coalesced" shares ' +
      'one backend call among concurrent misses of a key. Both are warmed before reads begin; backend calls ' +
      'count from the first load. Latency is call to value; "from arrival" counts from when the read was ' +
      'due, so it includes event-loop lag. Expected calls = ⌊elapsed / (interval + backend)⌋ + 1: evergreen ' +
      'waits `interval` after each load settles. The TTL cache makes about as many calls (one per expiry), ' +
      'but a read that finds its entry expired waits for the backend, so about ' +
      `${fmt((100 * BACKEND_MS) / (INTERVAL_MS + BACKEND_MS), 0)}% of reads take up to ${BACKEND_MS} ms.`,
  ].join('\n')
}
