// Fleet guarantees under hostile conditions, on the in-process shared store with fake timers: load
// times from a clock ahead, older loads under newer versions, floods of announcements, a holder that
// outlives its lease. The same faults against a real redis-server: test/redis/fleet-hardening.test.ts.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { type Clock, type FleetStore, memoryStore, Resources, type StoreEntry } from '../../src/index.js'
import { replicaStore, sharedMemory } from './shared-memory.js'

const INTERVAL = 10_000
const HOUR = 3_600_000

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

/** The system clock read through fake timers, with its wall time `skew` ms off. */
function skewedClock(skew: number): Clock {
  return {
    now: () => Date.now() + skew,
    monotonic: () => performance.now(),
    setTimeout: (fn, ms) => setTimeout(fn, ms),
    clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  }
}

describe('load times from another clock', () => {
  it('never trusts a restored load time later than now: the value ages from when it was taken', async () => {
    const store = memoryStore()
    await store.set('rates', { value: 'forged', version: 1, loadedAt: Date.now() + 24 * HOUR })
    const resources = new Resources({ interval: INTERVAL, jitter: 0, maxStale: '1m', store })
    resources.define('rates', () => Promise.reject(new Error('backend down')))
    await resources.start()
    await vi.advanceTimersByTimeAsync(0)
    expect(resources.resource('rates').peek().age).toBe(0)
    await vi.advanceTimersByTimeAsync(30_000)
    expect(resources.resource('rates').peek().age).toBe(30_000)
    // maxStale still holds: a day ahead does not make the value fresh for a day.
    await vi.advanceTimersByTimeAsync(31_000)
    expect(resources.resource('rates').peek().status).toBe('stale')
    expect(() => resources.get('rates')).toThrow(expect.objectContaining({ code: 'E_STALE' }))
    await resources.stop()
  })

  it('takes over within lease TTL + interval after a replica an hour ahead dies', async () => {
    const shared = sharedMemory()
    let behindCalls = 0
    const ahead = new Resources({ interval: INTERVAL, clock: skewedClock(HOUR), store: replicaStore(shared) })
    const behind = new Resources({
      interval: INTERVAL,
      clock: skewedClock(-HOUR),
      store: replicaStore(shared),
    })
    ahead.define('k', () => 'ahead')
    behind.define('k', () => {
      behindCalls++
      return 'behind'
    })
    await ahead.start({ wait: true })
    await behind.start({ wait: true })
    expect(behind.get('k')).toBe('ahead')
    const tookAt = Date.now()
    await vi.advanceTimersByTimeAsync(1_000)
    // No age below the time since the value was taken, whatever the writer's clock said.
    expect(behind.resource('k').peek().age).toBeGreaterThanOrEqual(Date.now() - tookAt)
    await ahead.stop() // dies
    await vi.advanceTimersByTimeAsync(3_000 + INTERVAL * 1.1)
    expect(behindCalls).toBeGreaterThanOrEqual(1)
    expect(behind.get('k')).toBe('behind')
    await behind.stop()
  })
})

describe('a replica never goes back to an older load', () => {
  it('keeps its value when a newer version holds an older load, and writes its own above it', async () => {
    const shared = sharedMemory()
    const resources = new Resources({ interval: INTERVAL, jitter: 0, store: replicaStore(shared) })
    let n = 0
    resources.define('counter', () => ++n)
    await resources.start({ wait: true })
    await vi.advanceTimersByTimeAsync(INTERVAL + 10)
    expect(resources.get('counter')).toBe(2)
    const mine = resources.resource('counter').peek().version
    // The store lost its data, and a write of a load made before ours lands above our version.
    const older: StoreEntry = { value: 1, version: mine + 1, loadedAt: Date.now() - INTERVAL }
    shared.entries.set('counter', older)
    const changes: unknown[] = []
    resources.on('change', (e) => changes.push(e.value))
    for (const l of shared.listeners) l.listener('counter', mine + 1)
    await vi.advanceTimersByTimeAsync(10)
    expect(resources.get('counter')).toBe(2)
    expect(changes).toEqual([])
    // Its own value now sits above the older one, so the fleet agrees again.
    expect(shared.entries.get('counter')).toMatchObject({ value: 2, version: mine + 2 })
    expect(resources.resource('counter').peek().version).toBe(mine + 2)
    await resources.stop()
  })

  it('does not take an older load of its own version after its write was refused', async () => {
    const shared = sharedMemory()
    shared.dropAnnouncements = true
    const resources = new Resources({ interval: INTERVAL, jitter: 0, store: replicaStore(shared) })
    resources.define('counter', async () => {
      await new Promise((resolve) => setTimeout(resolve, 1_000))
      // While it loaded, a write of a load made before its own took the version of its token.
      if (!shared.entries.has('counter'))
        shared.entries.set('counter', { value: 'older', version: 1, loadedAt: Date.now() - 500 })
      return 'newer'
    })
    void resources.start()
    await vi.advanceTimersByTimeAsync(1_010)
    expect(resources.get('counter')).toBe('newer')
    expect(shared.entries.get('counter')).toMatchObject({ value: 'newer', version: 2 })
    expect(resources.resource('counter').peek()).toMatchObject({ version: 2, source: 'load' })
    await resources.stop()
  })
})

