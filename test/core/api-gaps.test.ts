// The API gaps users hit first: a start that retries until a deadline, values pushed with set(),
// loader-driven timing with ctx.refreshIn(), and waits a caller can give up.
import { describe, expect, it, vi } from 'vitest'
import {
  type ChangeEvent,
  type Duration,
  type LoadError,
  memoryStore,
  OptionRangeError,
  OptionTypeError,
  StoppedError,
  SyncError,
  WaitTimeoutError,
} from '../../src/index.js'
import { deferred, flush, never, registry, rejection, thrown, useFakeTime } from './helpers.js'

useFakeTime()

describe('start({ wait: true, within })', () => {
  it('retries failed first loads with the backoff until they succeed within the deadline', async () => {
    const resources = registry({ retry: { initial: 1_000, factor: 2 } })
    let calls = 0
    const pods = resources.define('pods', () => {
      calls++
      if (calls < 4) throw new Error(`down ${calls}`)
      return 'up'
    })
    let done = false
    const started = resources.start({ wait: true, within: '10s' }).then(() => {
      done = true
    })
    // Attempts at 0, 1 s, 3 s and 7 s: the fourth succeeds.
    await vi.advanceTimersByTimeAsync(6_999)
    expect(done).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    await started
    expect(calls).toBe(4)
    expect(pods.get()).toBe('up')
  })

  it('rejects with the SyncError of the last failures at the deadline', async () => {
    const resources = registry({ retry: { initial: 1_000, factor: 2 } })
    let calls = 0
    resources.define('pods', () => {
      calls++
      throw new Error(`down ${calls}`)
    })
    resources.define('ok', () => 1)
    const outcome = rejection(resources.start({ within: 5_000 }))
    await vi.advanceTimersByTimeAsync(5_000)
    const error = (await outcome) as SyncError
    expect(error).toBeInstanceOf(SyncError)
    expect(error.errors.map((e) => e.resource)).toEqual(['pods'])
    expect((error.errors[0] as LoadError).cause).toEqual(new Error('down 3'))
    expect(calls).toBe(3) // at 0, 1 s and 3 s; the next would be at 7 s
  })

  it('implies wait, refuses wait: false with it, and checks its duration', async () => {
    const resources = registry()
    resources.define('pods', () => 'x')
    // A bad call throws at the call, as every bad call of start does.
    expect(() => resources.start({ wait: false, within: '1s' })).toThrow(OptionRangeError)
    expect(() => resources.start({ within: -1 })).toThrow(OptionRangeError)
    expect(() => resources.start({ within: 'soon' as never })).toThrow(OptionTypeError)
    await resources.start({ within: '1s' })
    expect(resources.get('pods')).toBe('x')
  })

  it('settles with "was stopped" when stopped while it waits, and leaves no waiter behind', async () => {
    const resources = registry()
    resources.define('pods', () => {
      throw new Error('down')
    })
    const outcome = rejection(resources.start({ within: '1m' }))
    await flush()
    void resources.stop()
    const error = (await outcome) as SyncError
    expect(error.errors[0]?.message).toMatch(/down/)
  })

  it('gives up the wait on its signal, and the registry stays started', async () => {
    const resources = registry()
    let calls = 0
    const pods = resources.define('pods', () => {
      calls++
      if (calls < 3) throw new Error('down')
      return 'up'
    })
    const controller = new AbortController()
    const outcome = rejection(resources.start({ within: '1m', signal: controller.signal }))
    await flush()
    controller.abort(new Error('shutting down'))
    expect(await outcome).toEqual(new Error('shutting down'))
    expect(resources.started).toBe(true)
    await vi.advanceTimersByTimeAsync(3_000)
    expect(pods.get()).toBe('up')
  })

  it('gives up a plain wait on its signal too', async () => {
    const resources = registry()
    resources.define('pods', () => never())
    const controller = new AbortController()
    const outcome = rejection(resources.start({ wait: true, signal: controller.signal }))
    controller.abort('enough')
    expect(await outcome).toBe('enough')
  })
})

