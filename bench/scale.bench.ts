/**
 * Scale: 100,000 resources in one process, refreshed every second by loaders that take 50 ms.
 * Compares evergreen (one scheduler, one platform timer) with a naive refresher (one `setTimeout`
 * per resource, same loader) on:
 *
 * - timers: how many the refresh machinery has armed at once (through a counting clock for
 *   evergreen, a counter for the naive one), and the ref'd `Timeout`s Node reports (the loaders');
 * - memory per resource: `heapUsed` growth after full GCs, every resource sharing one value;
 * - event-loop delay p99 in steady state (after the start burst), `monitorEventLoopDelay`;
 * - each resource's refresh period against interval + its own load time (jitter 0).
 *
 * Two more timing runs put those figures in context: evergreen with the default jitter, and a
 * minimal refresher with the same loaders (the floor: what the workload costs by itself).
 *
 * Each implementation runs in its own child process (`--scale-variant <name>`), so neither
 * inherits the other's heap or timers.
 */
import { fork } from 'node:child_process'
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { type Clock, Resources } from '../src/index.js'
import {
  bytes,
  checks,
  fmt,
  heapUsedAfterGc,
  type MachineCpu,
  machineCpu,
  mean,
  sleep,
  table,
} from './support.js'

const N = 100_000
const INTERVAL_MS = 1_000
const LOAD_MS = 50
/**
 * Steady-state window, in ms after start: the start burst is over by its beginning. Thirty
 * intervals long, because a resource's period is measured as the mean of the periods it had in the
 * window: over ten, a few collection pauses that happened to delay one resource several times
 * decided the worst of 100,000 resources (the floor's worst ranged from 0.9 % to 3 % between runs).
 */
const WINDOW_START = 3_000
const WINDOW_END = 33_000
const ELD_RESOLUTION_MS = 1
const MEMORY_TARGET = 512

type Variant = 'evergreen' | 'naive' | 'floor'
/** Memory is measured in its own process with refreshes an hour apart, so no load is in flight. */
type Phase = 'memory' | 'timing'
const MEMORY_INTERVAL_MS = 3_600_000

interface MemoryResult {
  readonly bytesPerResource: number
  readonly heapBefore: number
  readonly heapAfter: number
  /** Loads in flight when memory was measured (0: all idle between refreshes). */
  readonly inflightAtMeasure: number
}

interface TimingResult {
  readonly variant: Variant
  readonly startMs: number
  readonly idleEldP99: number
  readonly eldP50: number
  readonly eldP99: number
  readonly eldMax: number
  /** CPU time of the process in the window, as a fraction of one core's wall time. */
  readonly cpuShare: number
  /** CPU time of the process in the window per load started in it, in µs. */
  readonly cpuPerLoadUs: number
  /**
   * The share of the machine's CPU time in the window that the hypervisor gave to other guests
   * (Linux only, else `undefined`).
   */
  readonly stealShare: number | undefined
  readonly gcCount: number
  readonly gcTotalMs: number
  readonly gcMaxMs: number
  readonly maxArmed: number
  readonly timerArms: number
  readonly activeTimeoutsMin: number
  readonly activeTimeoutsMax: number
  readonly meanPeriod: number
  readonly meanLoad: number
  readonly meanDeviation: number
  readonly worstDeviation: number
  readonly within1pct: number
  readonly measuredResources: number
  readonly loads: number
  /** Loads started in the window per resource per second. */
  readonly loadRate: number
}

/** A timing run repeated: the run with the median event-loop delay p99, and every run's p99. */
interface Repeated extends TimingResult {
  readonly eldP99Runs: readonly number[]
}

type VariantResult = MemoryResult & Repeated

// ---- the child: one implementation ---------------------------------------------------------------

interface Value {
  readonly items: readonly string[]
}

/** Per-resource bookkeeping of the loader, in typed arrays so it costs no objects per resource. */
class Recorder {
  readonly first = new Float64Array(N)
  readonly last = new Float64Array(N)
  readonly starts = new Uint32Array(N)
  readonly loadSum = new Float64Array(N)
  readonly loadCount = new Uint32Array(N)
  started = 0
  completed = 0
  windowStart = Number.POSITIVE_INFINITY
  windowEnd = Number.POSITIVE_INFINITY

