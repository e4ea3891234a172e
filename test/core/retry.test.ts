import fc from 'fast-check'
import { describe, expect, it, vi } from 'vitest'
import { type ErrorEvent, Resources } from '../../src/index.js'
import { registry, useFakeTime } from './helpers.js'

useFakeTime()

/** Defines a resource that fails `failures` times, then succeeds; records when each attempt began. */
function failing(resources: Resources, failures = Number.POSITIVE_INFINITY) {
  const times: number[] = []
  const attempts: number[] = []
  const start = Date.now()
  const resource = resources.define('flaky', ({ attempt }) => {
    times.push(Date.now() - start)
    attempts.push(attempt)
    if (times.length <= failures) throw new Error(`failure ${times.length}`)
    return times.length
  })
  return { resource, times, attempts }
}

const gaps = (times: number[]) => times.slice(1).map((t, i) => t - times[i]!)

describe('retry with backoff', () => {
  it('retries after initial * factor^(n-1), capped at the interval', async () => {
    const resources = registry({ interval: 10_000, retry: { initial: 100, factor: 3 } })
    const errors: ErrorEvent[] = []
    resources.on('error', (e) => errors.push(e))
    const { times, attempts } = failing(resources)
    void resources.start()
    await vi.advanceTimersByTimeAsync(100 + 300 + 900 + 2_700 + 8_100 + 10_000 + 10_000)
    expect(gaps(times)).toEqual([100, 300, 900, 2_700, 8_100, 10_000, 10_000])
    expect(attempts).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
    expect(errors.map((e) => e.retryIn)).toEqual([100, 300, 900, 2_700, 8_100, 10_000, 10_000, 10_000])
    expect(errors.map((e) => e.attempt)).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
  })

  it('caps the delay at retry.max when it is below the interval', async () => {
    const resources = registry({ interval: 60_000, retry: { initial: 1_000, factor: 2, max: 3_000 } })
    const { times } = failing(resources)
    void resources.start()
    await vi.advanceTimersByTimeAsync(1_000 + 2_000 + 3_000 + 3_000)
    expect(gaps(times)).toEqual([1_000, 2_000, 3_000, 3_000])
  })

  it('starts over from the initial delay after a success, and waits a full interval after it', async () => {
    const resources = registry({ interval: 10_000, retry: { initial: 100, factor: 2 } })
    let calls = 0
    const times: number[] = []
    resources.define('flaky', () => {
      times.push(Date.now())
      calls++
      // fail, fail, succeed, fail, fail, ...
      if (calls % 3 !== 0) throw new Error('down')
      return calls
    })
    void resources.start()
    await vi.advanceTimersByTimeAsync(100 + 200 + 10_000 + 100 + 200)
    expect(gaps(times)).toEqual([100, 200, 10_000, 100, 200])
  })

  it('with retry: false waits a full interval after a failure', async () => {
    const resources = registry({ interval: 5_000, retry: false })
    const { times, resource } = failing(resources)
    void resources.start()
    await vi.advanceTimersByTimeAsync(15_000)
    expect(gaps(times)).toEqual([5_000, 5_000, 5_000])
    expect(resource.peek().consecutiveFailures).toBe(4)
  })

  it('keeps every delay within the jitter bounds (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          jitter: fc.double({ min: 0, max: 1, noNaN: true }),
          random: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
          initial: fc.integer({ min: 1, max: 5_000 }),
          factor: fc.double({ min: 1, max: 4, noNaN: true }),
          interval: fc.integer({ min: 1_000, max: 60_000 }),
          failures: fc.integer({ min: 1, max: 6 }),
        }),
        async ({ jitter, random, initial, factor, interval, failures }) => {
          // The given draw for the retries; a neutral one afterwards, so a jitter of 1 with a draw of 0
          // cannot make every later refresh immediate.
          let draws = 0
          vi.spyOn(Math, 'random').mockImplementation(() => (draws++ < failures ? random : 0.5))
          // No splay: its draw would take one of the mocked ones.
          const resources = new Resources({ interval, jitter, splay: 0, retry: { initial, factor } })
          try {
            const errors: ErrorEvent[] = []
            const next: number[] = []
            resources.on('error', (e) => {
              errors.push(e)
              next.push(resources.resource('flaky').peek().nextRefreshAt! - Date.now())
            })
            failing(resources, failures)
            void resources.start()
            await vi.advanceTimersByTimeAsync(2 * interval * (failures + 1))
            expect(errors.length).toBeGreaterThanOrEqual(failures)
            const cappedInitial = Math.min(initial, interval)
            errors.slice(0, failures).forEach((e, i) => {
              const base = Math.min(cappedInitial * factor ** i, interval)
              // Never below 1 ms, so a full jitter cannot make a retry immediate.
              expect(e.retryIn).toBeGreaterThanOrEqual(Math.max(1, base * (1 - jitter)) - 1e-6)
              expect(e.retryIn).toBeLessThanOrEqual(Math.max(1, base * (1 + jitter)) + 1e-6)
              expect(e.retryIn).toBeCloseTo(Math.max(1, base * (1 + jitter * (2 * random - 1))), 6)
              // Clock times are large numbers: compare to the precision they carry.
              expect(Math.abs(next[i]! - e.retryIn)).toBeLessThan(0.01)
            })
            expect(resources.resource('flaky').peek().hasValue).toBe(true)
          } finally {
            await resources.stop()
            vi.restoreAllMocks()
          }
        },
      ),
      { numRuns: 100 },
    )
  })

  it('spreads refreshes by the jitter: a successful load schedules the next within interval ± jitter', async () => {
    // No splay, so the first delay is drawn like every other (splay.test.ts covers the first one).
    const resources = registry({ interval: 10_000, jitter: 0.2, splay: 0 })
    const times: number[] = []
    resources.define('pods', () => times.push(Date.now()))
    void resources.start()
    await vi.advanceTimersByTimeAsync(200_000)
    const delays = gaps(times)
    expect(delays.length).toBeGreaterThan(15)
    for (const d of delays) {
      expect(d).toBeGreaterThanOrEqual(8_000)
      expect(d).toBeLessThanOrEqual(12_001)
    }
    // Not all equal: the jitter does spread them.
    expect(new Set(delays).size).toBeGreaterThan(1)
  })
})
