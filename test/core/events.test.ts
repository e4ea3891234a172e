import { describe, expect, it, vi } from 'vitest'
import {
  type ChangeEvent,
  type ErrorEvent,
  type EvergreenError,
  ListenerError,
  LoadError,
  type LoadEvent,
} from '../../src/index.js'
import { registry, useFakeTime } from './helpers.js'

useFakeTime()

describe('events', () => {
  it("emits 'load' with name, duration, changed, version and attempt", async () => {
    const resources = registry({ interval: 1_000 })
    const loads: LoadEvent[] = []
    resources.on('load', (e) => loads.push(e))
    let n = 0
    resources.define(
      'pods',
      () => new Promise((resolve) => setTimeout(() => resolve(n++ < 1 ? 'a' : 'b'), 250)),
    )
    await resources.start()
    await vi.advanceTimersByTimeAsync(250 + 1_000 + 250 + 1_000 + 250)
    expect(loads).toEqual([
      { name: 'pods', duration: 250, changed: true, version: 1, attempt: 1 },
      { name: 'pods', duration: 250, changed: true, version: 2, attempt: 1 },
      { name: 'pods', duration: 250, changed: false, version: 3, attempt: 1 },
    ])
  })

  it("emits 'error' with name, error, attempt, retryIn and whether a value is kept", async () => {
    const resources = registry({ interval: 10_000, retry: { initial: 500, factor: 2 } })
    const errors: ErrorEvent[] = []
    resources.on('error', (e) => errors.push(e))
    let calls = 0
    resources.define('pods', () => {
      if (++calls === 2) return 'v'
      throw new Error(`failure ${calls}`)
    })
    await resources.start()
    await vi.advanceTimersByTimeAsync(500 + 10_000 + 500)
    expect(
      errors.map(({ name, attempt, retryIn, hasValue }) => ({ name, attempt, retryIn, hasValue })),
    ).toEqual([
      { name: 'pods', attempt: 1, retryIn: 500, hasValue: false },
      { name: 'pods', attempt: 1, retryIn: 500, hasValue: true },
      { name: 'pods', attempt: 2, retryIn: 1_000, hasValue: true },
    ])
    for (const [i, e] of errors.entries()) {
      expect(e.error).toBeInstanceOf(LoadError)
      expect(e.error.resource).toBe('pods')
      expect((e.error.cause as Error).message).toBe(`failure ${[1, 3, 4][i]}`)
    }
  })

  it("emits 'change' with the new and previous value, the version and the source, only when the value changed", async () => {
    const resources = registry({ interval: 1_000 })
    const changes: ChangeEvent[] = []
    resources.on('change', (e) => changes.push(e))
    const values = ['a', 'a', 'b']
    let i = 0
    resources.define('pods', () => values[Math.min(i++, 2)])
    await resources.start({ wait: true })
    await vi.advanceTimersByTimeAsync(3_000)
    expect(changes).toEqual([
      { name: 'pods', value: 'a', previous: undefined, version: 1, source: 'load' },
      { name: 'pods', value: 'b', previous: 'a', version: 3, source: 'load' },
    ])
  })

  it('on() returns a function that stops the listener, leaving the others', async () => {
    const resources = registry({ interval: 1_000 })
    const first = vi.fn()
    const second = vi.fn()
    const off = resources.on('load', first)
    resources.on('load', second)
    resources.define('pods', () => 1)
    await resources.start({ wait: true })
    off()
    off()
    await vi.advanceTimersByTimeAsync(2_000)
    expect(first).toHaveBeenCalledTimes(1)
    expect(second).toHaveBeenCalledTimes(3)
  })

  it('the same function subscribed twice is called twice and unsubscribed independently', async () => {
    const resources = registry({ interval: 1_000 })
    const listener = vi.fn()
    const off = resources.on('load', listener)
    resources.on('load', listener)
    resources.define('pods', () => 1)
    await resources.start({ wait: true })
    expect(listener).toHaveBeenCalledTimes(2)
    off()
    await vi.advanceTimersByTimeAsync(1_000)
    expect(listener).toHaveBeenCalledTimes(3)
  })
})

describe('a throwing listener, subscriber or error handler cannot break the refresh loop', () => {
  it.each(['load', 'change', 'error'] as const)(
    "a throwing '%s' listener is reported to onError as a ListenerError; the others still run",
    async (event) => {
      const reported: EvergreenError[] = []
      const resources = registry({ interval: 1_000, retry: false, onError: (e) => reported.push(e) })
      const others = vi.fn()
      resources.on(event, () => {
        throw new Error(`${event} listener broke`)
      })
      resources.on(event, others)
      let n = 0
      const pods = resources.define('pods', () => {
        n++
        if (n % 2 === 0) throw new Error('every other load fails')
        return n
      })
      await resources.start()
      await vi.advanceTimersByTimeAsync(5_000)
      expect(pods.peek().loads + pods.peek().failures).toBe(6)
      expect(others).toHaveBeenCalled()
      const listenerErrors = reported.filter((e) => e instanceof ListenerError)
      expect(listenerErrors).toHaveLength(others.mock.calls.length)
      expect(listenerErrors[0]).toMatchObject({ code: 'E_LISTENER' })
      expect((listenerErrors[0]!.cause as Error).message).toBe(`${event} listener broke`)
      expect(listenerErrors[0]!.message).toContain(event)
    },
  )

  it('a throwing subscriber is reported as a ListenerError naming the resource; other subscribers still run', async () => {
    const reported: [EvergreenError, string | undefined][] = []
    const resources = registry({ interval: 1_000, onError: (e, name) => reported.push([e, name]) })
    let n = 0
    const pods = resources.define('pods', () => ++n)
    pods.subscribe(() => {
      throw new Error('subscriber broke')
    })
    const seen: number[] = []
    pods.subscribe((v) => seen.push(v))
    await resources.start({ wait: true })
    await vi.advanceTimersByTimeAsync(2_000)
    expect(seen).toEqual([1, 2, 3])
    expect(reported).toHaveLength(3)
    for (const [error, name] of reported) {
      expect(error).toBeInstanceOf(ListenerError)
      expect(error.resource).toBe('pods')
      expect(name).toBe('pods')
    }
  })

  it('a throwing onError cannot break it either', async () => {
    const onError = vi.fn(() => {
      throw new Error('the handler broke')
    })
    const resources = registry({ interval: 1_000, retry: false, onError })
    resources.on('load', () => {
      throw new Error('listener broke')
    })
    let n = 0
    const pods = resources.define('pods', () => {
      if (++n % 2 === 0) throw new Error('load failed')
      return n
    })
    await resources.start()
    await vi.advanceTimersByTimeAsync(5_000)
    expect(n).toBe(6)
    expect(pods.get()).toBe(5)
    // 3 listener errors (successful loads) and 3 load failures, each reported once.
    expect(onError).toHaveBeenCalledTimes(6)
  })

  it('onError receives every background load failure with the resource name', async () => {
    const reported: [EvergreenError, string | undefined][] = []
    const resources = registry({ onError: (e, name) => reported.push([e, name]) })
    resources.define('pods', () => Promise.reject(new Error('x')))
    await resources.start()
    await vi.advanceTimersByTimeAsync(0)
    expect(reported).toHaveLength(1)
    expect(reported[0]![0]).toBeInstanceOf(LoadError)
    expect(reported[0]![1]).toBe('pods')
  })
})
