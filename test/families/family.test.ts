import { describe, expect, it, vi } from 'vitest'
import { DuplicateResourceError, FamilyNameError, LoadError, LoadTimeoutError } from '../../src/index.js'
import { deferred, flush, registry, useFakeTime } from '../core/helpers.js'

useFakeTime()

describe('family: reads', () => {
  it('a miss loads and waits; a hit resolves at once without a loader call', async () => {
    const resources = registry({ interval: '30s' })
    const loader = vi.fn(async (sku: string) => `price of ${sku}`)
    const prices = resources.family('price', loader)
    await expect(prices.fetch('sku-1')).resolves.toBe('price of sku-1')
    await expect(prices.fetch('sku-1')).resolves.toBe('price of sku-1')
    expect(loader).toHaveBeenCalledTimes(1)
    expect(prices.stats()).toMatchObject({ size: 1, hits: 1, misses: 1, loads: 1, failures: 0 })
  })

  it('get is synchronous: undefined while cold (its load begins), the value once warm', async () => {
    const resources = registry()
    const loader = vi.fn(async (key: string) => key.toUpperCase())
    const family = resources.family('upper', loader)
    expect(family.get('a')).toBeUndefined()
    expect(loader).toHaveBeenCalledTimes(1)
    await flush()
    expect(family.get('a')).toBe('A')
    expect(loader).toHaveBeenCalledTimes(1)
  })

  it('get never throws, even for a key of the wrong type', () => {
    const family = registry().family('f', async () => 1)
    expect(family.get({} as unknown as string)).toBeUndefined()
  })

  it('1 and "1" are the same key; a key option turns other values into strings', async () => {
    const resources = registry()
    const loader = vi.fn(async (key: string) => `v${key}`)
    const family = resources.family('n', loader)
    await family.fetch(1)
    await expect(family.fetch('1')).resolves.toBe('v1')
    expect(loader).toHaveBeenCalledTimes(1)
    const byTenant = resources.family<string, { tenant: string }>('t', async (key) => key, {
      key: (k) => k.tenant,
    })
    await expect(byTenant.fetch({ tenant: 'acme' })).resolves.toBe('acme')
    expect(byTenant.has({ tenant: 'acme' })).toBe(true)
  })

  it('undefined and null are values: peek tells a cached undefined from a cold key', async () => {
    const family = registry().family('nf', async (key: string) => (key === 'none' ? undefined : null))
    await family.fetch('none')
    await family.fetch('null')
    expect(family.peek('none')).toMatchObject({ hasValue: true, value: undefined, version: 1 })
    expect(family.peek('null')).toMatchObject({ hasValue: true, value: null })
    expect(family.peek('cold')).toBeUndefined()
  })

  it('peek never loads and is not a read', () => {
    const loader = vi.fn(async () => 1)
    const family = registry().family('p', loader)
    expect(family.peek('x')).toBeUndefined()
    expect(loader).not.toHaveBeenCalled()
    expect(family.stats()).toMatchObject({ hits: 0, misses: 0 })
  })
})

describe('family: single flight', () => {
  it('10,000 concurrent fetches of one cold key make one loader call', async () => {
    const gate = deferred<string>()
    const loader = vi.fn(() => gate.promise)
    const family = registry().family('s', loader)
    const all = Array.from({ length: 10_000 }, () => family.fetch('hot'))
    gate.resolve('v')
    const values = await Promise.all(all)
    expect(loader).toHaveBeenCalledTimes(1)
    expect(values.every((v) => v === 'v')).toBe(true)
  })

  it("a caller's signal or timeout abandons only its own wait, never the shared load", async () => {
    const gate = deferred<string>()
    const loader = vi.fn(() => gate.promise)
    const family = registry().family('w', loader)
    const controller = new AbortController()
    const abandoned = family.fetch('k', { signal: controller.signal })
    const timed = family.fetch('k', { timeout: 100 })
    const patient = family.fetch('k')
    controller.abort(new Error('gone'))
    await expect(abandoned).rejects.toThrow('gone')
    const timedOut = expect(timed).rejects.toBeInstanceOf(LoadTimeoutError)
    await vi.advanceTimersByTimeAsync(100)
    await timedOut
    gate.resolve('v')
    await expect(patient).resolves.toBe('v')
    expect(loader).toHaveBeenCalledTimes(1)
  })
})

