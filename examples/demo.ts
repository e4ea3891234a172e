/**
 * evergreen in one screen.
 *
 * Three resources live on a slow, flaky backend (50-300 ms per call, 20% of calls fail, 2% hang).
 * evergreen refreshes them in the background; a steady stream of reads (thousands a second) asks
 * for them, and every read is answered from memory at once, failures or not. A live table shows
 * each resource once a second. At the end, the same reads against lru-cache set up for
 * stale-while-revalidate (the honest rival) and a plain TTL cache, each on the same backend, show
 * what each costs.
 *
 * With the file snapshot store (the default), a second run starts with the values of the first.
 *
 *   npm start                                  # 15 s
 *   npm start -- --duration 30 --interval 2    # refresh every 2 s, for 30 s
 *   npm start -- --no-store                    # always a cold start
 *   npm start -- --serve                       # also an HTTP service: inspector page, probes, /metrics
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import { fileStore } from '../src/file/index.js'
import { type Resource, Resources, type RestoreEvent, type Store } from '../src/index.js'
import { BackendError, DEFAULT_BEHAVIOUR, SimulatedBackend } from './demo/backend.js'
import { formatCount, formatMicros, formatRatio, formatSeconds, table } from './demo/format.js'
import { Histogram } from './demo/histogram.js'
import { LruRival } from './demo/lru-rival.js'
import { Screen } from './demo/screen.js'
import { type Service, serve } from './demo/serve.js'
import { TtlCache } from './demo/ttl-cache.js'

/** A load that has not answered within this time fails, in both caches. */
const TIMEOUT_MS = 1_000
/** The least time given to the first values, whatever --duration. */
const FIRST_VALUES_MS = 10_000

// ---- what the backend serves ------------------------------------------------------------------

interface DemoResource<T> {
  readonly name: string
  /** The backend's current value. */
  readonly produce: () => T
  /** A few words about a value, for the table. */
  readonly describe: (value: T) => string
}

/** Varies smoothly with time, so the values visibly change from load to load. */
const wave = (periodSeconds: number) => Math.sin((Date.now() / 1_000 / periodSeconds) * 2 * Math.PI)
const round = (n: number, digits: number) => Number(n.toFixed(digits))

const exchangeRates: DemoResource<{ base: string; rates: Record<string, number> }> = {
  name: 'exchange-rates',
  produce: () => ({
    base: 'EUR',
    rates: { USD: round(1.08 + 0.004 * wave(7), 4), GBP: round(0.85 + 0.002 * wave(11), 4) },
  }),
  describe: (v) => `EUR/USD ${v.rates.USD?.toFixed(4)}`,
}

const featureFlags: DemoResource<Record<string, boolean>> = {
  name: 'feature-flags',
  produce: () => ({
    'new-checkout': wave(13) > 0,
    'dark-mode': true,
    'search-v2': wave(5) > 0.3,
    'beta-banner': wave(3) > 0,
  }),
  describe: (v) => `${Object.values(v).filter(Boolean).length} of ${Object.keys(v).length} on`,
}

const k8sPods: DemoResource<{ name: string; ready: boolean }[]> = {
  name: 'k8s-pods',
  produce: () =>
    Array.from({ length: 6 + Math.round(2 * wave(9)) }, (_, i) => ({
      name: `api-${i}`,
      ready: Math.random() > 0.1,
    })),
  describe: (v) => `${v.filter((p) => p.ready).length}/${v.length} ready`,
}

const DEMO = [exchangeRates, featureFlags, k8sPods] as DemoResource<unknown>[]
const SOURCES = Object.fromEntries(DEMO.map((r) => [r.name, r.produce]))

// ---- command line -----------------------------------------------------------------------------

const USAGE = `usage: npm start -- [options]
  --duration <s>     how long to read, in seconds, once the first values are in
                     (default 15; with --serve, until Ctrl-C)
  --interval <s>     refresh interval of evergreen and TTL of the plain cache, in seconds (default 1)
  --rate <n>         reads per second, spread over the resources (default 3000)
  --snapshot <path>  where the snapshot is kept (default .evergreen-demo/snapshot.json)
  --no-store         run without the snapshot: every start is cold
  --serve            serve the inspector page, /live, /ready, /status and /metrics on 127.0.0.1
  --port <n>         the port for --serve (default 3000; 0 for any free port)
  --help             show this`

interface Options {
  durationMs: number
  intervalMs: number
  rate: number
  snapshot: string | undefined
  /** The port to serve on, or `undefined` without --serve. */
  port: number | undefined
}

