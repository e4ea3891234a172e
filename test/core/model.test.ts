// The registry against a model of what it promises, under random sequences of operations: loads
// answered late, at once, by a throw (of an Error, or of a value that cannot be inspected) or never,
// or with a value whose comparison by the resource's equals throws; refresh, remove, define, stop and start in any order;
// time moving on in steps. After every step the registry must agree with the model.
import fc from 'fast-check'
import { expect, it, vi } from 'vitest'
import {
  EvergreenError,
  type LoadContext,
  LoadTimeoutError,
  type Resource,
  ResourceNotReadyError,
  ResourceStaleError,
  Resources,
  StoppedError,
  SyncError,
} from '../../src/index.js'
import { seededProperty } from '../seeded-random.js'
import { useFakeTime } from './helpers.js'

useFakeTime()

const NAMES = ['a', 'b', 'c'] as const
type Name = (typeof NAMES)[number]

/**
 * How the loader answers a call: when a command says so (`later`), at once, by a throw, by a throw
 * of something that cannot be inspected (`weird`), with a value whose comparison throws (`poison`:
 * the load fails if there is a value to compare it with), or never.
 */
type Answer = 'later' | 'value' | 'throw' | 'weird' | 'poison' | 'hang'

type Command =
  | { readonly kind: 'advance'; readonly ms: number }
  | { readonly kind: 'resolve'; readonly name: Name; readonly newest: boolean }
  | { readonly kind: 'reject'; readonly name: Name; readonly newest: boolean; readonly notError: boolean }
  | { readonly kind: 'refresh'; readonly name: Name }
  | { readonly kind: 'ready'; readonly name: Name }
  | { readonly kind: 'remove'; readonly name: Name }
  | { readonly kind: 'define'; readonly name: Name }
  | { readonly kind: 'stop' }
  | { readonly kind: 'start'; readonly wait: boolean }

const name = fc.constantFrom(...NAMES)
const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 1_300 }) }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('resolve' as const), name, newest: fc.boolean() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('reject' as const),
      name,
      newest: fc.boolean(),
      notError: fc.boolean(),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('refresh' as const), name }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('ready' as const), name }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('remove' as const), name }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('define' as const), name }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'stop' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('start' as const), wait: fc.boolean() }) },
)

const setup = fc.record({
  concurrency: fc.constantFrom(1, 2, Number.POSITIVE_INFINITY),
  jitter: fc.constantFrom(0, 0.2),
  retry: fc.constantFrom(false as const, { initial: 50, factor: 2 }),
  maxStale: fc.constantFrom(Number.POSITIVE_INFINITY, 1_500),
  answers: fc.array(
    fc.constantFrom<Answer>('later', 'later', 'later', 'value', 'throw', 'weird', 'poison', 'hang'),
    {
      minLength: 1,
      maxLength: 8,
    },
  ),
})

const INTERVAL = 1_000
const TIMEOUT = 300

/** One loader call, and what became of it once the registry had its say. */
interface Call {
  readonly id: number
  readonly definition: Definition
  readonly attempt: number
  readonly signal: AbortSignal
  /** Whether the loader's promise has settled, and how, and when (clock ms). */
  outcome: 'value' | 'error' | undefined
  settledAt?: number
  resolve?: (value: number) => void
  reject?: (error: unknown) => void
  /** Decided at the first check that finds the call settled or aborted. */
  fate: 'pending' | 'accepted' | 'failed' | 'timed out' | 'aborted'
  /** Whether a `refresh()` asked for it (it may begin later, once a slot is free). */
  readonly refreshed: boolean
}

/** One `define` of a name: removing and defining it again makes a new resource with its own history. */
interface Definition {
  readonly name: Name
  handle: Resource<number>
  readonly calls: Call[]
  /** Values its subscriber saw, in order. */
  readonly seen: number[]
  /** A `refresh()` was called since its last loader call. */
  refreshAsked: boolean
  /** Its `'load'` and `'error'` events, in order. */
  readonly loadEvents: { version: number; changed: boolean }[]
  readonly errorEvents: { error: unknown; retryIn: number; hasValue: boolean; hadValue: boolean }[]
}

