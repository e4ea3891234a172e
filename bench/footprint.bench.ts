/**
 * Footprint: what a resource costs to hold, to define, to load and to warm-start, at 100,000.
 *
 * - memory per resource (`heapUsed` growth after full GCs, refreshes an hour apart so none is in
 *   flight): evergreen with loaders sharing one function, evergreen with a loader closure each, and
 *   the hand-written refresher (bench/hand-written.ts, a `setTimeout` per resource) with a loader
 *   closure each; the closures are made after the baseline, in both;
 * - `define()` per resource with shared options, against a `Map.set` of one small record per name
 *   measured in the same process (the machine's speed that moment);
 * - bytes allocated per load (the loader's own promise included), over a window without a garbage
 *   collection;
 * - a warm start of 100,000 from a file-store snapshot: time from the process's start until
 *   `start({ wait: true })` resolves with every value restored (loaders never settle).
 *
 * Every figure comes from its own child process; contenders alternate, and each figure is the
 * median of the rounds.
 */
import { fork } from 'node:child_process'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PerformanceObserver } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { fileStore } from '../src/file/index.js'
import { Resources } from '../src/index.js'
import { handWritten } from './hand-written.js'
import { bytes, checks, fmt, heapUsedAfterGc, median, sleep, table } from './support.js'

const N = 100_000
const ROUNDS = 3
const HOUR = 3_600_000
const value = { items: ['a', 'b', 'c'] }
const names = () => Array.from({ length: N }, (_, i) => `resource-${i}`)

type Mode =
  | 'memory-shared'
  | 'memory-closures'
  | 'memory-hand'
  | 'define'
  | 'alloc-evergreen'
  | 'warm-write'
  | 'warm-read'

// ---- children ------------------------------------------------------------------------------------

async function memory(mode: Mode): Promise<number> {
  const list = names()
  const before = await heapUsedAfterGc()
  let stop: () => unknown
  if (mode === 'memory-hand') {
    const hand = handWritten(list, () => () => Promise.resolve(value), HOUR)
    await hand.ready
    stop = () => hand.stop()
  } else {
    const shared = () => Promise.resolve(value)
    const resources = new Resources({ interval: HOUR, jitter: 0, concurrency: Number.POSITIVE_INFINITY })
    for (const name of list) {
      resources.define(name, mode === 'memory-shared' ? shared : () => Promise.resolve(value))
    }
    await resources.start({ wait: true })
    stop = () => resources.stop()
  }
  const after = await heapUsedAfterGc()
  await stop()
  return (after - before) / N
}

/** µs per `define()`, and per `Map.set` of a small record (same process, same names). */
function define(): { define: number; baseline: number } {
  const list = names()
  const loader = () => value
  const defineRuns: number[] = []
  const baseRuns: number[] = []
  for (let run = 0; run < 5; run++) {
    const map = new Map<string, object>()
    let t = performance.now()
    for (const name of list) {
      if (map.has(name)) throw new Error('duplicate')
      map.set(name, { name, value: undefined, version: 0, at: 0, timer: undefined, loader })
    }
    baseRuns.push(((performance.now() - t) * 1000) / N)
    const resources = new Resources({ interval: 60_000 })
    t = performance.now()
    for (const name of list) resources.define(name, loader)
    defineRuns.push(((performance.now() - t) * 1000) / N)
  }
  return { define: median(defineRuns), baseline: median(baseRuns) }
}

/** Bytes allocated per load in a window with no garbage collection (run with a large young generation). */
async function allocation(mode: Mode): Promise<number | undefined> {
  const n = 20_000
  const list = names().slice(0, n)
  let loads = 0
  const loader = () => {
    loads++
    return Promise.resolve(value)
  }
  let stop: () => unknown = () => {}
  if (mode === 'alloc-evergreen') {
    const resources = new Resources({ interval: 1_000, jitter: 0.1, concurrency: Number.POSITIVE_INFINITY })
    for (const name of list) resources.define(name, loader)
    await resources.start({ wait: true })
    stop = () => resources.stop()
  }
  await sleep(2_500)
  let collections = 0
  const observer = new PerformanceObserver((list) => {
    collections += list.getEntries().length
  })
  observer.observe({ entryTypes: ['gc'] })
  const heap0 = process.memoryUsage().heapUsed
  const loads0 = loads
  // Short, so that no collection falls in it (a run where one did is left out).
  await sleep(250)
  const allocated = process.memoryUsage().heapUsed - heap0
  const windowLoads = loads - loads0
  await sleep(10)
  observer.disconnect()
  await stop()
  return collections === 0 ? allocated / windowLoads : undefined
}

async function warmWrite(path: string): Promise<void> {
  const store = fileStore({ path })
  const resources = new Resources({ interval: HOUR, store, concurrency: Number.POSITIVE_INFINITY })
  const list = names()
  for (let i = 0; i < N; i++) {
    const v = { id: i, items: ['web-1', 'web-2', 'web-3'], region: 'eu-west-1' }
    resources.define(list[i]!, () => v)
  }
  await resources.start({ wait: true })
  await resources.stop()
}

/** Ms from the process's start until every resource was restored, and the split of that time. */
async function warmRead(path: string): Promise<{ ready: number; imported: number }> {
  const imported = performance.now()
  const resources = new Resources({ interval: HOUR, store: fileStore({ path }) })
  const hang = () => new Promise<never>(() => {})
  for (const name of names()) resources.define(name, hang)
  await resources.start({ wait: true })
  const ready = performance.now()
  const missing = [...resources].filter((name) => !resources.resource(name).peek().hasValue).length
  if (missing > 0) throw new Error(`${missing} resources were not restored`)
  return { ready, imported }
}

