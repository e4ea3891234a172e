// Warm restarts under random sequences: a process (a registry on a store) loads, is restarted or
// crashes, or stops and starts its registry again, while the store's reads and writes work, fail or hang. No process ever moves back; a
// process restarted while the store can be read serves the saved value at once; every value held
// was loaded by that process or saved by one before it. At the end, once the store works again, the
// saved entries hold each resource's current value.
import fc from 'fast-check'
import { afterEach, beforeEach, expect, it, vi } from 'vitest'
import {
  type LoadContext,
  layeredStore,
  memoryStore,
  type Resource,
  Resources,
  type Store,
  type StoreEntry,
} from '../../src/index.js'
import { seededProperty } from '../seeded-random.js'

const NAMES = ['a', 'b'] as const
type Name = (typeof NAMES)[number]
const INTERVAL = 1_000
const TIMEOUT = 500
const STOP_GRACE = 1_000
/** Saved values older than this are not served at start (their version is still taken). */
const MAX_RESTORED_AGE = 3_000

type Answer = 'later' | 'value' | 'throw'
/** How the store answers a read or a write: at once, with an error, or when told to. */
type Mode = 'ok' | 'fail' | 'hold'

type Command =
  | { readonly kind: 'advance'; readonly ms: number }
  | { readonly kind: 'resolve'; readonly name: Name; readonly fail: boolean }
  | { readonly kind: 'refresh'; readonly name: Name }
  | { readonly kind: 'restart' }
  | { readonly kind: 'cycle' }
  | { readonly kind: 'crash' }
  | { readonly kind: 'reads'; readonly layer: number; readonly mode: Mode }
  | { readonly kind: 'writes'; readonly layer: number; readonly mode: Mode }
  | { readonly kind: 'release' }

const name = fc.constantFrom(...NAMES)
const mode = fc.constantFrom<Mode>('ok', 'ok', 'fail', 'hold')
/** Which layer of a layered store a fault is for (taken modulo the number of layers). */
const layer = fc.integer({ min: 0, max: 1 })
const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 1_500 }) }),
  },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('resolve' as const), name, fail: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('refresh' as const), name }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'restart' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'cycle' as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'crash' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reads' as const), layer, mode }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('writes' as const), layer, mode }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'release' as const }) },
)
const answers = fc.array(fc.constantFrom<Answer>('later', 'later', 'value', 'throw'), {
  minLength: 1,
  maxLength: 6,
})

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

it.each([
  { layers: 1, on: 'a store' },
  { layers: 2, on: 'a layered store (two layers, each with faults of its own)' },
])(
  'keeps values monotonic and warm across restarts, crashes and store faults, and saved at the end, on $on',
  async ({ layers }) => {
    await fc.assert(
      seededProperty(
        answers,
        fc.array(command, { minLength: 1, maxLength: 30, size: 'max' }),
        (script, commands) => run(script, commands, layers),
      ),
      // `npm run test:soak` runs many more (restart-model.soak.ts).
      { numRuns: Number(process.env.RESTART_MODEL_RUNS ?? 150) },
    )
  },
)

interface Call {
  readonly id: number
  readonly signal: AbortSignal
  settle: ((fail: boolean) => void) | undefined
  /** Whether it resolved while its load was still the resource's own (not aborted). */
  accepted: boolean
}

interface Process {
  readonly resources: Resources
  readonly handles: Map<Name, Resource<number>>
  readonly calls: Map<Name, Call[]>
  /** Set when the process dies: its store calls from then on never land. */
  dead: boolean
}