function readOptions(): Options {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string' },
      interval: { type: 'string', default: '1' },
      rate: { type: 'string', default: '3000' },
      snapshot: { type: 'string', default: '.evergreen-demo/snapshot.json' },
      'no-store': { type: 'boolean', default: false },
      serve: { type: 'boolean', default: false },
      port: { type: 'string', default: '3000' },
      help: { type: 'boolean', default: false },
    },
  })
  if (values.help) {
    console.log(USAGE)
    process.exit(0)
  }
  const positive = (option: string, text: string) => {
    const n = Number(text)
    if (!(n > 0 && Number.isFinite(n))) {
      console.error(`--${option} must be a positive number; received "${text}"\n\n${USAGE}`)
      process.exit(2)
    }
    return n
  }
  const port = Number(values.port)
  if (!(Number.isInteger(port) && port >= 0 && port < 65_536)) {
    console.error(`--port must be a port number; received "${values.port}"\n\n${USAGE}`)
    process.exit(2)
  }
  // Served, the demo runs until Ctrl-C unless given a duration (a timer's longest delay is 2^31-1 ms).
  const duration = values.duration ?? (values.serve ? undefined : '15')
  return {
    durationMs: duration === undefined ? 2 ** 31 - 1 : positive('duration', duration) * 1_000,
    intervalMs: positive('interval', values.interval) * 1_000,
    rate: positive('rate', values.rate),
    snapshot: values['no-store'] ? undefined : values.snapshot,
    port: values.serve ? port : undefined,
  }
}

// ---- the demo ---------------------------------------------------------------------------------

