import { describe, expect, it, vi } from 'vitest'
import { LoadError, ResourceNotReadyError, ResourceStaleError, StoppedError } from '../../src/index.js'
import { deferred, flush, never, registry, rejection, resolveAfter, thrown, useFakeTime } from './helpers.js'

useFakeTime()

describe('get()', () => {
  it('throws ResourceNotReadyError before the first value, without a cause while nothing failed', () => {
    const pods = registry().define('pods', () => 1)
    const error = thrown(() => pods.get())
    expect(error).toBeInstanceOf(ResourceNotReadyError)
    expect(error).toMatchObject({ code: 'E_NOT_READY', resource: 'pods' })
    expect((error as Error).cause).toBeUndefined()
  })

  it('throws ResourceNotReadyError whose cause is the last load error after failures', async () => {
    const resources = registry()
    const pods = resources.define('pods', () => Promise.reject(new Error('backend down')))
    void resources.start()
    await flush()
    const error = thrown(() => pods.get()) as ResourceNotReadyError
    expect(error).toBeInstanceOf(ResourceNotReadyError)
    expect(error.cause).toBeInstanceOf(LoadError)
    expect(((error.cause as LoadError).cause as Error).message).toBe('backend down')
  })

  it('returns the last good value synchronously, also from the registry by name', async () => {
    const resources = registry()
    const pods = resources.define('pods', () => ({ count: 3 }))
    await resources.start({ wait: true })
    expect(pods.get()).toEqual({ count: 3 })
    expect(resources.get('pods')).toBe(pods.get())
  })
})

describe('maxStale', () => {
  it('makes get() throw ResourceStaleError, caused by the last load error, once the value is too old', async () => {
    const resources = registry({ interval: 1_000, maxStale: 5_000, retry: false })
    let calls = 0
    const pods = resources.define('pods', () => {
      if (++calls === 1) return 'v1'
      throw new Error(`failure ${calls}`)
    })
    await resources.start({ wait: true })
    await vi.advanceTimersByTimeAsync(5_000)
    expect(pods.get()).toBe('v1')
    expect(resources.status().healthy).toBe(true)
    await vi.advanceTimersByTimeAsync(1)
    const error = thrown(() => pods.get()) as ResourceStaleError
    expect(error).toBeInstanceOf(ResourceStaleError)
    expect(error).toMatchObject({ code: 'E_STALE', resource: 'pods', age: 5_001 })
    expect(error.cause).toBeInstanceOf(LoadError)
    expect(error.cause).toBe(pods.peek().error)
    expect(((error.cause as LoadError).cause as Error).message).toMatch(/^failure \d+$/)
    expect(thrown(() => resources.get('pods'))).toBeInstanceOf(ResourceStaleError)
  })

  it('reports the stale resource as unhealthy in status(), and peek() still gives the value', async () => {
    const resources = registry({ interval: 1_000, maxStale: 2_000 })
    let calls = 0
    const pods = resources.define('pods', () => (++calls === 1 ? 'v1' : Promise.reject(new Error('down'))))
    resources.define('fine', () => 'ok')
    await resources.start({ wait: true })
    await vi.advanceTimersByTimeAsync(3_000)
    const status = resources.status()
    expect(status.healthy).toBe(false)
    expect(status.resources.find((r) => r.name === 'pods')).toMatchObject({ status: 'stale', age: 3_000 })
    expect(status.resources.find((r) => r.name === 'fine')).toMatchObject({ status: 'ready' })
    expect(pods.peek()).toMatchObject({ status: 'stale', value: 'v1', hasValue: true })
  })

  it('becomes fresh again with the next successful load', async () => {
    const resources = registry({ interval: 1_000, maxStale: 1_500, retry: false })
    let calls = 0
    const pods = resources.define('pods', () => {
      calls++
      if (calls === 2 || calls === 3) throw new Error('down')
      return calls
    })
    await resources.start({ wait: true })
    await vi.advanceTimersByTimeAsync(2_500)
    expect(() => pods.get()).toThrow(ResourceStaleError)
    await vi.advanceTimersByTimeAsync(500)
    expect(pods.get()).toBe(4)
  })
})