async function run(script: readonly Answer[], commands: readonly Command[], layers: number): Promise<void> {
  /** What each layer holds; with one layer, the store itself. */
  const saved = Array.from({ length: layers }, () => memoryStore())
  /** Every value a layer ever took. */
  const everSaved = new Set<unknown>()
  const held: (() => void)[] = []
  const reads: Mode[] = saved.map(() => 'ok')
  const writes: Mode[] = saved.map(() => 'ok')
  let nextId = 0
  let nextAnswer = 0
  let auto = false
  const problems: string[] = []
  const processes: Process[] = []

  /** A layer as one process reaches it: through the faults of the moment, and not at all once dead. */
  const reach = (owner: () => Process, i: number): Store => {
    const through = <T>(m: Mode, op: () => Promise<T>): Promise<T> =>
      new Promise<T>((resolve, reject) => {
        const go = () => {
          if (owner().dead) return // a dead proc's call never lands, and never answers
          if (m === 'fail') reject(new Error('store failed'))
          else op().then(resolve, reject)
        }
        if (m === 'hold') held.push(go)
        else go()
      })
    // Like the file and Redis stores: closed by stop(), writes are refused until start() reopens it.
    let closed = false
    return {
      get: (n) => through(reads[i]!, () => saved[i]!.get(n)),
      set: (n, entry) =>
        through(writes[i]!, async () => {
          if (closed) throw new Error('store closed')
          const written = await saved[i]!.set(n, entry)
          if (written) everSaved.add(entry.value)
          return written
        }),
      delete: (n) => saved[i]!.delete(n),
      list: () => saved[i]!.list(),
      close: async () => {
        closed = true
      },
      reopen: () => {
        closed = false
      },
    }
  }

  const boot = () => {
    const resources = new Resources({
      interval: INTERVAL,
      timeout: TIMEOUT,
      retry: { initial: 100 },
      maxRestoredAge: MAX_RESTORED_AGE,
      // Asked for only once the store is used, after `proc` below is made.
      store:
        layers === 1
          ? reach(() => proc, 0)
          : layeredStore(...(saved.map((_, i) => reach(() => proc, i)) as [Store, ...Store[]])),
      onError: () => {},
    })
    const proc: Process = {
      resources,
      handles: new Map(),
      calls: new Map(NAMES.map((n) => [n, []])),
      dead: false,
    }
    for (const n of NAMES) {
      const handle = resources.define<number>(n, (ctx: LoadContext<number>) => {
        const id = ++nextId
        const answer: Answer = auto ? 'value' : (script[nextAnswer++ % script.length] as Answer)
        const call: Call = { id, signal: ctx.signal, settle: undefined, accepted: false }
        proc.calls.get(n)!.push(call)
        if (answer === 'value') {
          call.accepted = true
          return id
        }
        if (answer === 'throw') throw new Error(`call ${id} threw`)
        return new Promise<number>((resolve, reject) => {
          call.settle = (fail) => {
            call.settle = undefined
            if (fail) reject(new Error(`call ${id} failed`))
            else {
              call.accepted = !ctx.signal.aborted
              resolve(id)
            }
          }
          ctx.signal.addEventListener('abort', () => {
            call.settle = undefined
          })
        })
      })
      let last = 0
      handle.subscribe((value) => {
        const { version } = handle.peek()
        if (version < last) problems.push(`${n} went from version ${last} to ${version}`)
        last = version
        const own = proc.calls.get(n)!.some((c) => c.id === value && c.accepted)
        if (!own && !everSaved.has(value)) problems.push(`${n} took ${value}, neither loaded here nor saved`)
      })
      proc.handles.set(n, handle)
    }
    void resources.start()
    processes.push(proc)
    return { proc, readable: readable() }
  }

  const current = () => processes.at(-1)!
  /** Whether every layer can be read (a read that some layers fail finds only what the others hold). */
  const readable = () => reads.every((m) => m === 'ok')
  /** After a boot whose reads worked: every saved entry is served at once, or something newer. */
  const warm = async (booted: ReturnType<typeof boot>, entries: Map<Name, StoreEntry>) => {
    await vi.advanceTimersByTimeAsync(0)
    if (!booted.readable || !readable() || booted.proc.dead) return
    for (const [n, entry] of entries) {
      const snapshot = booted.proc.handles.get(n)!.peek()
      // Too old to serve (maxRestoredAge): only its version is taken, so versions still go up.
      const tooOld = Date.now() - entry.loadedAt > MAX_RESTORED_AGE
      if (snapshot.version < entry.version || (tooOld ? snapshot.source === 'store' : !snapshot.hasValue))
        problems.push(
          `${n} restarted with v${snapshot.version} (${snapshot.source}) over a saved v${entry.version}${tooOld ? ' too old to serve' : ''}`,
        )
    }
  }
  const savedEntries = async () => {
    const entries = new Map<Name, StoreEntry>()
    for (const n of NAMES) {
      // The newest across the layers, as a layered store reads it.
      for (const layer of saved) {
        const entry = await layer.get(n)
        if (entry !== undefined && entry.version > (entries.get(n)?.version ?? 0)) entries.set(n, entry)
      }
    }
    return entries
  }

  await warm(boot(), new Map())
  for (const c of commands) {
    const proc = current()
    switch (c.kind) {
      case 'advance':
        await vi.advanceTimersByTimeAsync(c.ms)
        break
      case 'resolve':
        proc.calls
          .get(c.name)!
          .find((k) => k.settle !== undefined)
          ?.settle?.(c.fail)
        break
      case 'refresh':
        proc.handles
          .get(c.name)!
          .refresh()
          .catch(() => {})
        break
      case 'cycle':
        // The same process stops its registry and starts it again.
        void proc.resources.stop()
        void proc.resources.start()
        break
      case 'restart':
      case 'crash': {
        if (c.kind === 'crash') proc.dead = true
        void proc.resources.stop()
        const entries = await savedEntries()
        await warm(boot(), entries)
        break
      }
      case 'reads':
        reads[c.layer % layers] = c.mode
        break
      case 'writes':
        writes[c.layer % layers] = c.mode
        break
      case 'release':
        for (const go of held.splice(0)) go()
        break
    }
    await vi.advanceTimersByTimeAsync(0)
    if (problems.length > 0) break
  }

  if (problems.length === 0) {
    // The store works again and every loader answers at once: within a timeout and an interval
    // (with its jitter), each resource has loaded again and its value is saved.
    reads.fill('ok')
    writes.fill('ok')
    auto = true
    for (const go of held.splice(0)) go()
    for (const calls of current().calls.values()) for (const call of calls) call.settle?.(false)
    await vi.advanceTimersByTimeAsync(TIMEOUT + INTERVAL * 1.1 + 1)
    for (const [n, handle] of current().handles) {
      const { version, value } = handle.peek()
      for (const [i, layer] of saved.entries()) {
        const entry = await layer.get(n)
        if (entry === undefined || entry.version !== version || entry.value !== value)
          problems.push(`${n} holds v${version} ${value}, layer ${i}: v${entry?.version} ${entry?.value}`)
      }
    }
  }

  const stopped = Promise.all(processes.map((p) => p.resources.stop()))
  await vi.advanceTimersByTimeAsync(STOP_GRACE)
  await stopped
  expect(problems).toEqual([])
}
