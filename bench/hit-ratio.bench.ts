/**
 * Hit ratio of a family's eviction policy (W-TinyLFU with an adaptive window) against plain LRU
 * (lru-cache, an exact LRU; the family table's own `'lru'` policy gives the very same hits, which
 * test/families/hit-ratio.test.ts checks, so it is not simulated twice here), on seeded traces over 1,000,000 keys (see
 * `traces.ts`), with `maxKeys` at 1% and 10% of the key space. Every access is a read of a string
 * key; a miss inserts the key (as a family's `fetch` does). Hit ratios count every access, the
 * cold start included. Deterministic: the same traces and seeds give the same figures every run.
 */
import os from 'node:os'
import { LRUCache } from 'lru-cache'
import { FamilyTable } from '../src/families/family-table.js'
import { checks, fmt, table } from './support.js'
import {
  KEY_SPACE,
  loopTrace,
  mixTrace,
  slidingTrace,
  topKeysHitRatio,
  zipfCdf,
  zipfTrace,
} from './traces.js'

const LENGTH = 1_000_000
const SIZES = [KEY_SPACE / 100, KEY_SPACE / 10]
const LOOP = 150_000
const SEED = 20_261_202
const VALUE = { v: 1 }
/** Hit ratios this close count as equal: a handful of reads out of two million. */
const TIE = 0.0005
/** A trace not among the issue's, added to show the policy's weak side; reported apart. */
const RECENCY_TRACE = 'sliding hot set'

/** The hit ratio of `trace` (ids into `keys`) through `cache`. */
export function familyHitRatio(
  trace: Int32Array,
  keys: readonly string[],
  cache: FamilyTable<object>,
): number {
  let hits = 0
  for (let i = 0; i < trace.length; i++) {
    const key = keys[trace[i]!]!
    if (cache.read(key) !== -1) hits++
    else cache.set(key, VALUE)
  }
  return hits / trace.length
}

function lruCacheHitRatio(trace: Int32Array, keys: readonly string[], size: number): number {
  const cache = new LRUCache<string, object>({ max: size })
  let hits = 0
  for (let i = 0; i < trace.length; i++) {
    const key = keys[trace[i]!]!
    if (cache.get(key) !== undefined) hits++
    else cache.set(key, VALUE)
  }
  return hits / trace.length
}

interface Trace {
  readonly name: string
  readonly make: () => Int32Array
  /** Hit ratio of a cache holding exactly the most popular keys, where that is known. */
  readonly top?: (size: number) => number
}

const TRACES: readonly Trace[] = [
  ...[0.8, 0.99, 1.2].map((skew, i) => {
    const cdf = zipfCdf(KEY_SPACE, skew)
    return {
      name: `Zipf ${skew}`,
      make: () => zipfTrace({ skew, length: LENGTH, seed: SEED + i }),
      top: (size: number) => topKeysHitRatio(cdf, size),
    }
  }),
  { name: `loop of ${fmt(LOOP, 0)} keys`, make: () => loopTrace(LENGTH, LOOP) },
  {
    name: 'mix (skew, scan, shift, loop)',
    make: () => mixTrace({ phase: LENGTH / 4, seed: SEED + 3, loop: LOOP }),
  },
  {
    name: RECENCY_TRACE,
    make: () => slidingTrace({ length: LENGTH, seed: SEED + 4, hotSet: 200_000, drift: 0.2 }),
  },
]

interface Row {
  readonly trace: string
  readonly size: number
  readonly family: number
  readonly lru: number
  readonly top: number | undefined
}

const pct = (ratio: number) => fmt(ratio * 100, 2)
const points = (delta: number) => `${delta >= 0 ? '+' : ''}${fmt(delta * 100, 2)}`

export async function run(): Promise<string> {
  const started = performance.now()
  const keys = Array.from({ length: KEY_SPACE }, (_, i) => `key-${i}`)
  const rows: Row[] = []
  for (const { name, make, top } of TRACES) {
    const trace = make()
    for (const size of SIZES) {
      const family = familyHitRatio(trace, keys, new FamilyTable({ maxKeys: size, seed: SEED }))
      const lru = lruCacheHitRatio(trace, keys, size)
      rows.push({ trace: name, size, family, lru, top: top?.(size) })
      process.stderr.write(`[hit-ratio] ${name} at ${size}: ${pct(family)}% vs LRU ${pct(lru)}%\n`)
    }
  }
  const seconds = (performance.now() - started) / 1000

  const required = rows.filter((r) => r.trace !== RECENCY_TRACE)
  const recency = rows.filter((r) => r.trace === RECENCY_TRACE)
  const worstOf = (list: readonly Row[]) =>
    list.reduce((a, b) => (b.family - b.lru < a.family - a.lru ? b : a))
  const worst = worstOf(required)
  const worstRecency = worstOf(recency)
  const recencyNote =
    `The sliding hot set is the policy's weak side: at worst ${points(worstRecency.family - worstRecency.lru)} ` +
    `points against LRU (${fmt(worstRecency.size, 0)} keys; reported, not a target).`
  const zipf08 = rows.find((r) => r.trace === 'Zipf 0.8' && r.size === SIZES[0])!
  const summary = checks([
    {
      target: `never below LRU at the same size (Zipf, loop and mix traces, both sizes; within ${fmt(TIE * 100, 2)} points is a tie)`,
      measured: `worst: ${points(worst.family - worst.lru)} points (${worst.trace}, ${fmt(worst.size, 0)} keys)`,
      met: required.every((r) => r.family >= r.lru - TIE),
    },
    {
      target: '≥ 3 points above lru-cache on Zipf 0.8 at 1%',
      measured: `${points(zipf08.family - zipf08.lru)} points (${pct(zipf08.family)}% vs ${pct(zipf08.lru)}%)`,
      met: zipf08.family - zipf08.lru >= 0.03,
    },
  ])
  const results = table(
    [
      'Trace',
      'maxKeys',
      'family (W-TinyLFU, adaptive window)',
      'lru-cache (LRU)',
      'family vs LRU',
      'most popular keys held',
    ],
    rows.map((r) => [
      r.trace,
      `${fmt(r.size, 0)} (${fmt((r.size / KEY_SPACE) * 100, 0)}%)`,
      `${pct(r.family)}%`,
      `${pct(r.lru)}%`,
      points(r.family - r.lru),
      r.top === undefined ? '–' : `${pct(r.top)}%`,
    ]),
  )
  return [
    '## Family hit ratio (`hit-ratio.bench.ts`)',
    summary,
    `Seeded traces over ${fmt(KEY_SPACE, 0)} string keys, ${fmt(LENGTH, 0)} reads each; a miss inserts the key. ` +
      'Hit ratios count every read, the cold start included, so they are the same on every machine. ' +
      '"Most popular keys held" is what a cache that always held exactly the most frequent keys of the ' +
      'Zipf distribution would get, a bound for a policy that cannot see the future. The sliding hot ' +
      'set (uniform reads over 200,000 keys that move on by one key every five reads) favours LRU: ' +
      'a W-TinyLFU with a fixed 1% window lost 21 points to LRU there at 10% (2,000,000 reads, when the ' +
      'policy was chosen: see docs/families-internals.md), which is why the window adapts. ' +
      `${recencyNote} Simulated in ${fmt(seconds, 0)} s (Node.js ${process.version}, ${os.cpus().length} cores, ` +
      `load average ${fmt(os.loadavg()[0] ?? 0, 1)}).`,
    results,
  ].join('\n\n')
}
