// Time inside a registry is monotonic: a step of the wall clock (an NTP step, a VM snapshot restored)
// moves no refresh and changes no age. Wall time is only what leaves the process: the `loadedAt` of
// saved entries, and the `updatedAt` and `nextRefreshAt` shown by peek().
import { describe, expect, it, vi } from 'vitest'
import { type Clock, memoryStore, ResourceStaleError } from '../../src/index.js'
import { manualClock } from '../scheduling/manual-clock.js'
import { registry, thrown, useFakeTime } from './helpers.js'

useFakeTime()

const HOUR = 3_600_000

/** Steps the wall clock by `ms`; monotonic time (performance.now) runs on untouched. */
function stepWallClock(ms: number): void {
  vi.setSystemTime(Date.now() + ms)
}

describe.each([
  ['back', -HOUR],
  ['forward', HOUR],
])('a wall-clock step of one hour %s after start()', (_, step) => {
  it('keeps loads on schedule: one a second, the next never more than an interval away', async () => {
    const resources = registry({ interval: 1_000 })
    let loads = 0
    resources.define('pods', () => ++loads)
    await resources.start({ wait: true })
    await vi.advanceTimersByTimeAsync(500)
    stepWallClock(step)
    const before = loads
    for (let i = 0; i < 5; i++) {
      const next = resources.status().resources[0]!.nextRefreshIn
      expect(next).toBeGreaterThanOrEqual(0)
      expect(next).toBeLessThanOrEqual(1_000)
      await vi.advanceTimersByTimeAsync(1_000)
    }
    expect(loads - before).toBe(5)
  })

  it('keeps ages true: a value loaded half a second ago is half a second old', async () => {
    const resources = registry({ interval: 60_000 })
    const pods = resources.define('pods', () => 'v1')
    await resources.start({ wait: true })
    await vi.advanceTimersByTimeAsync(300)
    stepWallClock(step)
    await vi.advanceTimersByTimeAsync(200)
    expect(pods.peek().age).toBe(500)
    expect(resources.status().resources[0]!.age).toBe(500)
    // Shown as wall time, the load moved with the wall clock: it is still half a second before now.
    expect(Date.now() - pods.peek().updatedAt!).toBe(500)
  })

  it('still makes get() throw ResourceStaleError once the value is older than maxStale', async () => {
    const resources = registry({ interval: 1_000, maxStale: 2_000, retry: false })
    let calls = 0
    const pods = resources.define('pods', () => {
      if (++calls === 1) return 'v1'
      throw new Error('down')
    })
    await resources.start({ wait: true })
    stepWallClock(step)
    await vi.advanceTimersByTimeAsync(2_000)
    expect(pods.get()).toBe('v1')
    await vi.advanceTimersByTimeAsync(1)
    expect(thrown(() => pods.get())).toBeInstanceOf(ResourceStaleError)
    expect(pods.peek()).toMatchObject({ status: 'stale', age: 2_001 })
  })

  it('saves wall time, read back onto the monotonic timeline with its true age', async () => {
    const store = memoryStore()
    const first = registry({ interval: 60_000, store })
    first.define('pods', () => 'v1')
    await first.start({ wait: true })
    await first.stop()
    const saved = await store.get('pods')
    expect(saved?.loadedAt).toBe(Date.now())
    await vi.advanceTimersByTimeAsync(1_000)
    stepWallClock(step)
    // A new process reads it after the step: its age is the wall time elapsed, step included (the
    // entry's only time is a wall time), and does not change when the wall clock steps again.
    const second = registry({ interval: 60_000, store })
    const pods = second.define('pods', () => new Promise<string>(() => {}))
    await vi.advanceTimersByTimeAsync(0)
    // (A value saved by a clock ahead of ours is taken as loaded when it was read: age 0, then
    // it ages from there.)
    expect(pods.peek().age).toBe(Math.max(0, 1_000 + step))
    stepWallClock(-step)
    await vi.advanceTimersByTimeAsync(100)
    expect(pods.peek().age).toBe(Math.max(0, 1_000 + step) + 100)
  })
})

describe('a custom clock', () => {
  it('without a monotonic reading uses its now() for both: simulated time stays simulated', async () => {
    const clock = manualClock()
    const resources = registry({ interval: 1_000, clock })
    const pods = resources.define('pods', () => 'v1')
    void resources.start()
    clock.advance(0)
    await vi.advanceTimersByTimeAsync(0)
    expect(pods.peek().updatedAt).toBe(clock.time)
    expect(pods.peek().nextRefreshAt).toBe(clock.time + 1_000)
    clock.advance(400)
    expect(pods.peek().age).toBe(400)
  })

  it('with a monotonic reading measures on it and shows wall time from now()', async () => {
    let wall = 5_000_000
    let mono = 10
    const timers = manualClock()
    const clock: Clock = {
      now: () => wall,
      monotonic: () => mono,
      setTimeout: (fn, ms) => timers.setTimeout(fn, ms),
      clearTimeout: (handle) => timers.clearTimeout(handle),
    }
    const resources = registry({ interval: 1_000, clock })
    const pods = resources.define('pods', () => 'v1')
    void resources.start()
    await vi.advanceTimersByTimeAsync(0)
    expect(pods.peek()).toMatchObject({ updatedAt: 5_000_000, age: 0, nextRefreshAt: 5_001_000 })
    // 250 ms later, the wall clock stepped back an hour on the way.
    wall += 250 - HOUR
    mono += 250
    expect(pods.peek()).toMatchObject({
      updatedAt: 5_000_000 - HOUR,
      age: 250,
      nextRefreshAt: 5_001_000 - HOUR,
    })
  })

  it('draws every random number from its random(), when it has one', async () => {
    const draws: number[] = []
    const clock: Clock = {
      now: () => Date.now(),
      setTimeout: (fn, ms) => setTimeout(fn, ms),
      clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
      random: () => {
        draws.push(0)
        return 0
      },
    }
    const spy = vi.spyOn(Math, 'random')
    const resources = registry({ interval: 1_000, jitter: 0.5, clock })
    const times: number[] = []
    const start = Date.now()
    resources.define('pods', () => times.push(Date.now() - start))
    await resources.start({ wait: true })
    await vi.advanceTimersByTimeAsync(2_000)
    // Splay phase 0 (at least 1 ms) jittered by -50 %, then intervals of 500 ms.
    expect(times).toEqual([0, 1, 501, 1_001, 1_501])
    expect(draws.length).toBeGreaterThan(0)
    expect(spy).not.toHaveBeenCalled()
  })
})
