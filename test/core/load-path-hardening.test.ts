// The load path holds whatever user code does: a throwing equals, a rejection nothing can inspect,
// listeners that subscribe again while they are called.
import { describe, expect, it, vi } from 'vitest'
import { type ErrorEvent, LoadError } from '../../src/index.js'
import { registry, rejection, useFakeTime } from './helpers.js'

useFakeTime()

describe('a throwing equals', () => {
  it('fails the load with its error as cause: the value is kept, the retry scheduled, refresh() rejects', async () => {
    const boom = new Error('equals exploded')
    const errors: ErrorEvent[] = []
    const resources = registry({ interval: 1_000, retry: { initial: 100 } })
    resources.on('error', (e) => errors.push(e))
    let n = 0
    const pods = resources.define('pods', () => ++n, {
      equals: () => {
        throw boom
      },
    })
    await resources.start({ wait: true })
    const error = (await rejection(pods.refresh())) as LoadError
    expect(error).toBeInstanceOf(LoadError)
    expect(error.cause).toBe(boom)
    expect(pods.get()).toBe(1)
    expect(pods.peek()).toMatchObject({ consecutiveFailures: 1, loading: false, version: 1 })
    expect(pods.peek().nextRefreshAt).toBe(Date.now() + 100)
    expect(errors.map((e) => e.error.cause)).toEqual([boom])
    await vi.advanceTimersByTimeAsync(100)
    expect(n).toBe(3)
  })
})

describe('a rejection nothing can inspect', () => {
  const uninspectable: [string, () => unknown][] = [
    [
      'a Proxy whose getPrototypeOf throws',
      () =>
        new Proxy(
          {},
          {
            getPrototypeOf() {
              throw new Error('trap')
            },
            get() {
              throw new Error('trap')
            },
          },
        ),
    ],
    [
      'an Error whose message getter throws',
      () => {
        const error = new Error('x')
        Object.defineProperty(error, 'message', {
          get() {
            throw new Error('getter')
          },
        })
        return error
      },
    ],
  ]

  it.each(uninspectable)('becomes an ordinary LoadError: %s', async (_, make) => {
    const resources = registry({ interval: 1_000 })
    let n = 0
    const pods = resources.define('pods', () => (++n === 1 ? 'v1' : Promise.reject(make())))
    await resources.start({ wait: true })
    const error = (await rejection(pods.refresh())) as LoadError
    expect(error).toBeInstanceOf(LoadError)
    expect(error.message).toContain('resource "pods" failed to load')
    expect(pods.get()).toBe('v1')
    expect(pods.peek().consecutiveFailures).toBe(1)
  })

  it('describes a two-million-row rejection by its first rows only', async () => {
    const rows = Array.from({ length: 2_000_000 }, (_, i) => ({ row: i }))
    let reads = 0
    const counted = new Proxy(rows, {
      get(target, key, receiver) {
        reads++
        return Reflect.get(target, key, receiver)
      },
    })
    const resources = registry({ interval: 1_000 })
    const pods = resources.define('pods', () => Promise.reject(counted))
    await resources.start()
    await vi.advanceTimersByTimeAsync(0)
    const error = pods.peek().error!
    expect(error).toBeInstanceOf(LoadError)
    expect(error.message.length).toBeLessThan(200)
    expect(error.message).toContain('[{"row":0}')
    expect(reads).toBeLessThan(1_000)
  })
})

describe('listeners that subscribe again while they are called', () => {
  it('calls an event listener that re-subscribes itself once per emit, not without end', async () => {
    const resources = registry({ interval: 1_000 })
    let calls = 0
    const listen = () => {
      const off = resources.on('load', () => {
        calls++
        off()
        listen()
      })
    }
    listen()
    resources.define('pods', () => 1)
    await resources.start({ wait: true })
    expect(calls).toBe(1)
    await vi.advanceTimersByTimeAsync(1_000)
    expect(calls).toBe(2)
  })

  it('calls a subscriber that re-subscribes itself once per change', async () => {
    const resources = registry({ interval: 1_000 })
    let n = 0
    const pods = resources.define('pods', () => ++n)
    let calls = 0
    const subscribe = () => {
      const off = pods.subscribe(() => {
        calls++
        off()
        subscribe()
      })
    }
    subscribe()
    await resources.start({ wait: true })
    expect(calls).toBe(1)
    await vi.advanceTimersByTimeAsync(1_000)
    expect(calls).toBe(2)
  })
})