async function main(): Promise<void> {
  const options = readOptions()
  // Piped into `head` or a closed pager: stop quietly instead of crashing on the next write.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0)
    throw error
  })
  const screen = new Screen(process.stdout, process.stdout.isTTY === true)
  const { latency, failureRate, hangRate } = DEFAULT_BEHAVIOUR
  screen.print(
    `evergreen demo: ${DEMO.map((r) => r.name).join(', ')}, refreshed every ${formatSeconds(options.intervalMs)}`,
    `backend: ${latency[0]}-${latency[1]} ms per call, ${failureRate * 100}% fail, ${hangRate * 100}% hang ` +
      `(timeout ${formatSeconds(TIMEOUT_MS)}); ${formatCount(options.rate)} reads/s for ${formatSeconds(options.durationMs)}`,
    '',
  )

  // The run ends after --duration of reads or on Ctrl-C, whichever comes first; either way with the
  // summary. Waiting for the first values counts apart, and is given up after --duration or
  // FIRST_VALUES_MS, whichever is longer: with 20% of calls failing, four failures in a row (about
  // one cold start in a hundred with a short --duration) only delay the first value.
  const end = new AbortController()
  const ended = new Promise<void>((resolve) => end.signal.addEventListener('abort', () => resolve()))
  const firstValuesMs = Math.max(options.durationMs, FIRST_VALUES_MS)
  let deadline = setTimeout(() => end.abort(), firstValuesMs)
  let interrupted = false
  const onInterrupt = () => {
    interrupted = true
    process.once('SIGINT', () => {
      screen.end() // a second Ctrl-C does not wait
      process.exit(130)
    })
    end.abort()
  }
  process.once('SIGINT', onInterrupt)

  // 1. evergreen: define the resources; each load is one backend call.
  const backend = new SimulatedBackend(SOURCES)
  // The snapshot file keeps the last good values across runs (its directory is made if missing).
  const store = options.snapshot === undefined ? undefined : fileStore({ path: options.snapshot })
  const storeProblems: string[] = []
  const resources = new Resources({
    interval: options.intervalMs,
    timeout: TIMEOUT_MS,
    retry: { initial: '250ms' },
    store,
    onError: (error) => {
      if (error.code === 'E_STORE') storeProblems.push(error.message)
    },
  })
  const restored: RestoreEvent[] = []
  resources.on('restore', (event) => restored.push(event))
  let latest = ''
  resources.on('error', ({ name, error, retryIn }) => {
    const cause = error.cause instanceof BackendError ? error.cause.message : 'no answer in time'
    latest = `${name}: ${cause}, still serving its last good value (retry in ${formatSeconds(retryIn)})`
  })
  const handles: Resource<unknown>[] = DEMO.map((r) =>
    resources.define(r.name, ({ signal }) => backend.fetch(r.name, signal)),
  )

  // 2. The rivals, each on a backend that behaves the same (with its own call count): lru-cache with
  //    stale-while-revalidate, and a plain TTL cache.
  const lruBackend = new SimulatedBackend(SOURCES)
  const lru = new LruRival((name, signal) => lruBackend.fetch(name, signal), options.intervalMs, TIMEOUT_MS)
  const ttlBackend = new SimulatedBackend(SOURCES)
  const ttl = new TtlCache((name, signal) => ttlBackend.fetch(name, signal), options.intervalMs, TIMEOUT_MS)

  // With --serve, the page, the probes and /metrics are up before the first value is in.
  let service: Service | undefined
  if (options.port !== undefined) {
    service = await serve(resources, options.port)
    screen.print(`serving the inspector at ${service.url}/ (also /live, /ready, /status and /metrics)`, '')
  }

  // 3. Start, and wait for a first value of each resource (at once when restored from the snapshot).
  //    `start({ wait: true })` would reject if a first load failed; `ready()` waits through the retries.
  const warmUp = performance.now()
  void resources.start()
  // The rivals are warmed as well: the TTL cache by a first read, lru-cache until it has a value.
  for (const r of DEMO) Promise.resolve(ttl.get(r.name)).catch(() => {})
  const lruWarm = async (name: string) => {
    while (!end.signal.aborted && !lru.hasValue(name)) await lru.fetch(name).catch(() => sleep(250))
  }
  const ready = await Promise.race([
    // After a cold start the rivals get their first values too; after a warm one, evergreen serves
    // its snapshot at once while the rivals (which keep none) start cold: that is the comparison.
    Promise.all(handles.map((h) => h.ready()))
      .then(() => (restored.length === 0 ? Promise.all(DEMO.map((r) => lruWarm(r.name))) : undefined))
      .then(
        () => true,
        () => false,
      ),
    ended.then(() => false),
  ])
  clearTimeout(deadline)
  if (ready) screen.print(startMessage(store, options.snapshot, restored, performance.now() - warmUp), '')
  else if (!interrupted) screen.print(`no first value within ${formatSeconds(firstValuesMs)}: giving up`)

  // 4. The read stream: the same reads, at a steady rate, go to all three caches.
  const evergreenReads = new Stats()
  const lruReads = new Stats()
  const ttlReads = new Stats()
  const perSecond = DEMO.map(() => new Histogram())
  const read = async (i: number) => {
    const k = i % DEMO.length
    const name = DEMO[k]?.name ?? ''
    let t = performance.now()
    try {
      handles[k]?.get()
    } catch {
      evergreenReads.failed++
    }
    const micros = (performance.now() - t) * 1_000
    evergreenReads.latency.record(micros)
    perSecond[k]?.record(micros)

    t = performance.now()
    const value = ttl.get(name)
    if (!(value instanceof Promise)) ttlReads.latency.record((performance.now() - t) * 1_000)
    else settled(value, t, ttlReads)

    // lru-cache answers every read with a promise: one answered from memory (fresh or stale) is
    // awaited here, so its time is its own; one that waits on the backend is timed in the background.
    t = performance.now()
    const answer = lru.fetch(name)
    if (lru.hasValue(name)) await settled(answer, t, lruReads)
    else void settled(answer, t, lruReads)
  }

  // 5. The live table, once a second.
  const streamStart = performance.now()
  let drawnAt = Number.NEGATIVE_INFINITY
  const draw = () => {
    drawnAt = performance.now()
    const elapsed = formatSeconds(performance.now() - streamStart)
    const health = resources.status().resources
    const rows = DEMO.map((r, k) => {
      const h = health[k]
      const p99 = perSecond[k]?.quantile(0.99)
      perSecond[k]?.reset()
      const value = handles[k]?.peek().value
      return [
        ...(screen.tty ? [] : [elapsed]),
        r.name,
        h?.status ?? '-',
        value === undefined ? '-' : describeSafely(r, value),
        formatSeconds(h?.age),
        formatCount(h?.loads ?? 0),
        formatCount(h?.failures ?? 0),
        formatMicros(p99),
      ]
    })
    const header = ['resource', 'status', 'value', 'value age', 'loads', 'failures', 'read p99']
    const time = screen.tty ? [] : ['time']
    const t = table(
      [...time, ...header],
      rows,
      [...time.map(() => 'right' as const), 'left', 'left', 'left', 'right', 'right', 'right', 'right'],
      [...time.map(() => 6), 14, 8, 14, 9, 5, 8, 8],
    )
    const reads = `${formatCount(evergreenReads.latency.count)} reads`
    screen.update(`${elapsed}  ${reads}  (Ctrl-C to stop)`, t.header, t.rows, latest && `latest: ${latest}`)
  }
  if (ready) {
    deadline = setTimeout(() => end.abort(), options.durationMs)
    draw()
    const ticker = setInterval(draw, 1_000)
    let issued = 0
    while (!end.signal.aborted) {
      const due = Math.floor(((performance.now() - streamStart) / 1_000) * options.rate)
      for (; issued < due; issued++) await read(issued)
      await sleep(1)
    }
    clearInterval(ticker)
    if (performance.now() - drawnAt > 250) draw()
    screen.end()
  }

  // 6. Stop: evergreen aborts its loads and saves the snapshot.
  clearTimeout(deadline)
  process.removeListener('SIGINT', onInterrupt)
  const seconds = formatSeconds(performance.now() - streamStart) + (interrupted ? ' (stopped by Ctrl-C)' : '')
  // Reads waiting on the TTL cache finish, or time out.
  await Promise.all([resources.stop(), ttl.idle(), service?.close()])

  const rows: SummaryRow[] = [
    ['evergreen', evergreenReads, backend.calls],
    ['lru-cache (stale-while-revalidate)', lruReads, lruBackend.calls],
    ['plain TTL cache', ttlReads, ttlBackend.calls],
  ]
  screen.print('', ...summary(seconds, rows))
  if (store !== undefined && storeProblems.length === 0) {
    screen.print(`snapshot saved to ${options.snapshot}: the next run starts warm`)
  }
  for (const problem of storeProblems) screen.print(`snapshot problem: ${problem}`)
}