describe('peek()', () => {
  it('never throws: before any load, after failures and when stale', async () => {
    const resources = registry({ interval: 1_000, maxStale: 1_000, timeout: 100 })
    let calls = 0
    const pods = resources.define('pods', () => (++calls === 2 ? 'v' : never()))
    expect(pods.peek()).toMatchObject({ status: 'pending', hasValue: false, value: undefined, version: 0 })
    void resources.start()
    await vi.advanceTimersByTimeAsync(100)
    expect(pods.peek()).toMatchObject({ status: 'failed', hasValue: false, failures: 1 })
    await vi.advanceTimersByTimeAsync(1_000)
    expect(pods.peek()).toMatchObject({ status: 'ready', value: 'v', version: 1, loads: 1, age: 0 })
    await vi.advanceTimersByTimeAsync(5_000)
    expect(pods.peek()).toMatchObject({ status: 'stale', value: 'v' })
  })

  it('shows whether a load is in flight and when the next one is due', async () => {
    const resources = registry({ interval: 1_000 })
    const gate = deferred<string>()
    const pods = resources.define('pods', () => gate.promise)
    void resources.start()
    expect(pods.peek()).toMatchObject({ loading: true, nextRefreshAt: undefined })
    gate.resolve('v')
    await flush()
    expect(pods.peek()).toMatchObject({ loading: false, nextRefreshAt: Date.now() + 1_000 })
  })
})

describe('refresh()', () => {
  it('loads now and resolves with the new value', async () => {
    const resources = registry({ interval: '1h' })
    let n = 0
    const pods = resources.define('pods', () => ++n)
    await resources.start({ wait: true })
    await expect(pods.refresh()).resolves.toBe(2)
    expect(pods.get()).toBe(2)
  })

  it('joins the load in flight: concurrent calls run the loader once (single flight)', async () => {
    const resources = registry()
    const loader = vi.fn(() => resolveAfter(100, 'v'))
    const pods = resources.define('pods', loader)
    const all = Promise.all([pods.refresh(), pods.refresh(), pods.refresh()])
    void resources.start()
    await vi.advanceTimersByTimeAsync(100)
    await expect(all).resolves.toEqual(['v', 'v', 'v'])
    expect(loader).toHaveBeenCalledTimes(1)
  })

  it('rejects with the LoadError and keeps the last good value', async () => {
    const resources = registry()
    let calls = 0
    const pods = resources.define('pods', () => {
      if (++calls === 1) return 'good'
      throw new Error('bad')
    })
    await resources.start({ wait: true })
    const error = await rejection(pods.refresh())
    expect(error).toBeInstanceOf(LoadError)
    expect(error).toMatchObject({ resource: 'pods', code: 'E_LOAD_FAILED' })
    expect(((error as LoadError).cause as Error).message).toBe('bad')
    expect(pods.get()).toBe('good')
  })

  it('rejects with StoppedError after the resource was removed', async () => {
    const resources = registry()
    const pods = resources.define('pods', () => 1)
    resources.remove('pods')
    await expect(pods.refresh()).rejects.toBeInstanceOf(StoppedError)
  })
})