  /** The loader every resource shares: 50 ms on a timer, then the shared value. */
  load(i: number, value: Value): Promise<Value> {
    const t = performance.now()
    this.started++
    const inWindow = t >= this.windowStart && t <= this.windowEnd
    if (inWindow) {
      if (this.starts[i] === 0) this.first[i] = t
      this.starts[i]!++
      this.last[i] = t
    }
    return new Promise((resolve) => {
      setTimeout(() => {
        this.completed++
        if (inWindow) {
          this.loadSum[i]! += performance.now() - t
          this.loadCount[i]!++
        }
        resolve(value)
      }, LOAD_MS)
    })
  }
}

/** Wraps the global timers like the default clock (timers unref'd) and counts the armed ones. */
class CountingClock implements Clock {
  readonly #armed = new Set<unknown>()
  max = 0
  arms = 0

  get armed(): number {
    return this.#armed.size
  }

  now(): number {
    return Date.now()
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const handle: NodeJS.Timeout = setTimeout(() => {
      this.#armed.delete(handle)
      callback()
    }, ms)
    handle.unref()
    return this.#count(handle)
  }

  clearTimeout(handle: unknown): void {
    clearTimeout(handle as NodeJS.Timeout)
    this.#armed.delete(handle)
  }

  // Like the default clock: a backlog goes on after pending I/O, not after a 1 ms timer.
  setImmediate(callback: () => void): unknown {
    const handle: NodeJS.Immediate = setImmediate(() => {
      this.#armed.delete(handle)
      callback()
    })
    return this.#count(handle)
  }

  clearImmediate(handle: unknown): void {
    clearImmediate(handle as NodeJS.Immediate)
    this.#armed.delete(handle)
  }

  #count<H>(handle: H): H {
    this.#armed.add(handle)
    this.arms++
    this.max = Math.max(this.max, this.#armed.size)
    return handle
  }
}

interface Running {
  readonly started: Promise<void>
  readonly stop: () => Promise<void>
  readonly maxArmed: () => number
  readonly arms: () => number
}

function startEvergreen(
  names: readonly string[],
  loaders: readonly (() => Promise<Value>)[],
  interval: number,
  jitter: number,
) {
  const clock = new CountingClock()
  const resources = new Resources({
    interval,
    jitter,
    concurrency: Number.POSITIVE_INFINITY,
    // All 100,000 load at start: their first refreshes are spread over the interval (see timing.md).
    splay: 1,
    clock,
  })
  for (let i = 0; i < names.length; i++) resources.define(names[i]!, loaders[i]!)
  const running: Running = {
    started: resources.start({ wait: true }),
    stop: () => resources.stop(),
    maxArmed: () => clock.max,
    arms: () => clock.arms,
  }
  return running
}

/** The naive refresher: a `setTimeout` per resource, re-armed after each load, same loader. */
function startNaive(
  names: readonly string[],
  index: Map<string, number>,
  rec: Recorder,
  value: Value,
  interval: number,
) {
  interface Entry {
    value: Value | undefined
    timer: NodeJS.Timeout | undefined
  }
  const entries = new Map<string, Entry>()
  let armed = 0
  let max = 0
  let arms = 0
  let stopped = false
  let firstLoads = 0
  let allLoaded: () => void = () => {}
  const started = new Promise<void>((resolve) => {
    allLoaded = resolve
  })
  for (const name of names) {
    const i = index.get(name)!
    const entry: Entry = { value: undefined, timer: undefined }
    const tick = (): void => {
      if (entry.timer !== undefined) armed--
      entry.timer = undefined
      rec.load(i, value).then((loaded) => {
        const first = entry.value === undefined
        if (first && ++firstLoads === names.length) allLoaded()
        entry.value = loaded
        if (stopped) return
        entry.timer = setTimeout(tick, first && NAIVE_SPLAY ? spread(interval, i) : interval)
        entry.timer.unref()
        arms++
        max = Math.max(max, ++armed)
      })
    }
    entries.set(name, entry)
    tick()
  }
  const running: Running = {
    started,
    stop: async () => {
      stopped = true
      for (const entry of entries.values()) clearTimeout(entry.timer)
    },
    maxArmed: () => max,
    arms: () => arms,
  }
  return running
}

