import { describe, expect, it, vi } from 'vitest'
import {
  DuplicateResourceError,
  LoadAbortedError,
  SyncError,
  UndefinedResourceError,
} from '../../src/index.js'
import { flush, never, registry, rejection, resolveAfter, thrown, useFakeTime } from './helpers.js'

useFakeTime()

describe('the registry', () => {
  it('throws DuplicateResourceError when a name is defined twice, and keeps the first', () => {
    const resources = registry()
    const first = resources.define('pods', () => 1)
    const error = thrown(() => resources.define('pods', () => 2))
    expect(error).toBeInstanceOf(DuplicateResourceError)
    expect(error).toMatchObject({ code: 'E_DUPLICATE_RESOURCE', resource: 'pods' })
    expect(resources.resource('pods')).toBe(first)
  })

  it('throws UndefinedResourceError from get() and resource() for an unknown name', () => {
    const resources = registry()
    for (const call of [() => resources.get('nope'), () => resources.resource('nope')]) {
      const error = thrown(call)
      expect(error).toBeInstanceOf(UndefinedResourceError)
      expect(error).toMatchObject({ code: 'E_UNDEFINED_RESOURCE', resource: 'nope' })
      expect((error as Error).message).toContain('"nope"')
    }
  })

  it('reports membership with has(), size, names() and iteration, in definition order', () => {
    const resources = registry()
    resources.define('b', () => 1)
    resources.define('a', () => 1)
    resources.define('c', () => 1)
    expect(resources.has('a')).toBe(true)
    expect(resources.has('z')).toBe(false)
    expect(resources.size).toBe(3)
    expect(resources.names()).toEqual(['b', 'a', 'c'])
    expect([...resources]).toEqual(['b', 'a', 'c'])
    expect(resources.remove('a')).toBe(true)
    expect(resources.remove('a')).toBe(false)
    expect(resources.names()).toEqual(['b', 'c'])
    expect(resources.size).toBe(2)
  })

  it('lets a removed name be defined again', async () => {
    const resources = registry()
    resources.define('pods', () => 'old')
    resources.remove('pods')
    const pods = resources.define('pods', () => 'new')
    await resources.start({ wait: true })
    expect(pods.get()).toBe('new')
  })

  it('does not load anything before start()', async () => {
    const resources = registry()
    const loader = vi.fn(() => 1)
    resources.define('pods', loader)
    await vi.advanceTimersByTimeAsync(60_000)
    expect(loader).not.toHaveBeenCalled()
  })

  it('loads a resource defined after start() at once, without waiting for a timer', async () => {
    const resources = registry({ interval: '1h' })
    await resources.start()
    const loader = vi.fn(() => 'late')
    const late = resources.define('late', loader)
    expect(loader).toHaveBeenCalledTimes(1)
    await flush()
    expect(late.get()).toBe('late')
  })

  it('remove() stops the refresh and aborts the signal of the load in flight', async () => {
    const resources = registry({ interval: 1_000 })
    const signals: AbortSignal[] = []
    let calls = 0
    resources.define('pods', ({ signal }) => {
      signals.push(signal)
      calls++
      return calls === 1 ? 'first' : never()
    })
    await resources.start({ wait: true })
    await vi.advanceTimersByTimeAsync(1_000)
    expect(calls).toBe(2)
    const inFlight = signals[1]!
    expect(inFlight.aborted).toBe(false)
    expect(resources.remove('pods')).toBe(true)
    expect(inFlight.aborted).toBe(true)
    expect(inFlight.reason).toBeInstanceOf(LoadAbortedError)
    await vi.advanceTimersByTimeAsync(60_000)
    expect(calls).toBe(2)
  })

  it('remove() of an idle resource cancels its next refresh', async () => {
    const resources = registry({ interval: 1_000 })
    const loader = vi.fn(() => 1)
    resources.define('pods', loader)
    await resources.start({ wait: true })
    resources.remove('pods')
    await vi.advanceTimersByTimeAsync(10_000)
    expect(loader).toHaveBeenCalledTimes(1)
  })
})

describe('start()', () => {
  it('with wait resolves once every first load has settled', async () => {
    const resources = registry()
    const a = resources.define('a', () => resolveAfter(100, 'A'))
    const b = resources.define('b', () => resolveAfter(3_000, 'B'))
    let resolved = false
    const started = resources.start({ wait: true }).then(() => {
      resolved = true
    })
    await vi.advanceTimersByTimeAsync(2_999)
    expect(resolved).toBe(false)
    expect(a.get()).toBe('A')
    await vi.advanceTimersByTimeAsync(1)
    await started
    expect(b.get()).toBe('B')
  })

  it('with wait rejects with SyncError holding one LoadError per failed resource, naming it', async () => {
    const resources = registry({ timeout: 500 })
    resources.define('ok', () => 1)
    resources.define('broken', () => {
      throw new Error('boom')
    })
    resources.define('hung', () => never())
    const started = rejection(resources.start({ wait: true }))
    await vi.advanceTimersByTimeAsync(500)
    const error = await started
    expect(error).toBeInstanceOf(SyncError)
    const errors = (error as SyncError).errors
    expect(errors.map((e) => e.resource)).toEqual(['broken', 'hung'])
    expect(errors.map((e) => e.code)).toEqual(['E_LOAD_FAILED', 'E_LOAD_TIMEOUT'])
    expect((errors[0]!.cause as Error).message).toBe('boom')
    expect((error as Error).message).toContain('"broken"')
    expect((error as Error).message).toContain('"hung"')
    expect(resources.get('ok')).toBe(1)
  })

  it('keeps the loop running after a SyncError: a failed resource is retried until it has a value', async () => {
    const resources = registry({ retry: { initial: 1_000 } })
    let calls = 0
    const flaky = resources.define('flaky', () => {
      if (++calls < 3) throw new Error(`attempt ${calls}`)
      return 'finally'
    })
    await expect(resources.start({ wait: true })).rejects.toBeInstanceOf(SyncError)
    expect(resources.started).toBe(true)
    await vi.advanceTimersByTimeAsync(1_000 + 2_000)
    expect(flaky.get()).toBe('finally')
  })

  it('one slow loader does not delay the values of the others', async () => {
    const resources = registry({ timeout: '1h' })
    const slow = resources.define('slow', () => resolveAfter(60_000, 'slow'))
    const fast = resources.define('fast', () => resolveAfter(10, 'fast'))
    void resources.start()
    await vi.advanceTimersByTimeAsync(10)
    expect(fast.get()).toBe('fast')
    expect(slow.peek().status).toBe('pending')
  })

  it('without wait resolves at once, even while loaders hang', async () => {
    const resources = registry()
    resources.define('hung', () => never())
    let resolved = false
    void resources.start().then(() => {
      resolved = true
    })
    await flush()
    expect(resolved).toBe(true)
  })

  it('without wait never rejects, even when every first load fails', async () => {
    const resources = registry()
    resources.define('a', () => Promise.reject(new Error('a')))
    resources.define('b', () => {
      throw 'b'
    })
    await expect(resources.start()).resolves.toBeUndefined()
    await flush()
    expect(resources.status().healthy).toBe(false)
  })

  it('with wait resolves at once for a registry without resources, and a second start is harmless', async () => {
    const resources = registry()
    await resources.start({ wait: true })
    const loader = vi.fn(() => 1)
    resources.define('a', loader)
    await resources.start({ wait: true })
    expect(loader).toHaveBeenCalledTimes(1)
  })
})