describe('family: warm while hot', () => {
  it('a key read within idleTimeout is refreshed every interval in the background', async () => {
    const resources = registry({ interval: '10s' })
    let n = 0
    const loader = vi.fn(async () => ++n)
    const family = resources.family('c', loader, { idleTimeout: '1m' })
    await resources.start()
    await family.fetch('k')
    for (let i = 0; i < 5; i++) {
      await vi.advanceTimersByTimeAsync(10_000)
      family.get('k')
    }
    expect(loader).toHaveBeenCalledTimes(6)
    expect(family.get('k')).toBe(6)
  })

  it("a key's loader sets its next refresh with refreshIn, as a resource's does", async () => {
    const resources = registry({ interval: '10s', jitter: 0 })
    const loader = vi.fn(async (_key: string, ctx: { refreshIn(ms: number): void }) => {
      ctx.refreshIn(2_000)
      return 1
    })
    const family = resources.family('r', loader, { idleTimeout: '1m' })
    await resources.start()
    await family.fetch('k')
    await vi.advanceTimersByTimeAsync(2_000)
    expect(loader).toHaveBeenCalledTimes(2) // after 2 s, not the 10 s interval
  })

  it('a key not read for idleTimeout stops refreshing and is dropped', async () => {
    const resources = registry({ interval: '10s' })
    const loader = vi.fn(async () => 1)
    const family = resources.family('i', loader, { idleTimeout: '30s' })
    await resources.start()
    await family.fetch('k')
    await vi.advanceTimersByTimeAsync(60_000)
    expect(family.has('k')).toBe(false)
    expect(family.size).toBe(0)
    const calls = loader.mock.calls.length
    expect(calls).toBeLessThanOrEqual(4) // the first load and the refreshes within 30 s
    await vi.advanceTimersByTimeAsync(120_000)
    expect(loader).toHaveBeenCalledTimes(calls)
    expect(family.stats().evictions).toBe(1)
  })

  it('a hot key gets one load per interval whatever the read rate', async () => {
    const resources = registry({ interval: '1s' })
    const loader = vi.fn(async () => 1)
    const family = resources.family('h', loader)
    await resources.start()
    await family.fetch('k')
    for (let ms = 0; ms < 10_000; ms += 10) {
      for (let r = 0; r < 10; r++) family.get('k')
      await vi.advanceTimersByTimeAsync(10)
    }
    expect(loader.mock.calls.length).toBeLessThanOrEqual(11)
    expect(loader.mock.calls.length).toBeGreaterThanOrEqual(10)
  })

  it('keys loaded before start() are refreshed once the registry starts, not before', async () => {
    const resources = registry({ interval: '1s' })
    const loader = vi.fn(async () => 1)
    const family = resources.family('b', loader)
    await family.fetch('k')
    await vi.advanceTimersByTimeAsync(5_000)
    expect(loader).toHaveBeenCalledTimes(1)
    await resources.start()
    await vi.advanceTimersByTimeAsync(1_000)
    family.get('k')
    await vi.advanceTimersByTimeAsync(1_000)
    expect(loader.mock.calls.length).toBeGreaterThanOrEqual(2)
  })
})

