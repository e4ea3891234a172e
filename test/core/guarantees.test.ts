import { getEventListeners } from 'node:events'
import fc from 'fast-check'
import { describe, expect, it, vi } from 'vitest'
import { type EvergreenError, LoadError, type Loader, LoadTimeoutError, Resources } from '../../src/index.js'
import { countingClock, flush, never, registry, resolveAfter, useFakeTime } from './helpers.js'

useFakeTime()

describe('guarantee 1: a failed, timed-out or aborted load never replaces the last good value', () => {
  it.each<[string, Loader<string>]>([
    ['fails', () => Promise.reject(new Error('down'))],
    ['times out', () => never()],
    ['resolves after its timeout', () => resolveAfter(5_000, 'too late')],
    ['rejects with an abort error', ({ signal }) => Promise.reject(signal.reason ?? new Error('aborted'))],
  ])('when the next load %s', async (_, badLoader) => {
    const resources = registry({ interval: 1_000, timeout: 2_000, retry: false })
    let calls = 0
    const pods = resources.define<string>('pods', (ctx) => (++calls === 1 ? 'good' : badLoader(ctx)))
    await resources.start({ wait: true })
    for (let i = 0; i < 4; i++) {
      await vi.advanceTimersByTimeAsync(2_500)
      expect(pods.get()).toBe('good')
    }
    expect(calls).toBeGreaterThan(2)
    expect(pods.peek()).toMatchObject({ value: 'good', version: 1, status: 'degraded' })
    expect(pods.peek().error).toBeInstanceOf(LoadError)
  })

  it('when stop() aborts the load in flight, which then resolves anyway', async () => {
    const resources = registry({ interval: 1_000 })
    let calls = 0
    const pods = resources.define('pods', () => (++calls === 1 ? 'good' : resolveAfter(500, 'aborted')))
    await resources.start({ wait: true })
    await vi.advanceTimersByTimeAsync(1_000)
    expect(calls).toBe(2)
    const stopped = resources.stop()
    await vi.advanceTimersByTimeAsync(500)
    await stopped
    expect(pods.get()).toBe('good')
    expect(pods.peek().version).toBe(1)
  })
})

type BadLoader = [string, () => unknown]

describe('guarantee 2: a misbehaving loader never causes an unhandled rejection nor blocks others or stop()', () => {
  // The test guard (test/setup.ts) fails any test that leaves an unhandled rejection behind.
  it.each<BadLoader>([
    [
      'throws an Error synchronously',
      () => {
        throw new Error('sync')
      },
    ],
    [
      'throws a non-Error synchronously',
      () => {
        throw { code: 42 }
      },
    ],
    ['rejects with an Error', () => Promise.reject(new Error('async'))],
    ['rejects with a string', () => Promise.reject('a string')],
    ['rejects with undefined', () => Promise.reject(undefined)],
    ['rejects with null', () => Promise.reject(null)],
    [
      'returns a thenable that rejects',
      // biome-ignore lint/suspicious/noThenProperty: a thenable that is not a promise is the case under test
      () => ({ then: (_: unknown, reject: (e: unknown) => void) => reject(7) }),
    ],
    ['hangs forever', () => never()],
    ['ignores its signal and resolves after an hour', () => resolveAfter(3_600_000, 'ignored')],
    ['resolves after its timeout', () => resolveAfter(1_500, 'late')],
    ['rejects after its timeout', () => resolveAfter(1_500, 0).then(() => Promise.reject(new Error('late')))],
  ])('when the loader %s', async (_, bad) => {
    const errors: EvergreenError[] = []
    const resources = registry({
      concurrency: 1,
      timeout: 1_000,
      interval: 3_000,
      onError: (e) => errors.push(e),
    })
    let calls = 0
    const flaky = resources.define('flaky', () => (++calls === 1 ? 'good' : bad()))
    const healthy = resources.define('healthy', () => Date.now())
    await resources.start({ wait: true })
    const firstHealthy = healthy.get()
    await vi.advanceTimersByTimeAsync(30_000)
    // The healthy resource kept refreshing on its interval, delayed at most by the flaky one's timeout.
    expect(healthy.peek().loads).toBeGreaterThanOrEqual(7)
    expect(healthy.get()).toBeGreaterThan(firstHealthy)
    expect(flaky.get()).toBe('good')
    expect(calls).toBeGreaterThan(3)
    expect(errors.length).toBeGreaterThan(0)
    expect(errors.every((e) => e instanceof LoadError && e.resource === 'flaky')).toBe(true)
    // stop() settles: at once, or after its grace period for a loader that ignores its signal.
    let stopped = false
    const stopping = resources.stop().then(() => {
      stopped = true
    })
    await vi.advanceTimersByTimeAsync(1_000)
    expect(stopped).toBe(true)
    await stopping
    // Whatever the loader does later, nothing escapes.
    await vi.advanceTimersByTimeAsync(3_600_000)
    expect(flaky.get()).toBe('good')
  })
})

