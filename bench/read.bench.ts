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
const ROUNDS = 25

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
    for (let i = 0; i < n; i++) sink += resources.get<Value>(KEY).id
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
  const samples = new Map<Contender, number[]>(list.map((c) => [c, []]))
  for (let round = 0; round < WARMUP_ROUNDS + ROUNDS; round++) {
    for (let k = 0; k < list.length; k++) {
      const c = list[(round + k) % list.length]!
      const nsPerOp = timeRound(c)
      if (round >= WARMUP_ROUNDS) samples.get(c)!.push(nsPerOp)
    }
  }
  await cleanup()

  const stats = list.map((c) => {
    const s = samples.get(c)!
    return { c, median: median(s), p10: quantile(s, 0.1), p90: quantile(s, 0.9) }
  })
  const byLabel = (prefix: string) => stats.find((s) => s.c.label.startsWith(prefix))!
  const map = byLabel('Map.get').median
  const resource = byLabel('resource.get').median
  const registry = byLabel('resources.get').median
  const lru = byLabel('lru-cache').median
  const ratio = (v: number) => `${fmt(v / map, 2)}x`

  const rows = stats.map((s) => [
    s.c.label,
    fmt(s.median, 2),
    `${fmt(s.p10, 2)} – ${fmt(s.p90, 2)}`,
    ratio(s.median),
  ])

  return [
    '## Read cost (`read.bench.ts`)',
    '',
    checks([
      {
        target: '`resource.get()` within 1.5x of `Map.get`',
        measured: `${ratio(resource)} (${fmt(resource, 2)} vs ${fmt(map, 2)} ns/op)`,
        met: resource <= 1.5 * map,
      },
      {
        target: '`resources.get(name)` within 2x of `Map.get`',
        measured: `${ratio(registry)} (${fmt(registry, 2)} vs ${fmt(map, 2)} ns/op)`,
        met: registry <= 2 * map,
      },
      {
        target: '`resource.get()` faster than lru-cache `get()`',
        measured: `${fmt(resource, 2)} vs ${fmt(lru, 2)} ns/op (${fmt(lru / resource, 1)}x faster)`,
        met: resource < lru,
      },
      {
        target: '`resources.get(name)` faster than lru-cache `get()`',
        measured: `${fmt(registry, 2)} vs ${fmt(lru, 2)} ns/op (${fmt(lru / registry, 1)}x faster)`,
        met: registry < lru,
      },
    ]),
    '',
    table(['Contender', 'ns/op (median)', 'p10 – p90 of rounds', 'vs Map.get'], rows),
    '',
    `${fmt(ITERATIONS, 0)} reads per round, ${WARMUP_ROUNDS} warm-up rounds then ${ROUNDS} timed rounds, ` +
      'contenders interleaved with the order rotated each round. Every loop reads the same value object ' +
      'by the same key and adds a field of it to a checked sink. The loop floor is the cost of the loop ' +
      'and the sink alone; it is included in every other row. The resource uses the defaults that matter ' +
      'for a read (`maxStale: Infinity`); with a finite `maxStale` a read also reads the clock. ' +
      'lru-cache v11 is used with `max: 1000` and no TTL (its fastest configuration).',
  ].join('\n')
}