/**
 * The floor: the least a refresher that yields to the event loop can do. Resources by index in a
 * timing wheel of 1 ms buckets, a 1 ms interval timer that collects the due ones, and a drain that
 * starts them for at most 1 ms before yielding with `setImmediate` (as evergreen's scheduler does).
 * No timeouts, errors, events or state: only the loader calls, so what it measures is the workload.
 */
function startFloor(
  names: readonly string[],
  index: Map<string, number>,
  rec: Recorder,
  value: Value,
  interval: number,
) {
  const ids = names.map((name) => index.get(name)!)
  const buckets = new Map<number, number[]>()
  const due: number[] = []
  let last = Date.now()
  let firstLoads = 0
  let allLoaded: () => void = () => {}
  const started = new Promise<void>((resolve) => {
    allLoaded = resolve
  })
  const loaded = new Uint8Array(N)
  const settle = (i: number) => {
    const first = loaded[i] === 0
    if (first) {
      loaded[i] = 1
      if (++firstLoads === ids.length) allLoaded()
    }
    const base = first ? spread(interval, i) : interval
    const at = Math.round(Date.now() + base * (1 + JITTER * (2 * Math.random() - 1)))
    let bucket = buckets.get(at)
    if (bucket === undefined) buckets.set(at, (bucket = []))
    bucket.push(i)
  }
  const load = (i: number) => {
    rec.load(i, value).then(() => settle(i))
  }
  const drain = () => {
    const end = performance.now() + 1
    let n = 0
    while (due.length > 0) {
      load(due.pop()!)
      if (++n % 16 === 0 && performance.now() >= end) {
        setImmediate(drain)
        return
      }
    }
  }
  const tick = setInterval(() => {
    const now = Date.now()
    for (let t = last; t <= now; t++) {
      const bucket = buckets.get(t)
      if (bucket === undefined) continue
      buckets.delete(t)
      for (const i of bucket) due.push(i)
    }
    last = now + 1
    drain()
  }, 1)
  tick.unref()
  for (const i of ids) load(i)
  const running: Running = {
    started,
    stop: async () => clearInterval(tick),
    // One interval timer, armed once (and the immediates of its drain); not reported.
    maxArmed: () => 1,
    arms: () => 1,
  }
  return running
}

const countTimeouts = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length

/** Jitter of the run: 0 (lock-step, so each period can be measured), or the default with `--jitter`. */
const JITTER = process.argv.includes('--jitter') ? 0.1 : 0
/**
 * Whether the naive refresher spreads its first refresh like evergreen's `splay: 1` (evergreen and the
 * floor always do): `--splay`, for a run that shows what the spread alone does for it.
 */
const NAIVE_SPLAY = process.argv.includes('--splay')
/**
 * The delay after resource `i`'s first load when the first refreshes are spread over the interval
 * the way evergreen's `splay: 1` spreads them: evenly, in resource order.
 */
const spread = (interval: number, i: number) => (interval * (i + Math.random())) / N

const build = (variant: Variant) => {
  // Everything a user would hold anyway is built before the baseline: names, the value, the bookkeeping.
  const names = Array.from({ length: N }, (_, i) => `resource-${i}`)
  const index = new Map(names.map((name, i) => [name, i]))
  const value: Value = { items: ['a', 'b', 'c'] }
  const rec = new Recorder()
  // A user's loader knows its resource; like the floor and the naive refresher, it needs no lookup.
  const loaders = variant === 'evergreen' ? names.map((_, i) => () => rec.load(i, value)) : []
  const start = (interval: number) =>
    variant === 'evergreen'
      ? startEvergreen(names, loaders, interval, JITTER)
      : variant === 'naive'
        ? startNaive(names, index, rec, value, interval)
        : startFloor(names, index, rec, value, interval)
  return { rec, start }
}

async function measureMemory(variant: Variant): Promise<MemoryResult> {
  const { rec, start } = build(variant)
  const heapBefore = await heapUsedAfterGc()
  const running = start(MEMORY_INTERVAL_MS)
  await running.started
  // Every resource has loaded once and waits for its next refresh, an hour away.
  const heapAfter = await heapUsedAfterGc()
  const inflightAtMeasure = rec.started - rec.completed
  await running.stop()
  return { bytesPerResource: (heapAfter - heapBefore) / N, heapBefore, heapAfter, inflightAtMeasure }
}