describe('family: failing keys', () => {
  it('a failed first load rejects its waiters; within the backoff the same error at once; after it, a new try', async () => {
    const resources = registry({ retry: { initial: '1s', factor: 2, max: '1m' } })
    const loader = vi.fn(async () => {
      throw new Error('down')
    })
    const family = resources.family('f', loader)
    const first = family.fetch('k')
    await expect(first).rejects.toBeInstanceOf(LoadError)
    const error = await first.catch((e: unknown) => e)
    await expect(family.fetch('k')).rejects.toBe(error)
    expect(family.get('k')).toBeUndefined()
    expect(loader).toHaveBeenCalledTimes(1)
    await vi.advanceTimersByTimeAsync(1_000)
    await expect(family.fetch('k')).rejects.toBeInstanceOf(LoadError)
    expect(loader).toHaveBeenCalledTimes(2)
    expect(family.stats()).toMatchObject({ failures: 2, failing: 1 })
  })

  it('a warm key whose refresh fails keeps its value', async () => {
    const resources = registry({ interval: '1s' })
    let fail = false
    const family = resources.family('w', async () => {
      if (fail) throw new Error('down')
      return 'good'
    })
    await resources.start()
    await family.fetch('k')
    fail = true
    await vi.advanceTimersByTimeAsync(1_000)
    expect(family.get('k')).toBe('good')
    expect(family.peek('k')).toMatchObject({ consecutiveFailures: 1, hasValue: true })
  })

  it('a family-wide budget bounds the loads of failing keys per second', async () => {
    const resources = registry({ interval: '1s', retry: { initial: 100, factor: 1, max: 100 } })
    let down = false
    const loader = vi.fn(async (key: string) => {
      if (down) throw new Error('down')
      return key
    })
    const family = resources.family('b', loader, { failureBudget: 5, maxKeys: 1000 })
    await resources.start()
    await Promise.all(Array.from({ length: 200 }, (_, i) => family.fetch(`k${i}`)))
    down = true
    await vi.advanceTimersByTimeAsync(1_000) // every key's refresh fails once
    loader.mockClear()
    for (let s = 0; s < 5; s++) {
      for (let i = 0; i < 200; i++) family.get(`k${i}`)
      await vi.advanceTimersByTimeAsync(1_000)
    }
    // 200 failing keys retrying every 100 ms would make 10,000 loads in 5 s; the budget allows ~25.
    expect(loader.mock.calls.length).toBeLessThanOrEqual(30)
    expect(family.get('k0')).toBe('k0')
  })

  it('timeout applies per key', async () => {
    const family = registry({ timeout: 500 }).family('t', () => new Promise<number>(() => {}))
    const waiting = expect(family.fetch('k')).rejects.toBeInstanceOf(LoadTimeoutError)
    await vi.advanceTimersByTimeAsync(500)
    await waiting
  })

  it('maxStale applies per key: get gives undefined for a value older than it', async () => {
    const resources = registry({ interval: '1s', maxStale: '3s', retry: false })
    let fail = false
    const family = resources.family('m', async () => {
      if (fail) throw new Error('down')
      return 1
    })
    await resources.start()
    await family.fetch('k')
    fail = true
    for (let i = 0; i < 5; i++) {
      family.get('k')
      await vi.advanceTimersByTimeAsync(1_000)
    }
    expect(family.get('k')).toBeUndefined()
  })
})