type Command = { kind: 'refresh' } | { kind: 'advance'; ms: number } | { kind: 'settle' }

const command: fc.Arbitrary<Command> = fc.oneof(
  fc.constant({ kind: 'refresh' as const }),
  fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 1_500 }) }),
  fc.constant({ kind: 'settle' as const }),
  fc.constant({ kind: 'settle' as const }),
)

describe('guarantee 3: results arriving out of order never move a resource back to an older value', () => {
  it('keeps version increasing and the latest accepted value, for any completion order (fast-check scheduler)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.array(command, { minLength: 1, maxLength: 40, size: 'max' }),
        fc.func(fc.boolean()),
        async (s, commands, fails) => {
          const resources = new Resources({
            interval: 1_000,
            timeout: 300,
            jitter: 0,
            retry: { initial: 200 },
          })
          let calls = 0
          const late = new Set<number>()
          const problems: string[] = []
          const pods = resources.define<number>('pods', ({ signal }) => {
            const n = ++calls
            return s.schedule(Promise.resolve(n), `load ${n}`).then((v) => {
              if (signal.aborted) late.add(v)
              if (fails(v)) throw new Error(`load ${v} failed`)
              return v
            })
          })
          const accepted: number[] = []
          const versions: number[] = []
          resources.on('change', (e) => {
            accepted.push(e.value as number)
            versions.push(e.version)
          })
          pods.subscribe((value, previous) => {
            if (previous !== undefined && value <= previous)
              problems.push(`went from ${previous} to ${value}`)
          })
          const check = () => {
            const snap = pods.peek()
            if (accepted.length > 0) {
              expect(snap.value).toBe(accepted.at(-1))
              expect(snap.version).toBe(versions.at(-1))
            }
          }
          await resources.start()
          for (const c of commands) {
            if (c.kind === 'refresh') void pods.refresh().then(undefined, () => {})
            else if (c.kind === 'advance') await vi.advanceTimersByTimeAsync(c.ms)
            else if (s.count() > 0) await s.waitNext(1)
            check()
          }
          await s.waitAll()
          check()
          const stopped = resources.stop()
          await vi.advanceTimersByTimeAsync(1_000)
          await s.waitAll()
          await stopped
          expect(problems).toEqual([])
          for (let i = 1; i < accepted.length; i++) {
            expect(accepted[i]).toBeGreaterThan(accepted[i - 1]!)
            expect(versions[i]).toBeGreaterThan(versions[i - 1]!)
          }
          // A result that came after its load was aborted (timeout) was never accepted.
          for (const v of accepted) expect(late.has(v)).toBe(false)
        },
      ),
      { numRuns: 150 },
    )
  })
})

describe('guarantee 5: after a long event-loop stall a resource refreshes once, not once per missed interval', () => {
  it('for one resource', async () => {
    const resources = registry({ interval: 1_000 })
    const loader = vi.fn(() => Date.now())
    resources.define('pods', loader)
    await resources.start({ wait: true })
    await vi.advanceTimersByTimeAsync(500)
    // The process is frozen for 100 intervals: the clock jumps, no timer ran meanwhile.
    vi.setSystemTime(Date.now() + 100_000)
    await vi.advanceTimersByTimeAsync(500)
    expect(loader).toHaveBeenCalledTimes(2)
    await vi.advanceTimersByTimeAsync(999)
    expect(loader).toHaveBeenCalledTimes(2)
    await vi.advanceTimersByTimeAsync(1)
    expect(loader).toHaveBeenCalledTimes(3)
  })

  it('for many resources at once', async () => {
    const resources = registry({ interval: 1_000 })
    const calls = new Map<string, number>()
    for (let i = 0; i < 200; i++) {
      const name = `r${i}`
      resources.define(name, () => calls.set(name, (calls.get(name) ?? 0) + 1))
    }
    await resources.start({ wait: true })
    vi.setSystemTime(Date.now() + 3_600_000)
    await vi.advanceTimersByTimeAsync(1_000)
    expect(new Set(calls.values())).toEqual(new Set([2]))
  })
})

