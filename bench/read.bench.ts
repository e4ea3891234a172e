/**
 * Read cost: `resource.get()` and `resources.get(name)` against a raw `Map.get` of the same value
 * and against lru-cache's `get()`.
 *
 * Harness: every contender is its own loop function of the same shape (so each gets its own
 * type feedback and optimised code), reading one key and adding a field of the value to a sink that
 * is checked afterwards (so no read can be optimised away). After a warm-up, the contenders are
 * timed in interleaved rounds (rotating the order each round, so drift hits all alike); the
 * result is the median ns/op over the rounds.
 */
import { LRUCache } from 'lru-cache'
import { Resources } from '../src/index.js'
import { checks, fmt, median, nowNs, quantile, table } from './support.js'

interface Value {
  readonly id: number
  readonly items: readonly string[]
}

const KEY = 'pods'
const ITERATIONS = 2_000_000
const WARMUP_ROUNDS = 5
const ROUNDS = 41

/** The same value object behind every contender. */
const VALUE: Value = { id: 7, items: ['a', 'b', 'c'] }

type Loop = (n: number) => number

interface Contender {
  readonly label: string
  readonly loop: Loop
}

async function contenders(): Promise<{ list: Contender[]; cleanup: () => Promise<void> }> {
  const map = new Map<string, Value>([[KEY, VALUE]])

  const lru = new LRUCache<string, Value>({ max: 1_000 })
  lru.set(KEY, VALUE)

  const resources = new Resources({ interval: '1h', jitter: 0 })
  const resource = resources.define(KEY, () => VALUE)
  await resources.start({ wait: true })
  if (resource.get() !== VALUE || resources.get(KEY) !== VALUE) throw new Error('the resource is not ready')

  // One function per contender, written out rather than built by a factory: closures made by one
  // factory would share their type feedback and their optimised code.
  const held = VALUE
  const floor: Loop = (n) => {
    let sink = 0
    for (let i = 0; i < n; i++) sink += held.id
    return sink
  }
  const mapGet: Loop = (n) => {
    let sink = 0
    for (let i = 0; i < n; i++) sink += map.get(KEY)!.id
    return sink
  }
  const resourceGet: Loop = (n) => {
    let sink = 0
    for (let i = 0; i < n; i++) sink += resource.get().id
    return sink
  }
  const resourcesGet: Loop = (n) => {
    let sink = 0
    for (let i = 0; i < n; i++) sink += (resources.get(KEY) as Value).id
    return sink
  }
  const lruGet: Loop = (n) => {
    let sink = 0
    for (let i = 0; i < n; i++) sink += lru.get(KEY)!.id
    return sink
  }

  return {
    list: [
      { label: 'loop floor (value held in a local)', loop: floor },
      { label: 'Map.get(name) (baseline)', loop: mapGet },
      { label: 'resource.get()', loop: resourceGet },
      { label: 'resources.get(name)', loop: resourcesGet },
      { label: 'lru-cache get(name)', loop: lruGet },
    ],
    cleanup: () => resources.stop(),
  }
}

/** Times one round of `loop`; checks its sink so the work cannot have been skipped. */
function timeRound(c: Contender): number {
  const start = nowNs()
  const sink = c.loop(ITERATIONS)
  const elapsed = nowNs() - start
  if (sink !== ITERATIONS * VALUE.id) throw new Error(`${c.label}: wrong sink ${sink}`)
  return elapsed / ITERATIONS
}

export async function run(): Promise<string> {
  const { list, cleanup } = await contenders()
  // rounds[r][k]: ns/op of contender k in timed round r.
  const rounds: number[][] = []
  for (let round = 0; round < WARMUP_ROUNDS + ROUNDS; round++) {
    const times: number[] = new Array(list.length).fill(0)
    for (let k = 0; k < list.length; k++) {
      const index = (round + k) % list.length
      times[index] = timeRound(list[index]!)
    }
    if (round >= WARMUP_ROUNDS) rounds.push(times)
  }
  await cleanup()

  const baseline = list.findIndex((c) => c.label.startsWith('Map.get'))
  const stats = list.map((c, k) => {
    const s = rounds.map((times) => times[k]!)
    // Paired: each round's time over the baseline's time in that same round, so drift cancels out.
    const ratios = rounds.map((times) => times[k]! / times[baseline]!)
    return { c, median: median(s), p10: quantile(s, 0.1), p90: quantile(s, 0.9), ratio: median(ratios) }
  })
  const byLabel = (prefix: string) => stats.find((s) => s.c.label.startsWith(prefix))!
  const map = byLabel('Map.get')
  const resource = byLabel('resource.get')
  const registry = byLabel('resources.get')
  const lru = byLabel('lru-cache')
  const x = (v: number) => `${fmt(v, 2)}x`

  const rows = stats.map((s) => [
    s.c.label,
    fmt(s.median, 2),
    `${fmt(s.p10, 2)} – ${fmt(s.p90, 2)}`,
    x(s.ratio),
  ])

  return [
    '## Read cost (`read.bench.ts`)',
    '',
    checks([
      {
        target: '`resource.get()` within 1.5x of `Map.get`',
        measured: `${x(resource.ratio)} (${fmt(resource.median, 2)} vs ${fmt(map.median, 2)} ns/op)`,
        met: resource.ratio <= 1.5,
      },
      {
        target: '`resources.get(name)` within 2x of `Map.get`',
        measured: `${x(registry.ratio)} (${fmt(registry.median, 2)} vs ${fmt(map.median, 2)} ns/op)`,
        met: registry.ratio <= 2,
      },
      {
        target: '`resource.get()` faster than lru-cache `get()`',
        measured: `${x(resource.ratio)} vs ${x(lru.ratio)} of \`Map.get\` (${fmt(lru.median, 2)} ns/op)`,
        met: resource.ratio < lru.ratio,
      },
      {
        target: '`resources.get(name)` faster than lru-cache `get()`',
        measured: `${x(registry.ratio)} vs ${x(lru.ratio)} of \`Map.get\``,
        met: registry.ratio < lru.ratio,
      },
    ]),
    '',
    table(
      ['Contender', 'ns/op (median)', 'p10 – p90 of rounds', 'vs Map.get (median of paired ratios)'],
      rows,
    ),
    '',
    `${fmt(ITERATIONS, 0)} reads per round, ${WARMUP_ROUNDS} warm-up rounds then ${ROUNDS} timed rounds, ` +
      'contenders interleaved with the order rotated each round. Ratios are the median over rounds of ' +
      "each round's time over the `Map.get` time of the same round (paired, so machine drift cancels). Every loop reads the same value object " +
      'by the same key and adds a field of it to a checked sink. The loop floor is the cost of the loop ' +
      'and the sink alone; it is included in every other row. The resource uses the defaults that matter ' +
      'for a read (`maxStale: Infinity`); with a finite `maxStale` a read also reads the clock. ' +
      'lru-cache v11 is used with `max: 1000` and no TTL (its fastest configuration).',
  ].join('\n')
}