async function measureTiming(variant: Variant): Promise<TimingResult> {
  // Idle event-loop delay first: the floor of this measurement on this machine.
  const idle = monitorEventLoopDelay({ resolution: ELD_RESOLUTION_MS })
  idle.enable()
  await sleep(1_000)
  idle.disable()

  const { rec, start } = build(variant)
  const t0 = performance.now()
  rec.windowStart = t0 + WINDOW_START
  rec.windowEnd = t0 + WINDOW_END
  const running = start(INTERVAL_MS)
  const startMs = performance.now() - t0
  await running.started
  process.stderr.write(
    `[scale] ${variant}: started in ${fmt(startMs, 0)} ms, ready after ${fmt(performance.now() - t0, 0)} ms\n`,
  )

  const eld = monitorEventLoopDelay({ resolution: ELD_RESOLUTION_MS })
  // Garbage-collection pauses in the window, to tell them apart from time spent in callbacks.
  const gcPauses: number[] = []
  const gcObserver = new PerformanceObserver((list) => {
    if (eldOn) for (const entry of list.getEntries()) gcPauses.push(entry.duration)
  })
  let eldOn = false
  gcObserver.observe({ entryTypes: ['gc'] })
  const timeouts: number[] = []
  let cpuStart = process.cpuUsage()
  let wallStart = 0
  let loadsStart = 0
  let machineStart: MachineCpu | undefined
  for (let second = 1; second * 1000 <= WINDOW_END; second++) {
    const wait = t0 + second * 1000 - performance.now()
    if (wait > 0) await sleep(wait)
    // The bench's own sleep has fired, so every Timeout left belongs to the loaders (or the refresher).
    timeouts.push(countTimeouts())
    if (second * 1000 === WINDOW_START) {
      eld.enable()
      eldOn = true
      cpuStart = process.cpuUsage()
      wallStart = performance.now()
      loadsStart = rec.started
      machineStart = machineCpu()
    }
  }
  eld.disable()
  eldOn = false
  const cpu = process.cpuUsage(cpuStart)
  const cpuMs = (cpu.user + cpu.system) / 1000
  const wallMs = performance.now() - wallStart
  const machineEnd = machineCpu()
  const windowLoads = rec.started - loadsStart
  gcObserver.disconnect()
  await running.stop()

  const deviations: number[] = []
  const periods: number[] = []
  const loadTimes: number[] = []
  for (let i = 0; i < N; i++) {
    const starts = rec.starts[i]!
    const loads = rec.loadCount[i]!
    if (starts < 3 || loads === 0) continue
    const period = (rec.last[i]! - rec.first[i]!) / (starts - 1)
    const load = rec.loadSum[i]! / loads
    periods.push(period)
    loadTimes.push(load)
    deviations.push(period / (INTERVAL_MS + load) - 1)
  }
  const ms = (ns: number) => ns / 1e6
  return {
    variant,
    startMs,
    idleEldP99: ms(idle.percentile(99)),
    eldP50: ms(eld.percentile(50)),
    eldP99: ms(eld.percentile(99)),
    eldMax: ms(eld.max),
    cpuShare: cpuMs / wallMs,
    cpuPerLoadUs: (cpuMs * 1000) / Math.max(1, windowLoads),
    stealShare:
      machineStart === undefined || machineEnd === undefined
        ? undefined
        : (machineEnd.steal - machineStart.steal) / Math.max(1, machineEnd.total - machineStart.total),
    gcCount: gcPauses.length,
    gcTotalMs: gcPauses.reduce((a, b) => a + b, 0),
    gcMaxMs: Math.max(0, ...gcPauses),
    maxArmed: running.maxArmed(),
    timerArms: running.arms(),
    activeTimeoutsMin: Math.min(...timeouts.slice(WINDOW_START / 1000)),
    activeTimeoutsMax: Math.max(...timeouts.slice(WINDOW_START / 1000)),
    meanPeriod: mean(periods),
    meanLoad: mean(loadTimes),
    meanDeviation: mean(deviations),
    worstDeviation: deviations.reduce((worst, d) => Math.max(worst, Math.abs(d)), 0),
    within1pct: deviations.filter((d) => Math.abs(d) <= 0.01).length / Math.max(1, deviations.length),
    measuredResources: deviations.length,
    loads: rec.started,
    loadRate: windowLoads / (wallMs / 1000) / N,
  }
}

