import { describe, expect, it, vi } from 'vitest'
import { LoadAbortedError, Resources, StoppedError, SyncError } from '../../src/index.js'
import { countingClock, never, registry, rejection, resolveAfter, useFakeTime } from './helpers.js'

useFakeTime()

/**
 * A registry stopping: the first load of its one resource hangs (ignoring its signal), so the stop
 * waits out its grace; later loads return how many times the loader was called.
 */
function stopping() {
  const resources = registry({ interval: 1_000 })
  let n = 0
  const pods = resources.define('pods', () => (++n === 1 ? never() : n))
  void resources.start()
  void resources.stop()
  return { resources, pods, calls: () => n }
}

describe('stop()', () => {
  it('clears every timer: a counting clock shows none pending', async () => {
    const clock = countingClock()
    const resources = registry({ clock, interval: 1_000, timeout: 5_000 })
    for (let i = 0; i < 100; i++) resources.define(`r${i}`, () => (i % 2 === 0 ? i : resolveAfter(10, i)))
    void resources.start()
    // Loads every 1010 ms (10 ms load + 1 s interval): at 3035 ms, the slow half is in flight.
    await vi.advanceTimersByTimeAsync(3_035)
    expect(resources.status().resources.filter((r) => r.loading)).toHaveLength(50)
    expect(clock.pending).toBe(1)
    // Half the loaders ignore their signal: stop() waits for them (10 ms here), within its grace.
    const stopped = resources.stop()
    await vi.advanceTimersByTimeAsync(10)
    await stopped
    expect(clock.pending).toBe(0)
    expect(vi.getTimerCount()).toBe(0)
    expect(resources.status().resources.every((r) => r.nextRefreshIn === undefined)).toBe(true)
  })

  it('aborts the loads in flight with a LoadAbortedError and resolves when they settle', async () => {
    const resources = registry()
    const signals: AbortSignal[] = []
    resources.define('pods', ({ signal }) => {
      signals.push(signal)
      return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)))
    })
    void resources.start()
    await resources.stop()
    expect(signals[0]?.aborted).toBe(true)
    expect(signals[0]?.reason).toBeInstanceOf(LoadAbortedError)
  })

  it('abandons loaders that ignore their signal after a grace period', async () => {
    const resources = registry()
    resources.define('hung', () => never())
    resources.define('slow', () => resolveAfter(60_000, 'slow'))
    void resources.start()
    let stopped = false
    const stopping = resources.stop().then(() => {
      stopped = true
    })
    await vi.advanceTimersByTimeAsync(999)
    expect(stopped).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    expect(stopped).toBe(true)
    await stopping
  })

  it('is idempotent: calling it again returns while stopping and after', async () => {
    const resources = registry()
    resources.define('hung', () => never())
    void resources.start()
    const first = resources.stop()
    const second = resources.stop()
    await vi.advanceTimersByTimeAsync(1_000)
    await Promise.all([first, second])
    await expect(resources.stop()).resolves.toBeUndefined()
    expect(resources.started).toBe(false)
  })

  it('leaves the values readable, and no refresh happens afterwards', async () => {
    const resources = registry({ interval: 1_000 })
    const loader = vi.fn(() => 'kept')
    const pods = resources.define('pods', loader)
    await resources.start({ wait: true })
    await resources.stop()
    await vi.advanceTimersByTimeAsync(10_000)
    expect(pods.get()).toBe('kept')
    expect(resources.get('pods')).toBe('kept')
    expect(loader).toHaveBeenCalledTimes(1)
  })

  it('works through Symbol.asyncDispose', async () => {
    const clock = countingClock()
    const signals: AbortSignal[] = []
    {
      const resources = new Resources({ clock })
      resources.define('pods', ({ signal }) => {
        signals.push(signal)
        return never()
      })
      void resources.start()
      const disposed = resources[Symbol.asyncDispose]()
      await vi.advanceTimersByTimeAsync(1_000)
      await disposed
      expect(resources.started).toBe(false)
    }
    expect(signals[0]?.aborted).toBe(true)
    expect(clock.pending).toBe(0)
  })

  it('can be followed by start(), which resumes refreshing', async () => {
    const resources = registry({ interval: 1_000 })
    let n = 0
    const pods = resources.define('pods', () => ++n)
    await resources.start({ wait: true })
    await resources.stop()
    await vi.advanceTimersByTimeAsync(5_000)
    expect(n).toBe(1)
    await resources.start({ wait: true })
    expect(pods.get()).toBe(2)
    await vi.advanceTimersByTimeAsync(2_000)
    expect(pods.get()).toBe(4)
    expect(resources.started).toBe(true)
  })

  it('start() during a stop waits for it, then resumes', async () => {
    const { resources, pods } = stopping()
    const restarted = resources.start({ wait: true })
    await vi.advanceTimersByTimeAsync(1_000)
    await restarted
    expect(pods.get()).toBe(2)
  })

  it('calls no queued loader: the slots it frees do not begin the loads waiting for them', async () => {
    const resources = registry({ concurrency: 1 })
    const called: string[] = []
    for (const name of ['a', 'b', 'c']) {
      resources.define(name, () => {
        called.push(name)
        return never()
      })
    }
    void resources.start()
    expect(called).toEqual(['a'])
    const stopped = resources.stop()
    await vi.advanceTimersByTimeAsync(1_000)
    await stopped
    expect(called).toEqual(['a'])
  })

  it('wins over a start() that was waiting for an earlier stop() to finish', async () => {
    const { resources, pods, calls } = stopping()
    const restarting = resources.start()
    const stopped = resources.stop()
    await vi.advanceTimersByTimeAsync(5_000)
    await Promise.all([restarting, stopped])
    expect(resources.started).toBe(false)
    expect(calls()).toBe(1)
    expect(pods.peek().hasValue).toBe(false)
  })

  it('starts once when two start() calls wait for the same stop()', async () => {
    const { resources, pods, calls } = stopping()
    const both = Promise.all([resources.start(), resources.start()])
    await vi.advanceTimersByTimeAsync(1_000)
    await both
    expect(resources.started).toBe(true)
    expect(calls()).toBe(2)
    expect(pods.get()).toBe(2)
  })

  it('called again, also aborts a load begun since the first call', async () => {
    const resources = registry()
    resources.define('hung', () => never())
    void resources.start()
    const first = resources.stop()
    // Stopped, a resource defined now is not started, but refresh() loads it.
    const signals: AbortSignal[] = []
    const late = resources.define('late', ({ signal }) => {
      signals.push(signal)
      return never()
    })
    const refreshed = late.refresh()
    expect(signals).toHaveLength(1)
    const second = resources.stop()
    expect(signals[0]?.aborted).toBe(true)
    expect(await rejection(refreshed)).toBeInstanceOf(LoadAbortedError)
    await vi.advanceTimersByTimeAsync(1_000)
    await Promise.all([first, second])
    expect(await rejection(late.refresh())).toBeInstanceOf(StoppedError)
  })

  it('says what happened: "was stopped", and "before it had a value" to a start() that waited', async () => {
    const resources = registry()
    const pods = resources.define('pods', () => never())
    const starting = resources.start({ wait: true })
    const refreshed = pods.refresh()
    void resources.stop()
    const aborted = await rejection(refreshed)
    expect(aborted).toBeInstanceOf(LoadAbortedError)
    expect((aborted as Error).message).toBe('resource "pods" load aborted: was stopped')
    const sync = await rejection(starting)
    expect(sync).toBeInstanceOf(SyncError)
    expect((sync as SyncError).errors[0]?.message).toBe(
      'resource "pods" load aborted: was stopped before it had a value',
    )
    expect(((await rejection(pods.refresh())) as Error).message).toBe('resource "pods" was stopped')
    await vi.advanceTimersByTimeAsync(1_000)
  })

  it('before start(), closes the resources until start(): refresh() and ready() reject, then work again', async () => {
    const resources = registry()
    let n = 0
    const pods = resources.define('pods', () => ++n)
    await resources.stop()
    expect(await rejection(pods.refresh())).toBeInstanceOf(StoppedError)
    expect(await rejection(pods.ready())).toBeInstanceOf(StoppedError)
    expect(n).toBe(0)
    await resources.start({ wait: true })
    expect(pods.get()).toBe(1)
    expect(await pods.refresh()).toBe(2)
  })

  it('makes a stopped registry with nothing started resolve at once', async () => {
    const resources = registry()
    resources.define('pods', () => 1)
    await expect(resources.stop()).resolves.toBeUndefined()
  })
})