describe('ready()', () => {
  it('resolves with the first value', async () => {
    const resources = registry()
    const pods = resources.define('pods', () => resolveAfter(500, 'first'))
    const ready = pods.ready()
    void resources.start()
    await vi.advanceTimersByTimeAsync(500)
    await expect(ready).resolves.toBe('first')
  })

  it('waits through failed loads until a value comes', async () => {
    const resources = registry({ retry: { initial: 100 } })
    let calls = 0
    const pods = resources.define('pods', () => {
      if (++calls < 3) throw new Error('not yet')
      return 'third'
    })
    let value: string | undefined
    void pods.ready().then((v) => {
      value = v
    })
    void resources.start()
    await vi.advanceTimersByTimeAsync(100)
    expect(value).toBeUndefined()
    await vi.advanceTimersByTimeAsync(200)
    expect(value).toBe('third')
  })

  it('resolves at once when there is a value', async () => {
    const resources = registry()
    const pods = resources.define('pods', () => 'v')
    await resources.start({ wait: true })
    let value: string | undefined
    void pods.ready().then((v) => {
      value = v
    })
    await Promise.resolve()
    expect(value).toBe('v')
  })

  it.each([
    ['removed', (r: ReturnType<typeof registry>) => void r.remove('pods')],
    ['stopped', (r: ReturnType<typeof registry>) => void r.stop()],
  ])('rejects with StoppedError when the resource is %s before its first value', async (_, end) => {
    const resources = registry()
    const pods = resources.define('pods', () => never())
    void resources.start()
    const ready = rejection(pods.ready())
    end(resources)
    const error = await ready
    expect(error).toBeInstanceOf(StoppedError)
    expect(error).toMatchObject({ code: 'E_STOPPED', resource: 'pods' })
    await expect(pods.ready()).rejects.toBeInstanceOf(StoppedError)
  })
})

describe('subscribe()', () => {
  it('calls the subscriber with (value, previous), the first value included with previous undefined', async () => {
    const resources = registry({ interval: 1_000 })
    let n = 0
    const pods = resources.define('pods', () => ++n)
    const seen: [number, number | undefined][] = []
    pods.subscribe((value, previous) => seen.push([value, previous]))
    await resources.start({ wait: true })
    await vi.advanceTimersByTimeAsync(2_000)
    expect(seen).toEqual([
      [1, undefined],
      [2, 1],
      [3, 2],
    ])
  })

  it('is not called when equals says the new value equals the previous one, which keeps its identity', async () => {
    const resources = registry({ interval: 1_000 })
    let n = 0
    const pods = resources.define('pods', () => ({ major: Math.floor(n++ / 2) }), {
      equals: (a, b) => a.major === b.major,
    })
    const seen: number[] = []
    pods.subscribe((value) => seen.push(value.major))
    await resources.start({ wait: true })
    const first = pods.get()
    await vi.advanceTimersByTimeAsync(1_000)
    expect(pods.get()).toBe(first)
    expect(pods.peek().version).toBe(2)
    await vi.advanceTimersByTimeAsync(2_000)
    expect(seen).toEqual([0, 1])
  })

  it('stops calling after unsubscribe, and unsubscribing twice is harmless', async () => {
    const resources = registry({ interval: 1_000 })
    let n = 0
    const pods = resources.define('pods', () => ++n)
    const seen: number[] = []
    const unsubscribe = pods.subscribe((v) => seen.push(v))
    const other: number[] = []
    pods.subscribe((v) => other.push(v))
    await resources.start({ wait: true })
    unsubscribe()
    unsubscribe()
    await vi.advanceTimersByTimeAsync(2_000)
    expect(seen).toEqual([1])
    expect(other).toEqual([1, 2, 3])
  })

  it('rejects a subscriber that is not a function', () => {
    const pods = registry().define('pods', () => 1)
    expect(() => pods.subscribe('x' as never)).toThrow(TypeError)
  })
})

describe('the load context', () => {
  it('gives the loader its name, the previous value and the attempt number', async () => {
    const resources = registry({ interval: 1_000, retry: { initial: 1_000 } })
    const contexts: { name: string; previous: unknown; attempt: number }[] = []
    let calls = 0
    resources.define('pods', ({ name, previous, attempt }) => {
      contexts.push({ name, previous, attempt })
      calls++
      if (calls === 2 || calls === 3) throw new Error('down')
      return `v${calls}`
    })
    await resources.start({ wait: true })
    await vi.advanceTimersByTimeAsync(3_000)
    expect(contexts).toEqual([
      { name: 'pods', previous: undefined, attempt: 1 },
      { name: 'pods', previous: 'v1', attempt: 1 },
      { name: 'pods', previous: 'v1', attempt: 2 },
      { name: 'pods', previous: 'v1', attempt: 3 },
    ])
  })
})