describe('family: push, delete, bounds', () => {
  it('set goes the way of a load (version, change event), creates a cold key, is not a read', async () => {
    const resources = registry()
    const changes: unknown[] = []
    resources.on('change', (e) => changes.push(e))
    const family = resources.family('s', async () => 'loaded')
    family.set('k', 'pushed')
    expect(family.peek('k')).toMatchObject({ hasValue: true, value: 'pushed', version: 1 })
    family.set('k', 'again')
    expect(family.peek('k')?.version).toBe(2)
    expect(changes).toMatchObject([
      { name: 's', family: 's', key: 'k', value: 'pushed' },
      { key: 'k', value: 'again', previous: 'pushed' },
    ])
    expect(family.stats()).toMatchObject({ hits: 0, misses: 0 })
  })

  it('delete drops a key; refresh loads it again', async () => {
    const loader = vi.fn(async () => 1)
    const family = registry().family('d', loader)
    await family.fetch('k')
    expect(family.delete('k')).toBe(true)
    expect(family.has('k')).toBe(false)
    await expect(family.refresh('k')).resolves.toBe(1)
    expect(loader).toHaveBeenCalledTimes(2)
  })

  it('size never exceeds maxKeys; failed keys are evicted first', async () => {
    const family = registry().family(
      'b',
      async (key: string) => {
        if (key === 'bad') throw new Error('no')
        return key
      },
      { maxKeys: 10, policy: 'lru' },
    )
    await family.fetch('bad').catch(() => {})
    for (let i = 0; i < 9; i++) await family.fetch(`k${i}`)
    expect(family.size).toBe(10)
    await family.fetch('k9')
    expect(family.size).toBe(10)
    expect(family.peek('bad')).toBeUndefined()
    expect(family.has('k0')).toBe(true)
    for (let i = 10; i < 50; i++) {
      await family.fetch(`k${i}`)
      expect(family.size).toBeLessThanOrEqual(10)
    }
    expect(family.stats().evictions).toBeGreaterThan(0)
  })

  it('maxSize with sizeOf bounds the summed size', async () => {
    const family = registry().family('z', async (key: string) => key.repeat(10), {
      maxSize: 50,
      sizeOf: (value: string) => value.length,
    })
    for (let i = 0; i < 20; i++) await family.fetch(`${i % 10}`)
    expect(family.size).toBeLessThanOrEqual(5)
  })
})

describe('family: in the registry', () => {
  it('shares the namespace of define names and appears in names()', () => {
    const resources = registry()
    resources.define('a', () => 1)
    resources.family('f', async () => 1)
    expect(resources.names()).toEqual(['a', 'f'])
    expect(() => resources.define('f', () => 1)).toThrow(DuplicateResourceError)
    expect(() => resources.family('a', async () => 1)).toThrow(DuplicateResourceError)
  })

  it('get(familyName) throws a typed error pointing to the family', () => {
    const resources = registry()
    resources.family('f', async () => 1)
    expect(() => resources.get('f')).toThrow(FamilyNameError)
    expect(() => resources.get('f')).toThrow(/family/)
  })

  it('remove(name) ends a family: its loads are aborted and its keys gone', async () => {
    const resources = registry()
    const family = resources.family('f', () => new Promise<number>(() => {}))
    const waiting = family.fetch('k')
    expect(resources.remove('f')).toBe(true)
    await expect(waiting).rejects.toThrow(/aborted/)
    expect(resources.names()).toEqual([])
    expect(family.size).toBe(0)
  })

  it('stop() aborts the family loads in flight and stops refreshing', async () => {
    const resources = registry({ interval: '1s' })
    const loader = vi.fn(async () => 1)
    const family = resources.family('f', loader)
    await resources.start()
    await family.fetch('k')
    await resources.stop()
    await vi.advanceTimersByTimeAsync(10_000)
    expect(loader).toHaveBeenCalledTimes(1)
    expect(family.get('k')).toBe(1)
  })

  it('status() summarises each family in one row; events carry the family and key', async () => {
    const resources = registry()
    const loads: unknown[] = []
    resources.on('load', (e) => loads.push(e))
    const family = resources.family('f', async (key: string) => key)
    await family.fetch('a')
    await family.fetch('a')
    expect(resources.status().families).toEqual([
      {
        name: 'f',
        size: 1,
        hits: 1,
        misses: 1,
        hitRatio: 0.5,
        loads: 1,
        failures: 0,
        evictions: 0,
        failing: 0,
      },
    ])
    expect(resources.status().resources).toEqual([])
    expect(loads).toMatchObject([{ name: 'f', family: 'f', key: 'a' }])
  })
})
