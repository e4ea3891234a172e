/**
 * Memory per key of a family's storage for 1,000,000 warm keys, against lru-cache with `ttl` and
 * `fetchMethod` (what a user would reach for to serve dynamic keys) and a plain `Map`.
 *
 * Each contender is measured in its own `node --expose-gc` child process: the keys (pre-built
 * strings) and one shared value are made first, the heap is measured after full collections,
 * then the structure is filled and
 * measured again. Memory is `heapUsed` plus `arrayBuffers` (typed arrays are held outside the heap). The growth divided by the number of
 * keys is what the structure costs per key beyond the key and the value.
 */
import { fork } from 'node:child_process'
import os from 'node:os'
import { fileURLToPath } from 'node:url'
import { LRUCache } from 'lru-cache'
import { FamilyTable } from '../src/families/family-table.js'
import { bytes, checks, fmt, heapUsedAfterGc, table } from './support.js'

const KEYS = 1_000_000
const CONTENDERS = ['family', 'lru-cache', 'map'] as const
type Contender = (typeof CONTENDERS)[number]
const LABELS: Record<Contender, string> = {
  family: 'family storage (key table + W-TinyLFU)',
  'lru-cache': 'lru-cache with ttl + fetchMethod',
  map: 'Map (key to value)',
}

interface Measured {
  readonly perKey: number
  /** Bytes of the family's typed arrays and policy structures per key (family only). */
  readonly arrays?: number
  readonly total: number
}

/**
 * `heapUsed` plus the bytes of `ArrayBuffer`s (typed arrays live outside the JS heap), after full
 * collections.
 */
async function memoryAfterGc(): Promise<number> {
  const heapUsed = await heapUsedAfterGc()
  return heapUsed + process.memoryUsage().arrayBuffers
}

/** Fills one contender with `KEYS` warm keys and returns its heap growth (child side). */
async function measure(contender: Contender): Promise<Measured> {
  const keys = Array.from({ length: KEYS }, (_, i) => `tenant-${i}`)
  const value = { shared: true }
  const before = await memoryAfterGc()
  let held: unknown
  let arrays: number | undefined
  if (contender === 'family') {
    const family = new FamilyTable<object>({ maxKeys: KEYS, seed: 1 })
    for (let i = 0; i < KEYS; i++) {
      const slot = family.set(keys[i]!, value)
      // A warm key: loaded, read, due again.
      family.table.setVersion(slot, 1)
      family.table.setUpdatedAt(slot, 1_000 + i)
      family.table.setLastReadAt(slot, 2_000 + i)
      family.table.setNextDueAt(slot, 31_000 + i)
      family.table.setPhase(slot, 2)
    }
    for (let i = 0; i < KEYS; i++) family.read(keys[i]!)
    if (family.size !== KEYS) throw new Error(`the family holds ${family.size} keys, not ${KEYS}`)
    arrays = family.arrayBytes
    held = family
  } else if (contender === 'lru-cache') {
    const cache = new LRUCache<string, object>({ max: KEYS, ttl: 60_000, fetchMethod: async () => value })
    for (let i = 0; i < KEYS; i++) cache.set(keys[i]!, value)
    if (cache.size !== KEYS) throw new Error(`lru-cache holds ${cache.size} keys, not ${KEYS}`)
    held = cache
  } else {
    const map = new Map<string, object>()
    for (let i = 0; i < KEYS; i++) map.set(keys[i]!, value)
    held = map
  }
  const after = await memoryAfterGc()
  if (held === undefined || keys.length !== KEYS) throw new Error('unreachable')
  const total = after - before
  return arrays === undefined
    ? { perKey: total / KEYS, total }
    : { perKey: total / KEYS, arrays: arrays / KEYS, total }
}

/** Runs `measure(contender)` in a fresh `node --expose-gc` process (parent side). */
function measureInChild(contender: Contender): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ['--measure', contender], {
      execArgv: ['--expose-gc', '--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    let result: Measured | undefined
    child.on('message', (m) => {
      result = m as Measured
    })
    child.on('error', reject)
    child.on('exit', (code) => {
      if (result !== undefined && code === 0) resolve(result)
      else reject(new Error(`measuring ${contender} exited with code ${code}`))
    })
  })
}

export async function run(): Promise<string> {
  const results = new Map<Contender, Measured>()
  for (const contender of CONTENDERS) {
    results.set(contender, await measureInChild(contender))
    process.stderr.write(`[family-memory] ${contender}: ${fmt(results.get(contender)!.perKey, 1)} B/key\n`)
  }
  const family = results.get('family')!
  const lru = results.get('lru-cache')!
  const map = results.get('map')!
  const ratio = family.perKey / lru.perKey
  const summary = checks([
    {
      target: 'bytes per warm key ≤ 1.5x lru-cache (ttl + fetchMethod)',
      measured: `${fmt(ratio, 2)}x (${fmt(family.perKey, 1)} vs ${fmt(lru.perKey, 1)} B)`,
      met: ratio <= 1.5,
    },
    {
      target: `one family of ${fmt(KEYS, 0)} keys fits`,
      measured: `${bytes(family.total)} beyond keys and values`,
      met: true,
    },
  ])
  const rows = CONTENDERS.map((c) => {
    const m = results.get(c)!
    return [LABELS[c], fmt(m.perKey, 1), `${fmt(m.perKey / map.perKey, 2)}x`, bytes(m.total)]
  })
  return [
    '## Family memory (`family-memory.bench.ts`)',
    summary,
    `${fmt(KEYS, 0)} warm keys (strings built beforehand, one shared value), each contender in its own ` +
      '`node --expose-gc` process; growth of `heapUsed` + `arrayBuffers` after full collections, per key. Of the ' +
      `family's ${fmt(family.perKey, 1)} B, ${fmt(family.arrays ?? 0, 1)} B are its typed arrays, ` +
      'reference arrays and policy structures; the rest is the `Map` from key to slot. ' +
      `Node.js ${process.version}, ${os.cpus().length} cores.`,
    table(['Structure', 'bytes per key', 'vs Map', 'total'], rows),
  ].join('\n\n')
}

const at = process.argv.indexOf('--measure')
if (at !== -1) {
  const contender = process.argv[at + 1] as Contender
  const result = await measure(contender)
  process.send!(result, () => process.exit(0))
}