it('agrees with the model after every step of any sequence of loads, refreshes, removals, stops and starts', async () => {
  await fc.assert(
    seededProperty(
      setup,
      fc.array(command, { minLength: 1, maxLength: 40, size: 'max' }),
      async (options, commands) => {
        const resources = new Resources({
          interval: INTERVAL,
          timeout: TIMEOUT,
          jitter: options.jitter,
          retry: options.retry,
          concurrency: options.concurrency,
          maxStale: options.maxStale,
        })
        const problems: string[] = []
        const calls: Call[] = []
        const definitions = new Map<Name, Definition>()
        const promises: Promise<unknown>[] = []
        /** Values whose comparison by equals throws. */
        const poisoned = new Set<number>()
        let nextAnswer = 0
        let auto = false
        /** What the last of start() and stop() asked for. */
        let wanted: 'started' | 'stopped' = 'started'
        let changeEvents = 0
        let subscriberCalls = 0
        resources.on('change', () => changeEvents++)
        // Events name their resource: they belong to its current definition (a removed one is silent).
        resources.on('load', (e) => definitions.get(e.name as Name)?.loadEvents.push(e))
        resources.on('error', (e) => {
          const definition = definitions.get(e.name as Name)
          definition?.errorEvents.push({ ...e, hadValue: definition.handle.peek().hasValue })
        })

        const define = (n: Name) => {
          // Made first: defined after start(), a resource calls its loader at once, inside define().
          const definition: Definition = {
            name: n,
            handle: undefined as never,
            calls: [],
            seen: [],
            refreshAsked: false,
            loadEvents: [],
            errorEvents: [],
          }
          const loader = (ctx: LoadContext<number>): number | Promise<number> => {
            const answer: Answer = auto
              ? 'value'
              : (options.answers[nextAnswer++ % options.answers.length] as Answer)
            const call: Call = {
              id: calls.length + 1,
              definition,
              attempt: ctx.attempt,
              signal: ctx.signal,
              outcome: undefined,
              fate: 'pending',
              refreshed: definition.refreshAsked,
            }
            definition.refreshAsked = false
            calls.push(call)
            call.definition.calls.push(call)
            if (answer === 'value') {
              call.outcome = 'value'
              call.settledAt = Date.now()
              return call.id
            }
            if (answer === 'throw') {
              call.outcome = 'error'
              throw new Error(`call ${call.id} threw`)
            }
            if (answer === 'weird') {
              call.outcome = 'error'
              throw uninspectable(call.id)
            }
            if (answer === 'poison') {
              // Loads of one resource run one at a time, so whether it has a value now is whether
              // equals will be asked to compare this one with it.
              poisoned.add(call.id)
              if (definition.handle?.peek().hasValue) {
                call.outcome = 'error'
              } else {
                call.outcome = 'value'
                call.settledAt = Date.now()
              }
              return call.id
            }
            // A loader that hangs ignores its signal: only the timeout, remove() or stop() frees its slot.
            if (answer === 'hang') return new Promise<number>(() => {})
            return new Promise<number>((resolve, reject) => {
              call.resolve = (value) => {
                call.outcome = 'value'
                call.settledAt = Date.now()
                resolve(value)
              }
              call.reject = (error) => {
                call.outcome = 'error'
                reject(error)
              }
            })
          }
          const handle = resources.define<number>(n, loader, {
            equals: (a, b) => {
              if (poisoned.has(b)) throw new TypeError(`equals cannot compare ${b}`)
              return a === b
            },
          })
          definition.handle = handle
          const seen = definition.seen
          handle.subscribe((value, previous) => {
            subscriberCalls++
            if (previous !== seen.at(-1)) problems.push(`${n}: previous ${previous}, expected ${seen.at(-1)}`)
            if (previous !== undefined && value <= previous)
              problems.push(`${n}: went from ${previous} to ${value}`)
            seen.push(value)
          })
          definitions.set(n, definition)
        }

        // Calls still waiting on a command, of the current definition of `n`.
        const waiting = (n: Name) =>
          (definitions.get(n)?.calls ?? []).filter((c) => c.resolve !== undefined && c.outcome === undefined)

        const check = (step: string) => {
          // Fates, in call order: each call of a resource starts only after the one before it is done.
          for (const call of calls) {
            if (call.fate !== 'pending') continue
            if (call.signal.aborted) {
              call.fate = call.signal.reason instanceof LoadTimeoutError ? 'timed out' : 'aborted'
            } else if (call.outcome !== undefined) {
              call.fate = call.outcome === 'value' ? 'accepted' : 'failed'
            }
          }
          const live = calls.filter((c) => c.fate === 'pending' && !c.signal.aborted)
          if (live.length > options.concurrency) problems.push(`${step}: ${live.length} loads in flight`)
          for (const definition of definitions.values()) {
            const { name: n, handle } = definition
            const mine = definition.calls
            if (mine.filter((c) => c.fate === 'pending').length > 1)
              problems.push(`${step}: ${n} loads twice at once`)
            const accepted = mine.filter((c) => c.fate === 'accepted')
            const failures = mine.filter((c) => c.fate === 'failed' || c.fate === 'timed out').length
            const latest = accepted.at(-1)?.id
            const snapshot = handle.peek()
            if (snapshot.value !== latest)
              problems.push(`${step}: ${n} holds ${snapshot.value}, expected ${latest}`)
            if (snapshot.loads !== accepted.length || snapshot.version !== accepted.length)
              problems.push(
                `${step}: ${n} counts ${snapshot.loads} loads v${snapshot.version}, expected ${accepted.length}`,
              )
            if (snapshot.failures !== failures)
              problems.push(`${step}: ${n} counts ${snapshot.failures} failures, expected ${failures}`)
            // One 'load' event per accepted result, versions 1, 2, ...; one 'error' event per failure.
            const loads = definition.loadEvents
            if (loads.length !== accepted.length || loads.some((e, k) => e.version !== k + 1 || !e.changed))
              problems.push(
                `${step}: ${n} 'load' events ${JSON.stringify(loads)} for ${accepted.length} results`,
              )
            const errors = definition.errorEvents
            const timedOut = mine.filter((c) => c.fate === 'timed out').length
            if (
              errors.length !== failures ||
              errors.filter((e) => e.error instanceof LoadTimeoutError).length !== timedOut ||
              errors.some(
                (e) =>
                  !(e.error instanceof EvergreenError) ||
                  e.hasValue !== e.hadValue ||
                  !(e.retryIn >= 1 && e.retryIn <= INTERVAL * (1 + options.jitter)),
              )
            )
              problems.push(`${step}: ${n} has ${errors.length} 'error' events for ${failures} failures`)
            // get() gives the value; before any, ResourceNotReadyError; past maxStale, ResourceStaleError,
            // the value's age counting from the moment its loader answered.
            const at = accepted.at(-1)?.settledAt
            if (latest !== undefined && snapshot.updatedAt !== at)
              problems.push(`${step}: ${n} updated at ${snapshot.updatedAt}, not ${at}`)
            const refusal =
              latest === undefined
                ? ResourceNotReadyError
                : Date.now() - (at as number) > options.maxStale
                  ? ResourceStaleError
                  : undefined
            let got: unknown
            let threw: unknown
            try {
              got = handle.get()
            } catch (error) {
              threw = error
            }
            if (refusal === undefined ? threw !== undefined || got !== latest : !(threw instanceof refusal))
              problems.push(
                `${step}: ${n} get() gave ${String(threw ?? got)}, expected ${refusal?.name ?? latest}`,
              )
            if (definition.seen.at(-1) !== latest)
              problems.push(`${step}: ${n} subscriber last saw ${definition.seen.at(-1)}`)
            // Each call's attempt counts the failures since the last success before it.
            let consecutive = 0
            for (const call of mine) {
              if (call.attempt !== consecutive + 1)
                problems.push(
                  `${step}: ${n} call ${call.id} is attempt ${call.attempt}, expected ${consecutive + 1}`,
                )
              if (call.fate === 'accepted') consecutive = 0
              else if (call.fate === 'failed' || call.fate === 'timed out') consecutive++
            }
          }
          const report = resources.status()
          const allHaveValues = [...definitions.values()].every((d) => {
            const { hasValue, age } = d.handle.peek()
            return hasValue && (age as number) <= options.maxStale
          })
          if (report.healthy !== allHaveValues) problems.push(`${step}: healthy is ${report.healthy}`)
          if (report.resources.length !== definitions.size)
            problems.push(`${step}: status lists ${report.resources.length}`)
          if (changeEvents !== subscriberCalls)
            problems.push(`${step}: ${changeEvents} change events, ${subscriberCalls} changes`)
        }

        for (const n of NAMES) define(n)
        promises.push(resources.start())
        await vi.advanceTimersByTimeAsync(0)
        check('start')

        for (const [i, c] of commands.entries()) {
          const step = `step ${i} (${JSON.stringify(c)})`
          const callsBefore = calls.length
          switch (c.kind) {
            case 'advance':
              await vi.advanceTimersByTimeAsync(c.ms)
              break
            case 'resolve':
            case 'reject': {
              const list = waiting(c.name)
              const call = c.newest ? list.at(-1) : list[0]
              if (call === undefined) break
              if (c.kind === 'resolve') call.resolve?.(call.id)
              else
                call.reject?.(
                  c.notError ? `call ${call.id} rejected with a string` : new Error(`call ${call.id} failed`),
                )
              break
            }
            case 'refresh': {
              const definition = definitions.get(c.name)
              if (definition === undefined) break
              definition.refreshAsked = true
              const known = new Set(definition.calls)
              promises.push(
                definition.handle.refresh().then(
                  (value) => {
                    const call = definition.calls.find((k) => k.id === value)
                    if (call === undefined || call.outcome !== 'value' || call.signal.aborted)
                      problems.push(`refresh of ${c.name} resolved with ${value}, not an accepted value`)
                  },
                  (error: unknown) => {
                    if (!(error instanceof EvergreenError))
                      problems.push(`refresh of ${c.name} rejected with ${error}`)
                  },
                ),
              )
              // Single flight: a refresh starts a load only when none is in flight.
              const started = definition.calls.filter((k) => !known.has(k))
              if (started.length > 1) problems.push(`${step}: one refresh started ${started.length} loads`)
              break
            }
            case 'ready': {
              const definition = definitions.get(c.name)
              if (definition === undefined) break
              const had = definition.handle.peek().hasValue
              promises.push(
                definition.handle.ready().then(
                  (value) => {
                    const call = definition.calls.find((k) => k.id === value)
                    if (call === undefined || call.outcome !== 'value' || call.signal.aborted)
                      problems.push(`ready() of ${c.name} resolved with ${value}, not an accepted value`)
                  },
                  (error: unknown) => {
                    // Only a stop or a removal rejects it, and never once there is a value.
                    if (!(error instanceof StoppedError) || had)
                      problems.push(`ready() of ${c.name} rejected with ${error}`)
                  },
                ),
              )
              break
            }
            case 'remove': {
              const definition = definitions.get(c.name)
              if (definition === undefined) break
              expect(resources.remove(c.name)).toBe(true)
              definitions.delete(c.name)
              // Its load in flight, if any, was aborted at once.
              if (definition.calls.some((k) => k.outcome === undefined && !k.signal.aborted))
                problems.push(`${step}: ${c.name} removed with a load still running`)
              break
            }
            case 'define':
              if (!definitions.has(c.name)) define(c.name)
              break
            case 'stop':
              wanted = 'stopped'
              // A refresh not begun yet is dropped with the queue.
              for (const d of definitions.values()) d.refreshAsked = false
              promises.push(resources.stop())
              if (calls.some((k) => k.outcome === undefined && !k.signal.aborted))
                problems.push(`${step}: stopped with a load still running`)
              break
            case 'start': {
              wanted = 'started'
              if (!c.wait) {
                promises.push(resources.start())
                break
              }
              // With wait: settles once each resource has a value or has settled its first load, and
              // rejects with one error per resource left without a value, naming it. (Resources removed
              // or defined meanwhile may count too; those defined at the call and still there must.)
              const waited = [...definitions.values()]
              const empty = () =>
                waited
                  .filter((d) => definitions.get(d.name) === d && !d.handle.peek().hasValue)
                  .map((d) => d.name)
              promises.push(
                resources.start({ wait: true }).then(
                  () => {
                    if (empty().length > 0) problems.push(`start({ wait }) resolved with ${empty()} empty`)
                  },
                  (error: unknown) => {
                    const named = error instanceof SyncError ? error.errors.map((e) => e.resource) : []
                    if (!(error instanceof SyncError) || empty().some((n) => !named.includes(n)))
                      problems.push(
                        `start({ wait }) rejected with ${error} naming ${named}; empty: ${empty()}`,
                      )
                  },
                ),
              )
              break
            }
          }
          await vi.advanceTimersByTimeAsync(0)
          // A start() still waiting for an earlier stop() to finish must not start after a later stop().
          if (wanted === 'stopped' && resources.started) problems.push(`${step}: started after stop()`)
          // Stopped, nothing loads by itself: only a refresh() may call a loader, at once or, queued
          // for a slot, when one is free.
          const uncalledFor = calls.slice(callsBefore).filter((k) => !k.refreshed).length
          if (!resources.started && uncalledFor > 0)
            problems.push(`${step}: ${uncalledFor} loads while stopped`)
          check(step)
          if (problems.length > 0) break
        }

        // Liveness: once the backend answers again, every resource gets a fresh value within a timeout
        // (for a load that hangs) plus an interval and its jitter (the longest any retry waits).
        if (problems.length === 0) {
          auto = true
          const firstFresh = calls.length + 1
          for (const call of calls) if (call.outcome === undefined) call.resolve?.(call.id)
          promises.push(resources.start())
          await vi.advanceTimersByTimeAsync(STOP_GRACE + TIMEOUT + INTERVAL * (1 + options.jitter) + 2)
          check('after the backend came back')
          for (const definition of definitions.values()) {
            const value = definition.handle.peek().value
            if (value === undefined || value < firstFresh)
              problems.push(`${definition.name} has no fresh value after the backend came back (${value})`)
          }
        }

        // Whatever is left hanging, stop() settles within its grace, and so does every promise given out.
        const stopped = resources.stop()
        let settled = false
        void Promise.allSettled([...promises, stopped]).then(() => {
          settled = true
        })
        await vi.advanceTimersByTimeAsync(STOP_GRACE)
        if (!settled) problems.push('stop(), start() or refresh() promises left unsettled')
        await expect(stopped).resolves.toBeUndefined()
        expect(problems).toEqual([])
      },
    ),
    // `npm run test:soak` runs many more (model.soak.ts).
    { numRuns: Number(process.env.MODEL_RUNS ?? 200) },
  )
})

/** How long `stop()` waits for loaders that ignore their signal (see `stop()`). */
const STOP_GRACE = 1_000

/** A thrown value that cannot be inspected: a Proxy whose traps throw, or an Error whose message getter throws. */
function uninspectable(id: number): unknown {
  if (id % 2 === 0) {
    return new Proxy(
      {},
      {
        getPrototypeOf() {
          throw new Error('getPrototypeOf trap')
        },
        get() {
          throw new Error('get trap')
        },
      },
    )
  }
  const error = new Error('x')
  Object.defineProperty(error, 'message', {
    get() {
      throw new Error('message getter')
    },
  })
  return error
}