// ---- the parent: both implementations, one report ------------------------------------------------

/** The V8 flag of the tuned runs: a young generation sized for 100,000 short-lived loads a second. */
const TUNED_FLAG = '--max-semi-space-size=64'

function runChild<R>(variant: Variant, phase: Phase, flags: string[] = [], args: string[] = []): Promise<R> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ['--scale-variant', variant, phase, ...args], {
      execArgv: [...flags, '--expose-gc', '--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    let result: R | undefined
    let failure: string | undefined
    child.on('message', (m: { result?: R; error?: string }) => {
      result = m.result
      failure = m.error
    })
    child.on('exit', (code) => {
      if (result !== undefined) resolve(result)
      else reject(new Error(`scale ${variant} ${phase} failed (exit ${code}): ${failure ?? 'no result'}`))
    })
  })
}

/**
 * One window's p99 varies by a few ms between runs, the floor's as much as evergreen's (the machine's
 * other work, and where the collections fall); the comparisons use the median of these. Five, so
 * one unlucky run on either side cannot decide the median.
 */
const TIMING_RUNS = 5

function median(results: readonly TimingResult[]): Repeated {
  const sorted = [...results].sort((a, b) => a.eldP99 - b.eldP99)
  return { ...sorted[Math.floor(sorted.length / 2)]!, eldP99Runs: results.map((r) => r.eldP99) }
}

