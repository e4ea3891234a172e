// A fleet of replicas sharing one store, under random sequences of loads, refreshes, stops,
// restarts, store outages, paused connections, lost announcements and lost data, with the replicas'
// wall clocks up to an hour apart. No replica ever moves back to an older version, nor to a value
// loaded earlier than the one it serves, nor shows an age below the time since it took its value. At the end, once the store works again: every replica holds the shared value under its
// version (and so does its snapshot, when it has one under the shared store), and the fleet loads
// about once per interval, not once per replica.
import fc from 'fast-check'
import { afterEach, beforeEach, expect, it, vi } from 'vitest'
import {
  type Clock,
  type FleetStore,
  type LoadContext,
  layeredStore,
  memoryStore,
  Resources,
} from '../../src/index.js'
import { seededProperty } from '../seeded-random.js'
import { replicaStore, sharedMemory } from './shared-memory.js'

const REPLICAS = 3
const INTERVAL = 2_000
const TIMEOUT = 1_000
const LEASE_TTL = 1_500
const STOP_GRACE = 1_000

type Answer = 'later' | 'value' | 'throw' | 'hang'

type Command =
  | { readonly kind: 'advance'; readonly ms: number }
  | { readonly kind: 'resolve'; readonly replica: number; readonly fail: boolean }
  | { readonly kind: 'refresh'; readonly replica: number }
  | { readonly kind: 'stop'; readonly replica: number }
  | { readonly kind: 'start'; readonly replica: number }
  | { readonly kind: 'cycle'; readonly replica: number }
  | { readonly kind: 'down' }
  | { readonly kind: 'up' }
  | { readonly kind: 'drop'; readonly on: boolean }
  | { readonly kind: 'wipe' }
  | { readonly kind: 'pause'; readonly replica: number }
  | { readonly kind: 'resume'; readonly replica: number }

const replica = fc.integer({ min: 0, max: REPLICAS - 1 })
const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 3_000 }) }),
  },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('resolve' as const), replica, fail: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('refresh' as const), replica }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('stop' as const), replica }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('start' as const), replica }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('cycle' as const), replica }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'down' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'up' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('drop' as const), on: fc.boolean() }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'wipe' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('pause' as const), replica }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('resume' as const), replica }) },
)

/** Each replica's wall clock: up to an hour off (a whole number of ms). */
const skews = fc.array(fc.integer({ min: -3_600_000, max: 3_600_000 }), {
  minLength: REPLICAS,
  maxLength: REPLICAS,
})

const answers = fc.array(fc.constantFrom<Answer>('later', 'later', 'value', 'value', 'throw', 'hang'), {
  minLength: 1,
  maxLength: 6,
})

interface Call {
  readonly id: number
  settle: ((fail: boolean) => void) | undefined
}

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

it.each([
  { snapshots: false, on: 'the shared store' },
  { snapshots: true, on: 'the shared store over a snapshot of its own per replica (a layered store)' },
])(
  'keeps every replica monotonic under any sequence, then converges and loads once per interval, on $on',
  {
    timeout: 120_000,
  },
  async ({ snapshots }) => {
    await fc.assert(
      seededProperty(
        answers,
        fc.tuple(fc.array(command, { minLength: 1, maxLength: 30, size: 'max' }), skews),
        (script, [commands, skew]) => run(script, commands, snapshots, skew),
      ),
      // `npm run test:soak` runs many more (fleet-model.soak.ts).
      { numRuns: Number(process.env.FLEET_MODEL_RUNS ?? 100) },
    )
  },
)