describe('guarantee 6: abort listeners never accumulate', () => {
  it('gives every load its own signal, holding only the listeners its loader added, over thousands of loads', async () => {
    const resources = registry({ interval: 1 })
    const signals: AbortSignal[] = []
    const pods = resources.define('pods', ({ signal }) => {
      signal.addEventListener('abort', () => {})
      signals.push(signal)
      return signals.length
    })
    await resources.start({ wait: true })
    await vi.advanceTimersByTimeAsync(2_000)
    for (let i = 0; i < 1_000; i++) await pods.refresh()
    expect(signals.length).toBeGreaterThan(2_900)
    expect(new Set(signals).size).toBe(signals.length)
    for (const signal of signals) {
      expect(getEventListeners(signal, 'abort')).toHaveLength(1)
      expect(signal.aborted).toBe(false)
    }
  })

  it('does not link aborted signals either: thousands of timed-out loads leave one listener each', async () => {
    const resources = registry({ interval: 1, timeout: 1, retry: false })
    const signals: AbortSignal[] = []
    resources.define('hung', ({ signal }) => {
      signal.addEventListener('abort', () => {})
      signals.push(signal)
      return never()
    })
    void resources.start()
    await vi.advanceTimersByTimeAsync(4_000)
    expect(signals.length).toBeGreaterThan(1_900)
    for (const signal of signals.slice(0, -1)) {
      expect(signal.reason).toBeInstanceOf(LoadTimeoutError)
      expect(getEventListeners(signal, 'abort')).toHaveLength(1)
    }
  })
})

describe('guarantee 7: the number of platform timers does not grow with the number of resources', () => {
  it('keeps at most one timer pending for 1000 resources, while loads with timeouts run', async () => {
    const clock = countingClock()
    const resources = registry({
      clock,
      concurrency: Number.POSITIVE_INFINITY,
      interval: 5_000,
      timeout: 1_000,
    })
    const calls = { slow: 0, hung: 0, sync: 0 }
    for (let i = 0; i < 1_000; i++) {
      if (i % 3 === 0)
        resources.define(`slow${i}`, () => {
          calls.slow++
          return resolveAfter(200, i)
        })
      else if (i % 3 === 1)
        resources.define(`hung${i}`, () => {
          calls.hung++
          return never()
        })
      else
        resources.define(`sync${i}`, () => {
          calls.sync++
          return i
        })
    }
    void resources.start()
    await vi.advanceTimersByTimeAsync(500)
    // Timeouts of the hung loads are pending now, and are tasks of the one scheduler.
    expect(resources.status().resources.filter((r) => r.loading)).toHaveLength(333)
    expect(clock.pending).toBe(1)
    await vi.advanceTimersByTimeAsync(30_000)
    expect(calls.slow).toBeGreaterThanOrEqual(334 * 5)
    expect(calls.hung).toBeGreaterThanOrEqual(333 * 5)
    expect(calls.sync).toBeGreaterThanOrEqual(333 * 5)
    expect(clock.armed).toBeGreaterThan(10)
    expect(clock.maxPending).toBe(1)
    const stopped = resources.stop()
    await vi.advanceTimersByTimeAsync(1_000)
    await stopped
    expect(clock.maxPending).toBe(1)
    expect(clock.pending).toBe(0)
  })
})

describe('a throwing scheduler task or listener never stops the timer loop', () => {
  it('keeps refreshing other resources when a listener of one throws', async () => {
    const resources = registry({ interval: 1_000, onError: () => {} })
    resources.on('load', (e) => {
      if (e.name === 'a') throw new Error('listener')
    })
    const a = resources.define('a', () => 1)
    const b = resources.define('b', () => 2)
    await resources.start({ wait: true })
    await vi.advanceTimersByTimeAsync(5_000)
    await flush()
    expect(a.peek().loads).toBe(6)
    expect(b.peek().loads).toBe(6)
  })
})