/** What a cache did with the reads it was given. */
class Stats {
  readonly latency = new Histogram()
  failed = 0
}

/** Records how long the read begun at `t` took to settle, and whether it failed. */
function settled(read: Promise<unknown>, t: number, stats: Stats): Promise<void> {
  return read.then(
    () => stats.latency.record((performance.now() - t) * 1_000),
    () => {
      stats.latency.record((performance.now() - t) * 1_000)
      stats.failed++
    },
  )
}

type SummaryRow = readonly [name: string, stats: Stats, backendCalls: number]

function describeSafely(resource: DemoResource<unknown>, value: unknown): string {
  try {
    return resource.describe(value)
  } catch {
    return '?' // a snapshot written by an older version of the demo
  }
}

function startMessage(
  store: Store | undefined,
  path: string | undefined,
  restored: readonly RestoreEvent[],
  waitedMs: number,
): string {
  if (store === undefined)
    return `snapshot off (--no-store): a cold start, first values in ${waitedMs.toFixed(0)} ms`
  if (restored.length === 0) {
    return `no snapshot yet at ${path}: a cold start, first values in ${waitedMs.toFixed(0)} ms`
  }
  const ages = restored.map((e) => e.age)
  const [low, high] = [formatSeconds(Math.min(...ages)), formatSeconds(Math.max(...ages))]
  const age = low === high ? low : `${low.replace(' s', '')}-${high}`
  return `restored ${restored.length} value${restored.length === 1 ? '' : 's'} from the snapshot, age ${age}`
}

function summary(seconds: string, rows: readonly SummaryRow[]) {
  const t = table(
    ['same reads, same backend', 'reads', 'read p99', 'read max', 'backend calls', 'failed reads'],
    rows.map(([name, stats, calls]) => [
      name,
      formatCount(stats.latency.count),
      formatMicros(stats.latency.quantile(0.99)),
      formatMicros(stats.latency.count === 0 ? undefined : stats.latency.max),
      formatCount(calls),
      formatCount(stats.failed),
    ]),
    ['left', 'right', 'right', 'right', 'right', 'right'],
  )
  const lines = [`summary after ${seconds}:`, t.header, ...t.rows, '']
  const [ours, ...rivals] = rows
  if (ours === undefined) return lines
  const e99 = ours[1].latency.quantile(0.99)
  const conclusions = rivals.map(([name, stats, calls]) => {
    const r99 = stats.latency.quantile(0.99)
    if (e99 === undefined || r99 === undefined)
      return `against ${name}: no reads were made, nothing to compare`
    const speed = e99 <= r99 ? `${formatRatio(r99 / e99)} faster` : `${formatRatio(e99 / r99)} slower`
    return (
      `evergreen: reads ${speed} at p99, ${formatCount(ours[1].failed)} failed reads ` +
      `(vs ${formatCount(stats.failed)}), ${formatCount(ours[2])} backend calls (vs ${formatCount(calls)}) ` +
      `than ${name}.`
    )
  })
  return [...lines, ...conclusions]
}

await main()