/** Runs one sequence of commands on a new fleet; with `snapshots`, each replica has one under the shared store. */
async function run(
  script: readonly Answer[],
  commands: readonly Command[],
  snapshots: boolean,
  skew: readonly number[],
): Promise<void> {
  const shared = sharedMemory()
  const problems: string[] = []
  const calls: Call[][] = Array.from({ length: REPLICAS }, () => [])
  const gates: Gate[] = Array.from({ length: REPLICAS }, () => ({ paused: false, held: [] }))
  /** Each replica's snapshot: its disk, kept across its restarts. */
  const disks = Array.from({ length: REPLICAS }, () => memoryStore())
  /** Every value the shared store refused (another of that version or newer was shared), by version. */
  const refused = new Set<string>()
  const resume = (gate: Gate) => {
    gate.paused = false
    for (const go of gate.held.splice(0)) go()
  }
  let nextId = 0
  let nextAnswer = 0
  let auto = false

  const booted: Resources[] = []
  /** Checks of each replica's age, run after every command. */
  const ages: (() => void)[] = []
  /** A replica's process: a registry on its own connection to the shared store. */
  const boot = (r: number) => {
    const offset = skew[r] ?? 0
    const sharedStore = onServerClock(pausable(replicaStore(shared, LEASE_TTL), gates[r]!, refused), offset)
    const resources = new Resources({
      interval: INTERVAL,
      timeout: TIMEOUT,
      retry: { initial: 200 },
      clock: skewedClock(offset),
      store: snapshots ? layeredStore(sharedStore, disks[r]!) : sharedStore,
    })
    const handle = resources.define<number>('x', (ctx: LoadContext<number>) => {
      const id = ++nextId
      const answer: Answer = auto ? 'value' : (script[nextAnswer++ % script.length] as Answer)
      if (answer === 'value') return id
      if (answer === 'throw') throw new Error(`call ${id} threw`)
      if (answer === 'hang') return new Promise<number>(() => {})
      return new Promise<number>((resolve, reject) => {
        const call: Call = {
          id,
          settle: (fail) => (fail ? reject(new Error(`call ${id} failed`)) : resolve(id)),
        }
        calls[r]!.push(call)
        // Aborted (timeout, lost lease, stop): the call is over for this test too.
        ctx.signal.addEventListener('abort', () => {
          call.settle = undefined
        })
      })
    })
    let last = 0
    let lastLoadedAt = Number.NEGATIVE_INFINITY
    handle.subscribe(() => {
      const { version, updatedAt } = handle.peek()
      // The same version again is allowed: a replica whose write was refused takes the shared value of it.
      if (version < last) problems.push(`replica ${r} went from version ${last} to ${version}`)
      last = version
      // On the replica's own clock, to the millisecond load times travel with.
      const loadedAt = (updatedAt ?? 0) - offset
      if (loadedAt < lastLoadedAt - 1)
        problems.push(`replica ${r} went back to a load ${lastLoadedAt - loadedAt} ms older`)
      lastLoadedAt = Math.max(lastLoadedAt, loadedAt)
    })
    // No age below the time since the value was taken: right after a change it is at least 0, and
    // it grows with time, whatever clock the value came from.
    const took = new Map<number, number>()
    handle.subscribe(() => took.set(handle.peek().version, Date.now()))
    ages.push(() => {
      const { version, age } = handle.peek()
      const at = took.get(version)
      if (at !== undefined && age !== undefined && age < Date.now() - at)
        problems.push(`replica ${r} shows age ${age} for a value taken ${Date.now() - at} ms ago`)
    })
    booted.push(resources)
    void resources.start()
    return { resources, handle, stopped: false }
  }
  const replicas = Array.from({ length: REPLICAS }, (_, r) => boot(r))

  /** Whether every replica holds the shared value, under its version. */
  const converged = (step: string) => {
    const entry = shared.entries.get('x')
    for (const [n, r] of replicas.entries()) {
      const { version, value } = r.handle.peek()
      if (entry === undefined || version !== entry.version || value !== entry.value)
        problems.push(
          `${step}: replica ${n} holds v${version} ${value}, the store v${entry?.version} ${entry?.value}`,
        )
    }
  }

  /** With snapshots: no snapshot keeps a value the shared store refused. */
  const snapshotsAgree = async (step: string) => {
    if (!snapshots) return
    for (const [n, disk] of disks.entries()) {
      const saved = await disk.get('x')
      if (saved !== undefined && refused.has(`${saved.version}:${saved.value}`))
        problems.push(
          `${step}: replica ${n}'s snapshot holds ${saved.value} under v${saved.version}, refused by the fleet`,
        )
    }
  }

  /** With snapshots: each replica's snapshot holds the shared value under its version. */
  const snapshotsFollow = async (step: string) => {
    if (!snapshots) return
    const entry = shared.entries.get('x')
    for (const [n, disk] of disks.entries()) {
      const saved = await disk.get('x')
      if (saved?.version !== entry?.version || saved?.value !== entry?.value)
        problems.push(
          `${step}: replica ${n}'s snapshot holds v${saved?.version} ${saved?.value}, the store v${entry?.version} ${entry?.value}`,
        )
    }
  }

  await vi.advanceTimersByTimeAsync(0)
  for (const c of commands) {
    switch (c.kind) {
      case 'advance':
        await vi.advanceTimersByTimeAsync(c.ms)
        break
      case 'resolve': {
        const call = calls[c.replica]!.find((k) => k.settle !== undefined)
        call?.settle?.(c.fail)
        if (call !== undefined) call.settle = undefined
        break
      }
      case 'refresh':
        void replicas[c.replica]!.handle.refresh().then(
          () => {},
          () => {},
        )
        break
      case 'stop':
        // A replica shut down: it stops, and its store connection closes with it.
        void replicas[c.replica]!.resources.stop()
        replicas[c.replica]!.stopped = true
        break
      case 'start':
        // ... and started again, as a new process.
        if (replicas[c.replica]!.stopped) replicas[c.replica] = boot(c.replica)
        break
      case 'cycle':
        // The same registry stopped and started again in its process: it must listen to the fleet again.
        if (!replicas[c.replica]!.stopped) {
          void replicas[c.replica]!.resources.stop()
          void replicas[c.replica]!.resources.start()
        }
        break
      case 'down':
        shared.down = true
        break
      case 'up':
        shared.down = false
        break
      case 'drop':
        shared.dropAnnouncements = c.on
        break
      case 'pause':
        gates[c.replica]!.paused = true
        break
      case 'resume':
        resume(gates[c.replica]!)
        break
      case 'wipe':
        // Redis restarted without its data: entries, leases and fences are gone.
        shared.entries.clear()
        shared.leases.clear()
        shared.fences.clear()
        break
    }
    await vi.advanceTimersByTimeAsync(0)
    for (const check of ages) check()
    await snapshotsAgree(`after ${JSON.stringify(c)}`)
    if (problems.length > 0) break
  }

  if (problems.length === 0) {
    // The store works again and every loader answers at once: within a lease, a timeout and two
    // intervals every replica holds the shared value.
    shared.down = false
    shared.dropAnnouncements = false
    for (const gate of gates) resume(gate)
    auto = true
    for (const list of calls) for (const call of list) call.settle?.(false)
    for (const [n, r] of replicas.entries()) if (r.stopped) replicas[n] = boot(n)
    await vi.advanceTimersByTimeAsync(STOP_GRACE + LEASE_TTL + TIMEOUT + 2 * INTERVAL * 1.1)
    converged('after the store came back')
    await snapshotsFollow('after the store came back')
    // And the fleet loads about once per interval, not once per replica.
    const before = nextId
    await vi.advanceTimersByTimeAsync(5 * INTERVAL)
    converged('five intervals later')
    await snapshotsFollow('five intervals later')
    const loads = nextId - before
    if (loads < 4 || loads > 7) problems.push(`${loads} loads in 5 intervals by ${REPLICAS} replicas`)
  }

  const stopped = Promise.all(booted.map((r) => r.stop()))
  await vi.advanceTimersByTimeAsync(STOP_GRACE)
  await stopped
  expect(problems).toEqual([])
}