async function child(mode: Mode, path: string | undefined): Promise<unknown> {
  if (mode.startsWith('memory')) return memory(mode)
  if (mode === 'define') return define()
  if (mode.startsWith('alloc')) return allocation(mode)
  if (mode === 'warm-write') return warmWrite(path!)
  return warmRead(path!)
}

// ---- parent --------------------------------------------------------------------------------------

function runChild<R>(mode: Mode, path?: string, flags: string[] = []): Promise<R> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ['--footprint', mode, path ?? ''], {
      execArgv: [...flags, '--expose-gc', '--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    let message: { result?: R; error?: string } = {}
    child.on('message', (m: typeof message) => {
      message = m
    })
    child.on('exit', (code) => {
      if (code === 0 && 'result' in message) resolve(message.result as R)
      else reject(new Error(`footprint ${mode} failed (exit ${code}): ${message.error ?? 'no result'}`))
    })
  })
}

const YOUNG = ['--max-semi-space-size=256']

export async function run(): Promise<string> {
  const mem: Record<'shared' | 'closures' | 'hand', number[]> = { shared: [], closures: [], hand: [] }
  const defines: { define: number; baseline: number }[] = []
  const alloc: Record<'evergreen', (number | undefined)[]> = { evergreen: [] }
  const warm: { ready: number; imported: number }[] = []
  const dir = mkdtempSync(join(tmpdir(), 'evergreen-footprint-'))
  const path = join(dir, 'snapshot.json')
  try {
    await runChild('warm-write', path)
    for (let round = 0; round < ROUNDS; round++) {
      // Alternated within each round, so a drift of the machine touches every contender alike.
      mem.hand.push(await runChild<number>('memory-hand'))
      mem.shared.push(await runChild<number>('memory-shared'))
      mem.closures.push(await runChild<number>('memory-closures'))
      defines.push(await runChild('define'))
      alloc.evergreen.push(await runChild<number | undefined>('alloc-evergreen', undefined, YOUNG))
      warm.push(await runChild('warm-read', path))
    }
    const snapshotSize = statSync(path).size
    const m = (xs: number[]) => median(xs)
    const measured = (xs: (number | undefined)[]) => xs.filter((x): x is number => x !== undefined)
    const allocEver = m(measured(alloc.evergreen))
    const defineUs = m(defines.map((d) => d.define))
    const defineRatio = m(defines.map((d) => d.define / d.baseline))
    const warmReady = m(warm.map((w) => w.ready))
    const warmImported = m(warm.map((w) => w.imported))
    const runs = (xs: number[], digits = 0) => xs.map((x) => fmt(x, digits)).join(', ')
    return [
      '## Footprint: memory, define, allocation per load, warm start',
      '',
      `${fmt(N, 0)} resources; each figure is the median of ${ROUNDS} child processes per contender, alternated.`,
      '',
      table(
        ['Contender', 'Heap per resource', 'Runs'],
        [
          ['evergreen, loaders sharing one function', `${fmt(m(mem.shared), 0)} B`, runs(mem.shared)],
          ['evergreen, a loader closure each', `${fmt(m(mem.closures), 0)} B`, runs(mem.closures)],
          [
            'hand-written (a `setTimeout` each), a loader closure each',
            `${fmt(m(mem.hand), 0)} B`,
            runs(mem.hand),
          ],
        ],
      ),
      '',
      table(
        ['Measure', 'Median', 'Runs'],
        [
          [
            '`define()` per resource, shared options',
            `${fmt(defineUs, 2)} µs`,
            runs(
              defines.map((d) => d.define),
              2,
            ),
          ],
          [
            '`Map.set` of a small record (same process)',
            `${fmt(m(defines.map((d) => d.baseline)), 2)} µs`,
            runs(
              defines.map((d) => d.baseline),
              2,
            ),
          ],
          ['bytes allocated per load, evergreen', `${fmt(allocEver, 0)} B`, runs(measured(alloc.evergreen))],
          [
            `warm start from a ${bytes(snapshotSize)} snapshot: ready after the process began`,
            `${fmt(warmReady, 0)} ms`,
            runs(warm.map((w) => w.ready)),
          ],
          [
            '… of which starting the process and importing (tsx)',
            `${fmt(warmImported, 0)} ms`,
            runs(warm.map((w) => w.imported)),
          ],
        ],
      ),
      '',
      checks([
        {
          target: '≤ 300 B per resource, loaders sharing one function',
          measured: `${fmt(m(mem.shared), 0)} B`,
          met: m(mem.shared) <= 300,
        },
        {
          target: '≤ the hand-written refresher, a loader closure each',
          measured: `${fmt(m(mem.closures), 0)} B vs ${fmt(m(mem.hand), 0)} B`,
          met: m(mem.closures) <= m(mem.hand),
        },
        {
          target: '`define()` ≤ 2 µs with shared options',
          measured: `${fmt(defineUs, 2)} µs (${fmt(defineRatio, 1)}× a Map.set)`,
          met: defineUs <= 2,
        },
        {
          target: 'warm start of 100,000 ready within 1 s',
          measured: `${fmt(warmReady, 0)} ms`,
          met: warmReady <= 1_000,
        },
      ]),
    ].join('\n')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const at = process.argv.indexOf('--footprint')
if (at !== -1) {
  const mode = process.argv[at + 1] as Mode
  const path = process.argv[at + 2] || undefined
  child(mode, path).then(
    (result) => process.send!({ result: result ?? null }, () => process.exit(0)),
    (error: unknown) =>
      process.send!({ error: String((error as Error)?.stack ?? error) }, () => process.exit(1)),
  )
}