describe('resource.set(value)', () => {
  it('serves the value at once, versioned, with a change event from "set" and no load event', async () => {
    const resources = registry({ interval: '1m' })
    const pods = resources.define('pods', () => ['a'])
    await resources.start({ wait: true })
    const changes: ChangeEvent[] = []
    const loads: unknown[] = []
    resources.on('change', (e) => changes.push(e))
    resources.on('load', (e) => loads.push(e))
    pods.set(['b'])
    expect(pods.get()).toEqual(['b'])
    expect(changes).toEqual([{ name: 'pods', value: ['b'], previous: ['a'], version: 2, source: 'set' }])
    expect(loads).toEqual([])
    expect(pods.peek()).toMatchObject({ version: 2, source: 'set', status: 'ready', loads: 1 })
  })

  it('keeps the previous object and emits nothing for an equal value, but still counts a version', async () => {
    const resources = registry()
    const value = { n: 1 }
    const pods = resources.define('pods', () => value, {
      equals: (a, b) => a.n === b.n,
    })
    await resources.start({ wait: true })
    const changes = vi.fn()
    resources.on('change', changes)
    pods.set({ n: 1 })
    expect(pods.get()).toBe(value)
    expect(changes).not.toHaveBeenCalled()
    expect(pods.peek().version).toBe(2)
  })

  it('resets the refresh timer to a full interval', async () => {
    const resources = registry({ interval: 10_000 })
    const loader = vi.fn(() => 'loaded')
    const pods = resources.define('pods', loader)
    await resources.start({ wait: true })
    await vi.advanceTimersByTimeAsync(6_000)
    pods.set('pushed')
    await vi.advanceTimersByTimeAsync(9_999)
    expect(loader).toHaveBeenCalledTimes(1)
    expect(pods.get()).toBe('pushed')
    await vi.advanceTimersByTimeAsync(1)
    expect(loader).toHaveBeenCalledTimes(2)
    expect(pods.get()).toBe('loaded')
  })

  it('lets a load in flight finish without replacing the set value; refresh() callers get the set value', async () => {
    const resources = registry({ interval: 10_000 })
    const pending = deferred<string>()
    let calls = 0
    const pods = resources.define('pods', () => (++calls === 1 ? 'first' : pending.promise))
    await resources.start({ wait: true })
    const refreshed = pods.refresh()
    await flush()
    pods.set('pushed')
    pending.resolve('stale')
    expect(await refreshed).toBe('pushed')
    expect(pods.get()).toBe('pushed')
    expect(pods.peek()).toMatchObject({ source: 'set', loads: 1, loading: false })
    // The next refresh is a full interval after the discarded load.
    expect(pods.peek().nextRefreshAt).toBe(Date.now() + 10_000)
  })

  it('gives a first value: ready() and start({ wait }) resolve with it', async () => {
    const resources = registry()
    const pods = resources.define('pods', () => never<string>())
    const ready = pods.ready()
    const started = resources.start({ wait: true })
    pods.set('pushed')
    expect(await ready).toBe('pushed')
    await started
    expect(resources.status().resources[0]?.status).toBe('ready')
  })

  it('clears the last failure, and is refused once stopped or removed', async () => {
    const resources = registry()
    const pods = resources.define<string>('pods', () => {
      throw new Error('down')
    })
    await rejection(resources.start({ wait: true }))
    expect(pods.peek().status).toBe('failed')
    pods.set('pushed')
    expect(pods.peek()).toMatchObject({ status: 'ready', error: undefined, consecutiveFailures: 0 })
    await resources.stop()
    expect(thrown(() => pods.set('late'))).toBeInstanceOf(StoppedError)
    expect(pods.get()).toBe('pushed')
  })

  it('writes the value to the store as a load would', async () => {
    const store = memoryStore()
    const resources = registry({ store })
    const pods = resources.define('pods', () => 'loaded')
    await resources.start({ wait: true })
    pods.set('pushed')
    await flush()
    expect(await store.get('pods')).toMatchObject({ value: 'pushed', version: 2 })
  })
})

describe('ctx.refreshIn(delay)', () => {
  it('sets the next delay after a success, within [min(1 s, interval / 10), interval × 10]', async () => {
    const resources = registry({ interval: 10_000 })
    const asked: Duration[] = [3_000, '2m', 1, '30s']
    const times: number[] = []
    const start = Date.now()
    resources.define('pods', (ctx) => {
      times.push(Date.now() - start)
      const next = asked.shift()
      if (next !== undefined) ctx.refreshIn(next)
      return times.length
    })
    await resources.start({ wait: true })
    await vi.advanceTimersByTimeAsync(3_000 + 100_000 + 1_000 + 30_000 + 10_000)
    // 3 s as asked; 2 min capped at 100 s; 1 ms raised to 1 s; 30 s; then the interval again.
    expect(times).toEqual([0, 3_000, 103_000, 104_000, 134_000, 144_000])
  })

  it('replaces the backoff of a load that then fails (Retry-After)', async () => {
    const resources = registry({ interval: 60_000, retry: { initial: 1_000 } })
    const times: number[] = []
    const start = Date.now()
    resources.define('pods', (ctx) => {
      times.push(Date.now() - start)
      if (times.length === 1) {
        ctx.refreshIn('20s')
        throw new Error('429 Too Many Requests')
      }
      if (times.length === 2) throw new Error('still down')
      return 'ok'
    })
    const errors: number[] = []
    resources.on('error', (e) => errors.push(e.retryIn))
    void resources.start()
    await vi.advanceTimersByTimeAsync(30_000)
    // 20 s as asked, then the backoff goes on from the second failure (2 s).
    expect(times).toEqual([0, 20_000, 22_000])
    expect(errors).toEqual([20_000, 2_000])
  })

  it('adds jitter, never takes it off', async () => {
    const resources = registry({ interval: 10_000, jitter: 0.5, splay: 0 })
    vi.spyOn(Math, 'random').mockReturnValue(0)
    const times: number[] = []
    const start = Date.now()
    resources.define('pods', (ctx) => {
      times.push(Date.now() - start)
      ctx.refreshIn(4_000)
      return 1
    })
    await resources.start({ wait: true })
    await vi.advanceTimersByTimeAsync(8_000)
    expect(times).toEqual([0, 4_000, 8_000])
  })

  it('is ignored after the load settled, and refuses what is not a duration', async () => {
    const resources = registry({ interval: 10_000, timeout: 1_000 })
    let late: ((delay: number) => void) | undefined
    let failure: unknown
    const times: number[] = []
    const start = Date.now()
    resources.define('pods', (ctx) => {
      times.push(Date.now() - start)
      try {
        ctx.refreshIn(-5)
      } catch (error) {
        failure = error
      }
      late = (d) => ctx.refreshIn(d)
      return times.length === 1 ? never<number>() : 1
    })
    void resources.start()
    await vi.advanceTimersByTimeAsync(1_000) // times out; backoff 1 s
    late?.(60_000)
    await vi.advanceTimersByTimeAsync(1_000)
    expect(times).toEqual([0, 2_000])
    expect(failure).toBeInstanceOf(OptionRangeError)
  })
})