export async function run(): Promise<string> {
  // Interleaved, so a drift of the machine's load touches every variant alike.
  const timings: Record<Variant, TimingResult[]> = { evergreen: [], naive: [], floor: [] }
  for (let i = 0; i < TIMING_RUNS; i++) {
    for (const variant of ['evergreen', 'naive', 'floor'] as const) {
      timings[variant].push(await runChild<TimingResult>(variant, 'timing'))
    }
  }
  const ever: VariantResult = {
    ...(await runChild<MemoryResult>('evergreen', 'memory')),
    ...median(timings.evergreen),
  }
  const naive: VariantResult = {
    ...(await runChild<MemoryResult>('naive', 'memory')),
    ...median(timings.naive),
  }
  const floor = median(timings.floor)
  const stealText = (r: TimingResult) => (r.stealShare === undefined ? 'not measured' : pct(r.stealShare))
  const steals = Object.values(timings)
    .flat()
    .flatMap((r) => (r.stealShare === undefined ? [] : [r.stealShare]))
  const p99s = (r: Repeated) => `runs: ${r.eldP99Runs.map((v) => fmt(v, 1)).join(', ')} ms`
  const everTuned = await runChild<TimingResult>('evergreen', 'timing', [TUNED_FLAG])
  const naiveTuned = await runChild<TimingResult>('naive', 'timing', [TUNED_FLAG])
  const naiveSplay = await runChild<TimingResult>('naive', 'timing', [], ['--splay'])
  const everJitter = await runChild<TimingResult>('evergreen', 'timing', [], ['--jitter'])
  const floorJitter = await runChild<TimingResult>('floor', 'timing', [], ['--jitter'])
  const expectedRate = 1000 / (INTERVAL_MS + everJitter.meanLoad)
  const pct = (v: number) => `${fmt(v * 100, 2)}%`
  const msf = (v: number) => `${fmt(v, 1)} ms`
  const rows = (pick: (r: VariantResult) => string) => [pick(ever), pick(naive)]
  const line = (label: string, pick: (r: VariantResult) => string) => [label, ...rows(pick)]

  return [
    '## 100,000 resources (`scale.bench.ts`)',
    '',
    checks([
      {
        target: 'timers of the refresh machinery stay constant (evergreen: at most 1 armed)',
        measured: `at most ${fmt(ever.maxArmed, 0)} armed at once (${fmt(ever.timerArms, 0)} arms in all); naive: ${fmt(naive.maxArmed, 0)}`,
        met: ever.maxArmed <= 1,
      },
      {
        target: `memory per resource < ${MEMORY_TARGET} bytes`,
        measured: `${fmt(ever.bytesPerResource, 0)} B (naive: ${fmt(naive.bytesPerResource, 0)} B)`,
        met: ever.bytesPerResource < MEMORY_TARGET,
      },
      {
        target: 'event-loop delay p99 < 10 ms while all refresh (steady state)',
        measured: `${msf(ever.eldP99)}, median of ${TIMING_RUNS} (${p99s(ever)}); naive: ${msf(naive.eldP99)}; floor: ${msf(floor.eldP99)}`,
        met: ever.eldP99 < 10,
      },
      {
        target: 'event-loop delay p99 better than the naive refresher',
        measured: `${msf(ever.eldP99)} vs ${msf(naive.eldP99)} (naive ${p99s(naive)})`,
        met: ever.eldP99 < naive.eldP99,
      },
      {
        target: 'each refresh period within 1% of interval + load time',
        measured: `worst ${pct(ever.worstDeviation)}, mean ${pct(ever.meanDeviation)}; ${pct(ever.within1pct)} of resources within 1%`,
        met: ever.worstDeviation <= 0.01,
      },
    ]),
    '',
    table(
      ['', 'evergreen', 'naive (setTimeout per resource)'],
      [
        line('Timers armed by the refresher, max at once', (r) => fmt(r.maxArmed, 0)),
        line('Timer arms in all', (r) => fmt(r.timerArms, 0)),
        line(
          "Ref'd `Timeout`s in the process (the loaders'), min – max",
          (r) => `${fmt(r.activeTimeoutsMin, 0)} – ${fmt(r.activeTimeoutsMax, 0)}`,
        ),
        line('Memory per resource', (r) => `${fmt(r.bytesPerResource, 0)} B`),
        line(
          'Heap, before → after defining and loading (memory run)',
          (r) => `${bytes(r.heapBefore)} → ${bytes(r.heapAfter)}`,
        ),
        line('Loads in flight when memory was measured', (r) => fmt(r.inflightAtMeasure, 0)),
        line('Start (synchronous part of defining + starting)', (r) => msf(r.startMs)),
        line('Event-loop delay p50, steady state', (r) => msf(r.eldP50)),
        line('Event-loop delay p99, steady state (median run)', (r) => `${msf(r.eldP99)} (${p99s(r)})`),
        line('Event-loop delay max, steady state', (r) => msf(r.eldMax)),
        line('CPU used in the window (share of one core)', (r) => pct(r.cpuShare)),
        line('CPU time per load in the window', (r) => `${fmt(r.cpuPerLoadUs, 1)} µs`),
        line(
          'GC pauses in the window: count, total, longest',
          (r) => `${fmt(r.gcCount, 0)}, ${msf(r.gcTotalMs)}, ${msf(r.gcMaxMs)}`,
        ),
        line('Event-loop delay p99, idle (before defining)', (r) => msf(r.idleEldP99)),
        line('Mean refresh period', (r) => msf(r.meanPeriod)),
        line('Mean load time (loader start to its value)', (r) => msf(r.meanLoad)),
        line('Period vs interval + load: mean deviation', (r) => pct(r.meanDeviation)),
        line('Period vs interval + load: worst resource', (r) => pct(r.worstDeviation)),
        line('Resources within 1%', (r) => `${pct(r.within1pct)} of ${fmt(r.measuredResources, 0)}`),
        line('Loads in all', (r) => fmt(r.loads, 0)),
      ],
    ),
    '',
    `### The same, with \`node ${TUNED_FLAG}\``,
    '',
    'With default flags the young generation is too small for this allocation rate (100,000 loads a second, ' +
      "each holding its loader's promise and timer for 50 ms): scavenges of 10-30 ms set the event-loop delay " +
      'for both implementations. Sized for it, the same runs give:',
    '',
    checks([
      {
        target: 'event-loop delay p99 < 10 ms while all refresh (steady state)',
        measured: `${msf(everTuned.eldP99)} (naive: ${msf(naiveTuned.eldP99)})`,
        met: everTuned.eldP99 < 10,
      },
      {
        target: 'each refresh period within 1% of interval + load time',
        measured: `worst ${pct(everTuned.worstDeviation)}, mean ${pct(everTuned.meanDeviation)}; ${pct(everTuned.within1pct)} of resources within 1% (naive: mean ${pct(naiveTuned.meanDeviation)})`,
        met: everTuned.worstDeviation <= 0.01,
      },
    ]),
    '',
    table(
      ['', 'evergreen', 'naive (setTimeout per resource)'],
      [
        [
          'Event-loop delay p99 / max',
          `${msf(everTuned.eldP99)} / ${msf(everTuned.eldMax)}`,
          `${msf(naiveTuned.eldP99)} / ${msf(naiveTuned.eldMax)}`,
        ],
        [
          'GC pauses: count, total, longest',
          ...[everTuned, naiveTuned].map(
            (r) => `${fmt(r.gcCount, 0)}, ${msf(r.gcTotalMs)}, ${msf(r.gcMaxMs)}`,
          ),
        ],
        ['CPU time per load', ...[everTuned, naiveTuned].map((r) => `${fmt(r.cpuPerLoadUs, 1)} µs`)],
        [
          'Period vs interval + load: mean / worst',
          ...[everTuned, naiveTuned].map((r) => `${pct(r.meanDeviation)} / ${pct(r.worstDeviation)}`),
        ],
      ],
    ),
    '',
    '### The floor: the same loaders under a minimal refresher that yields',
    '',
    'What the workload costs by itself. The floor is a timing wheel of 1 ms buckets, read by a 1 ms interval ' +
      'timer; due loads are started for at most 1 ms at a time, then it yields with `setImmediate`, as ' +
      "evergreen's scheduler does, and it spreads each resource's first refresh over the interval, as " +
      "evergreen's `splay: 1` does. It has no timeouts, errors, events, state or stores. Default flags, jitter 0. " +
      'The last column is the naive refresher with the same spread of its first refreshes (one run).',
    '',
    table(
      [
        '',
        'evergreen',
        'floor (minimal refresher)',
        'naive (setTimeout per resource)',
        'naive, first refreshes spread',
      ],
      [
        [
          'Event-loop delay p99 (median run)',
          ...[ever, floor, naive].map((r) => `${msf(r.eldP99)} (${p99s(r)})`),
          msf(naiveSplay.eldP99),
        ],
        [
          'GC pauses: count, total, longest',
          ...[ever, floor, naive, naiveSplay].map(
            (r) => `${fmt(r.gcCount, 0)}, ${msf(r.gcTotalMs)}, ${msf(r.gcMaxMs)}`,
          ),
        ],
        [
          'CPU used in the window (share of one core)',
          ...[ever, floor, naive, naiveSplay].map((r) => pct(r.cpuShare)),
        ],
        ['CPU time per load', ...[ever, floor, naive, naiveSplay].map((r) => `${fmt(r.cpuPerLoadUs, 1)} µs`)],
        ['CPU stolen by the hypervisor in the window', ...[ever, floor, naive, naiveSplay].map(stealText)],
        [
          'Period vs interval + load: mean / worst',
          ...[ever, floor, naive, naiveSplay].map(
            (r) => `${pct(r.meanDeviation)} / ${pct(r.worstDeviation)}`,
          ),
        ],
      ],
    ),
    '',
    steals.length === 0
      ? 'CPU stolen by the hypervisor: not measured (no `/proc/stat`).'
      : `The machine is a virtual machine: in the ${steals.length} windows above (every run of every variant), ` +
        `the hypervisor took ${pct(Math.min(...steals))} to ${pct(Math.max(...steals))} of the CPU time ` +
        'for other guests (`steal` in `/proc/stat`, over both cores). A stolen stretch delays whatever runs at that moment, in every ' +
        'variant alike: compare variants within one run.',
    '',
    '### The same, with the default jitter (0.1)',
    '',
    'Lock-step refreshes (jitter 0) let each period be measured, but they are the worst case for the event loop: ' +
      'every stall bunches the loads due during it, and nothing spreads them again. With the default jitter each ' +
      "delay is drawn from interval ± 10%, so a single resource's period is no longer comparable with " +
      'interval + load; over all resources the mean still is, and it shows whether the scheduler keeps up.',
    '',
    checks([
      {
        target: 'event-loop delay p99 < 10 ms while all refresh (steady state)',
        measured: `${msf(everJitter.eldP99)} (max ${msf(everJitter.eldMax)}); floor: ${msf(floorJitter.eldP99)}`,
        met: everJitter.eldP99 < 10,
      },
      {
        target: 'the scheduler keeps up: mean refresh period within 1% of interval + load time',
        measured: `mean deviation ${pct(everJitter.meanDeviation)}; ${fmt(everJitter.loadRate, 3)} loads per resource per second (expected ${fmt(expectedRate, 3)})`,
        met: Math.abs(everJitter.meanDeviation) <= 0.01,
      },
    ]),
    '',
    table(
      ['', 'evergreen, jitter 0.1', 'floor, jitter 0.1'],
      [
        [
          'GC pauses: count, total, longest',
          ...[everJitter, floorJitter].map(
            (r) => `${fmt(r.gcCount, 0)}, ${msf(r.gcTotalMs)}, ${msf(r.gcMaxMs)}`,
          ),
        ],
        [
          'CPU used in the window (share of one core)',
          ...[everJitter, floorJitter].map((r) => pct(r.cpuShare)),
        ],
        ['CPU time per load', ...[everJitter, floorJitter].map((r) => `${fmt(r.cpuPerLoadUs, 1)} µs`)],
        ['CPU stolen by the hypervisor in the window', ...[everJitter, floorJitter].map(stealText)],
        ['Mean period vs interval + load', ...[everJitter, floorJitter].map((r) => pct(r.meanDeviation))],
      ],
    ),
    '',
    'With jitter, refreshes drift into random order within a few intervals, so each one touches its ' +
      'resource in random order. The floor keeps everything per resource in typed arrays; evergreen visits ' +
      'objects (the resource, its state, its task, its new load) that at this scale miss the cache, which is ' +
      'most of the difference in CPU. (At jitter 0 the resources keep the order splay gave them, which is ' +
      "the order they were defined in.) The scheduler's lists (its timing wheel, the load timeouts) are " +
      "linked through the resources' tasks, so they miss there too: a refresh in random order touches its " +
      'neighbours in them as well (see the diagnosis below).',
    '',
    `${fmt(N, 0)} resources, \`interval: ${INTERVAL_MS}\`, \`jitter: 0\` unless said otherwise, \`splay: 1\` (all start together; see timing.md), \`concurrency: Infinity\` (the documented ` +
      `default is 64, which would queue this burst; here every due load starts at once). Each loader waits ` +
      `${LOAD_MS} ms on its own \`setTimeout\` and returns one shared value object. Each implementation runs in ` +
      "its own process. evergreen gets a counting clock (wrapping the global timers, unref'd like the default); " +
      "the naive refresher's timers are counted as it arms them. Node's `getActiveResourcesInfo()` lists only " +
      "ref'd timers, so its `Timeout` count is the loaders' own timers, sampled once a second. Memory is measured " +
      'in a separate process with the interval set to an hour (memory per resource does not depend on it), right ' +
      'after every resource has loaded once, so no load is in flight: heap growth over a baseline that already holds the names, the value and the bookkeeping arrays. Event-loop delay is ' +
      `\`monitorEventLoopDelay({ resolution: ${ELD_RESOLUTION_MS} })\` from ${WINDOW_START / 1000} s to ` +
      `${WINDOW_END / 1000} s after start; its figures include the ${ELD_RESOLUTION_MS} ms sampling period (an ` +
      'idle loop reads about 1.1 ms). Refresh period: per resource, the mean time between load starts within that ' +
      "window, compared with the interval plus that resource's mean load time (timer lateness under load counts " +
      'as load time: it is the loader being late, not the scheduler).',
  ].join('\n')
}

// Child mode: `node --expose-gc --import tsx bench/scale.bench.ts --scale-variant <name> <phase>`.
const variantAt = process.argv.indexOf('--scale-variant')
if (variantAt !== -1) {
  const variant = process.argv[variantAt + 1] as Variant
  const phase = process.argv[variantAt + 2] as Phase
  // Run by hand (without a parent to send to), it prints its result instead.
  const send = (message: object, code: number) =>
    process.send === undefined
      ? process.stdout.write(`${JSON.stringify(message, null, 2)}\n`, () => process.exit(code))
      : process.send(message, () => process.exit(code))
  const measure = phase === 'memory' ? measureMemory(variant) : measureTiming(variant)
  measure.then(
    (result) => send({ result }, 0),
    (error: unknown) => send({ error: String((error as Error)?.stack ?? error) }, 1),
  )
}
