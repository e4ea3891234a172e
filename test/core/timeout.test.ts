import { describe, expect, it, vi } from 'vitest'
import { type ErrorEvent, LoadTimeoutError } from '../../src/index.js'
import { deferred, flush, never, registry, rejection, resolveAfter, useFakeTime } from './helpers.js'

useFakeTime()

describe('the load timeout', () => {
  it('aborts the signal with a LoadTimeoutError naming the resource and the timeout', async () => {
    const resources = registry({ timeout: 1_000 })
    let signal: AbortSignal | undefined
    resources.define('pods', (ctx) => {
      signal = ctx.signal
      return never()
    })
    void resources.start()
    await vi.advanceTimersByTimeAsync(999)
    expect(signal?.aborted).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    expect(signal?.aborted).toBe(true)
    expect(signal?.reason).toBeInstanceOf(LoadTimeoutError)
    expect(signal?.reason).toMatchObject({ code: 'E_LOAD_TIMEOUT', resource: 'pods', timeout: 1_000 })
  })

  it('frees the slot even if the loader ignores its signal: a hung loader delays the next only by its timeout', async () => {
    const resources = registry({ concurrency: 1, timeout: 1_000, interval: '1h' })
    resources.define('hung', () => never())
    const next = vi.fn(() => 'next')
    const other = resources.define('next', next)
    void resources.start()
    await vi.advanceTimersByTimeAsync(999)
    expect(next).not.toHaveBeenCalled()
    await vi.advanceTimersByTimeAsync(1)
    expect(next).toHaveBeenCalledTimes(1)
    expect(other.get()).toBe('next')
  })

  it('discards a result that arrives after the timeout and keeps the last good value', async () => {
    const resources = registry({ timeout: 1_000, interval: 5_000, retry: false })
    const loads: number[] = []
    const errors: ErrorEvent[] = []
    resources.on('load', (e) => loads.push(e.version))
    resources.on('error', (e) => errors.push(e))
    let calls = 0
    const pods = resources.define('pods', () => (++calls === 1 ? 'v1' : resolveAfter(2_000, 'late')))
    await resources.start({ wait: true })
    await vi.advanceTimersByTimeAsync(5_000 + 1_000)
    expect(errors).toHaveLength(1)
    expect(errors[0]!.error).toBeInstanceOf(LoadTimeoutError)
    await vi.advanceTimersByTimeAsync(1_000)
    expect(pods.get()).toBe('v1')
    expect(pods.peek().version).toBe(1)
    expect(loads).toEqual([1])
  })

  it('discards a late result that arrives while the next load runs, and lets that load settle with its own', async () => {
    const resources = registry({ timeout: 1_000, retry: { initial: 100 }, jitter: 0 })
    const first = deferred<string>()
    const second = deferred<string>()
    let calls = 0
    const pods = resources.define('pods', () => (++calls === 1 ? first.promise : second.promise))
    // Another resource whose load stays in flight throughout: the late result must not reach it either.
    const other = resources.define('other', () => never(), { timeout: Number.POSITIVE_INFINITY })
    void resources.start()
    await vi.advanceTimersByTimeAsync(1_000 + 100) // the first load timed out; the retry runs
    expect(calls).toBe(2)
    first.resolve('late')
    await flush()
    expect(pods.peek()).toMatchObject({ hasValue: false, loading: true })
    expect(other.peek()).toMatchObject({ hasValue: false, loading: true })
    second.resolve('v2')
    await flush()
    expect(pods.get()).toBe('v2')
    expect(pods.peek()).toMatchObject({ version: 1, loading: false })
  })

  it('makes refresh() reject with the LoadTimeoutError', async () => {
    const resources = registry({ timeout: 500 })
    const pods = resources.define('pods', () => never())
    const refreshed = rejection(pods.refresh())
    await vi.advanceTimersByTimeAsync(500)
    expect(await refreshed).toBeInstanceOf(LoadTimeoutError)
  })

  it('does not apply with timeout Infinity', async () => {
    const resources = registry({ timeout: Number.POSITIVE_INFINITY })
    const pods = resources.define('pods', () => resolveAfter(10 * 86_400_000, 'eventually'))
    void resources.start()
    await vi.advanceTimersByTimeAsync(10 * 86_400_000)
    await flush()
    expect(pods.get()).toBe('eventually')
  })
})