describe('waits a caller can give up', () => {
  it('ready({ timeout }) rejects with WaitTimeoutError carrying the last failure, and the loads go on', async () => {
    const resources = registry({ retry: { initial: 1_000 } })
    let calls = 0
    const pods = resources.define('pods', () => {
      calls++
      if (calls < 3) throw new Error('down')
      return 'up'
    })
    void resources.start()
    const outcome = rejection(pods.ready({ timeout: 500 }))
    await vi.advanceTimersByTimeAsync(500)
    const error = (await outcome) as WaitTimeoutError
    expect(error).toBeInstanceOf(WaitTimeoutError)
    expect(error.code).toBe('E_WAIT_TIMEOUT')
    expect((error.cause as LoadError).cause).toEqual(new Error('down'))
    await vi.advanceTimersByTimeAsync(3_000)
    expect(await pods.ready({ timeout: 1 })).toBe('up')
  })

  it('ready({ signal }) rejects with the reason and removes its listener; other waiters still get the value', async () => {
    const resources = registry()
    const pending = deferred<string>()
    const pods = resources.define('pods', () => pending.promise)
    void resources.start()
    const controller = new AbortController()
    const add = vi.spyOn(controller.signal, 'addEventListener')
    const remove = vi.spyOn(controller.signal, 'removeEventListener')
    const abandoned = rejection(pods.ready({ signal: controller.signal }))
    const other = pods.ready()
    controller.abort(new Error('client went away'))
    expect(await abandoned).toEqual(new Error('client went away'))
    pending.resolve('value')
    expect(await other).toBe('value')
    expect(add).toHaveBeenCalledTimes(1)
    expect(remove).toHaveBeenCalledTimes(1)
  })

  it('refresh({ signal, timeout }) abandons only the wait: the shared load completes for the others', async () => {
    const resources = registry()
    const pending = deferred<number>()
    let calls = 0
    const pods = resources.define('pods', () => (++calls === 1 ? 0 : pending.promise))
    await resources.start({ wait: true })
    const controller = new AbortController()
    const abandoned = rejection(pods.refresh({ signal: controller.signal }))
    const timedOut = rejection(pods.refresh({ timeout: '1s' }))
    const joined = pods.refresh()
    controller.abort('bye')
    expect(await abandoned).toBe('bye')
    await vi.advanceTimersByTimeAsync(1_000)
    expect(await timedOut).toBeInstanceOf(WaitTimeoutError)
    pending.resolve(7)
    expect(await joined).toBe(7)
    expect(calls).toBe(2)
  })

  it('starts nothing for an already aborted signal, and checks its options', async () => {
    const resources = registry()
    const loader = vi.fn(() => 1)
    const pods = resources.define('pods', loader)
    expect(await rejection(pods.refresh({ signal: AbortSignal.abort('no') }))).toBe('no')
    expect(loader).not.toHaveBeenCalled()
    expect(thrown(() => pods.ready({ signal: {} as AbortSignal }))).toBeInstanceOf(OptionTypeError)
    expect(thrown(() => pods.ready({ timeout: 0 }))).toBeInstanceOf(OptionRangeError)
    expect(thrown(() => pods.ready({ other: 1 } as never))).toBeInstanceOf(OptionTypeError)
  })
})