/** A replica's connection to the store: while paused, its requests and the announcements it gets wait, then go through in order. */
interface Gate {
  paused: boolean
  readonly held: (() => void)[]
}

/** `refused` collects the `version:value` of every write the store refused. */
function pausable(store: FleetStore, gate: Gate, refused: Set<string>): FleetStore {
  const via = <T>(op: () => Promise<T>): Promise<T> =>
    gate.paused ? new Promise<T>((resolve, reject) => gate.held.push(() => op().then(resolve, reject))) : op()
  const fleet = store.fleet!
  return {
    get: (name) => via(() => store.get(name)),
    set: (name, entry) =>
      via(async () => {
        const written = await store.set(name, entry)
        if (!written) refused.add(`${entry.version}:${entry.value}`)
        return written
      }),
    delete: (name) => via(() => store.delete(name)),
    list: () => via(() => store.list()),
    close: () => store.close(),
    fleet: {
      leaseTtl: fleet.leaseTtl,
      head: (name) => via(() => fleet.head(name)),
      acquire: (name, floor) =>
        via(async () => {
          const lease = await fleet.acquire(name, floor)
          if (lease === undefined) return undefined
          return {
            token: lease.token,
            renew: () => via(() => lease.renew()),
            release: () => via(() => lease.release()),
          }
        }),
      watch: (listener) =>
        fleet.watch((name, version) => {
          if (gate.paused) gate.held.push(() => listener(name, version))
          else listener(name, version)
        }),
    },
  }
}

/** The fake system clock with its wall time `offset` ms off (monotonic time is shared). */
function skewedClock(offset: number): Clock {
  return {
    now: () => Date.now() + offset,
    monotonic: () => performance.now(),
    setTimeout: (fn, ms) => setTimeout(fn, ms),
    clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  }
}

/**
 * Load times kept on one clock, the store's (as the Redis store does with the server's `TIME`): a
 * replica whose wall clock is `offset` ms off writes and reads them through its own.
 */
function onServerClock(store: FleetStore, offset: number): FleetStore {
  const fleet = store.fleet
  return {
    ...store,
    get: async (name) => {
      const e = await store.get(name)
      return e === undefined ? undefined : { ...e, loadedAt: e.loadedAt + offset }
    },
    set: (name, entry) => store.set(name, { ...entry, loadedAt: entry.loadedAt - offset }),
    fleet: {
      ...fleet,
      leaseTtl: fleet.leaseTtl,
      head: async (name) => {
        const h = await fleet.head(name)
        return h === undefined ? undefined : { ...h, loadedAt: h.loadedAt + offset }
      },
    },
  }
}