describe('announcements', () => {
  it('reads the shared entry a handful of times for 5,000 forged announcements', async () => {
    const shared = sharedMemory()
    const store = replicaStore(shared)
    let reads = 0
    const counting: FleetStore = {
      ...store,
      get: (name) => {
        reads++
        return store.get(name)
      },
    }
    const resources = new Resources({ interval: INTERVAL, jitter: 0, store: counting })
    resources.define('k', () => 'v')
    await resources.start({ wait: true })
    await vi.advanceTimersByTimeAsync(10)
    reads = 0
    const [listener] = shared.listeners
    for (let i = 0; i < 5_000; i++) listener!.listener('k', 100 + (i % 50) * 1_000 + i)
    await vi.advanceTimersByTimeAsync(10)
    for (let i = 0; i < 5_000; i++) listener!.listener('k', 1)
    await vi.advanceTimersByTimeAsync(10)
    expect(reads).toBeLessThanOrEqual(3)
    expect(resources.get('k')).toBe('v')
    await resources.stop()
  })
})

describe('a lease outlived by its load', () => {
  it('does not write a load whose lease expired by the local clock, and emits no change for it', async () => {
    const shared = sharedMemory()
    const store = replicaStore(shared, 3_000)
    // A paused process renews nothing: renewals hang, as if their timers never ran.
    const paused: FleetStore = {
      ...store,
      fleet: {
        ...store.fleet,
        acquire: async (name, floor) => {
          const lease = await store.fleet.acquire(name, floor)
          return lease === undefined ? undefined : { ...lease, renew: () => new Promise<boolean>(() => {}) }
        },
      },
    }
    const resources = new Resources({ interval: INTERVAL, jitter: 0, timeout: '1m', store: paused })
    const changes: number[] = []
    const errors: unknown[] = []
    resources.on('change', (e) => changes.push(e.version))
    resources.on('error', (e) => errors.push(e.error))
    resources.define('slow', () => new Promise((resolve) => setTimeout(() => resolve('late'), 4_000)))
    void resources.start()
    await vi.advanceTimersByTimeAsync(4_010)
    expect(shared.entries.has('slow')).toBe(false)
    expect(changes).toEqual([])
    expect(errors).toEqual([expect.objectContaining({ code: 'E_LOAD_ABORTED' })])
    expect(resources.resource('slow').peek().hasValue).toBe(false)
    await resources.stop()
  })
})

describe('one value per version on every replica', () => {
  /** A replica store that writes values as JSON text, as the file and Redis stores do. */
  function jsonReplica(shared: ReturnType<typeof sharedMemory>): FleetStore {
    const store = replicaStore(shared)
    const codec = {
      encode: (v: unknown) => (v === undefined ? '' : (JSON.stringify(v) as string)),
      decode: (t: string) => (t === '' ? undefined : JSON.parse(t)),
    }
    return {
      ...store,
      codec,
      get: async (name) => {
        const e = await store.get(name)
        return e === undefined ? undefined : { ...e, value: codec.decode(e.value as string) }
      },
      set: (name, entry) => store.set(name, { ...entry, value: codec.encode(entry.value) }),
    }
  }

  it('serves the loading replica the value as the others read it', async () => {
    const shared = sharedMemory()
    const loading = new Resources({ interval: INTERVAL, jitter: 0, store: jsonReplica(shared) })
    const other = new Resources({ interval: INTERVAL, jitter: 0, store: jsonReplica(shared) })
    const value = { at: new Date(0), tags: new Map([['a', 1]]), ratio: Number.NaN }
    loading.define('k', () => value)
    other.define('k', () => value)
    await loading.start({ wait: true })
    await other.start({ wait: true })
    const expected = { at: '1970-01-01T00:00:00.000Z', tags: {}, ratio: null }
    expect(loading.get('k')).toEqual(expected)
    expect(other.get('k')).toEqual(expected)
    expect(other.resource('k').peek().version).toBe(loading.resource('k').peek().version)
    await loading.stop()
    await other.stop()
  })

  it('refuses a value the codec cannot carry: a StoreError, served by no one', async () => {
    const shared = sharedMemory()
    const resources = new Resources({ interval: INTERVAL, jitter: 0, store: jsonReplica(shared) })
    const errors: { code: string; cause?: { code?: string } }[] = []
    resources.on('error', (e) => errors.push(e.error as never))
    resources.define('big', () => ({ n: 10n }))
    await expect(resources.start({ wait: true })).rejects.toMatchObject({ code: 'E_SYNC' })
    expect(errors[0]).toMatchObject({ code: 'E_LOAD_FAILED', cause: { code: 'E_STORE' } })
    expect(resources.resource('big').peek().hasValue).toBe(false)
    expect(shared.entries.has('big')).toBe(false)
    await resources.stop()
  })

  it('keeps a value of undefined as undefined', async () => {
    const shared = sharedMemory()
    const resources = new Resources({ interval: INTERVAL, jitter: 0, store: jsonReplica(shared) })
    resources.define('nothing', () => undefined)
    await resources.start({ wait: true })
    expect(resources.resource('nothing').peek()).toMatchObject({ hasValue: true, value: undefined })
    await resources.stop()
  })
})
