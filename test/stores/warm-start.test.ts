import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { layeredStore, memoryStore, Resources, type Store } from '../../src/index.js'

beforeEach(() => vi.useFakeTimers())
afterEach(() => vi.useRealTimers())

/** A loader that takes `ms`, and gives up when its signal is aborted (as `stop()` does). */
const slow =
  (value: string, ms: number) =>
  ({ signal }: { signal: AbortSignal }) =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => resolve(value), ms)
      signal.addEventListener('abort', () => {
        clearTimeout(timer)
        reject(signal.reason)
      })
    })

async function seeded(
  entries: Record<string, { value: unknown; version: number; age: number }>,
): Promise<Store> {
  const store = memoryStore()
  for (const [name, e] of Object.entries(entries)) {
    await store.set(name, { value: e.value, version: e.version, loadedAt: Date.now() - e.age })
  }
  return store
}

/**
 * A registry on `store` whose resource `pods` loads 'fresh', defined while the store's reads fail:
 * its saved entry is not restored, so its versions begin again at 1.
 */
function unreadAtStart(store: Store) {
  let readable = false
  const resources = new Resources({
    store: {
      ...store,
      get: (name) => (readable ? store.get(name) : Promise.reject(new Error('read failed'))),
    },
    interval: '1s',
    jitter: 0,
    onError: () => {},
  })
  const pods = resources.define('pods', () => 'fresh')
  readable = true
  return { resources, pods }
}

describe('warm start from a store', () => {
  it('resolves start({ wait: true }) with the restored value while the first load still runs', async () => {
    const store = await seeded({ pods: { value: 'saved', version: 4, age: 5_000 } })
    const resources = new Resources({ store, interval: '1m' })
    const pods = resources.define('pods', slow('fresh', 20_000))
    await resources.start({ wait: true })
    expect(pods.get()).toBe('saved')
    expect(pods.peek()).toMatchObject({ status: 'restored', source: 'store', version: 4, loading: true })
    await vi.advanceTimersByTimeAsync(20_000)
    expect(pods.get()).toBe('fresh')
    expect(pods.peek()).toMatchObject({ status: 'ready', source: 'load', version: 5 })
    await resources.stop()
  })

  it('still waits for the first load of a resource whose saved value is too old', async () => {
    const store = await seeded({ rates: { value: 'old', version: 2, age: 3_600_000 } })
    const resources = new Resources({ store, maxRestoredAge: '10m' })
    const rates = resources.define('rates', slow('new', 1_000))
    const started = resources.start({ wait: true })
    await vi.advanceTimersByTimeAsync(1_000)
    await started
    expect(rates.get()).toBe('new')
    // The ignored entry's version still counts: versions never go back.
    expect(rates.peek().version).toBe(3)
    await resources.stop()
  })

  it('serves the restored value through a failing first load, and start({ wait }) does not reject', async () => {
    const store = await seeded({ flags: { value: { dark: true }, version: 1, age: 10 } })
    const resources = new Resources({ store })
    const flags = resources.define('flags', () => Promise.reject(new Error('backend down')))
    await resources.start({ wait: true })
    await vi.advanceTimersByTimeAsync(0)
    expect(flags.get()).toEqual({ dark: true })
    expect(flags.peek().status).toBe('degraded')
    await resources.stop()
  })

  it('saves each successful load with a growing version', async () => {
    const store = memoryStore()
    let n = 0
    const resources = new Resources({ store, interval: '1s', jitter: 0 })
    resources.define('n', () => ++n)
    await resources.start({ wait: true })
    await vi.advanceTimersByTimeAsync(2_000)
    expect(await store.get('n')).toMatchObject({ value: 3, version: 3 })
    await resources.stop()
  })

  it('saves over the entry it could not read at start: the next value goes in under the next version', async () => {
    const store = await seeded({ pods: { value: 'old', version: 10, age: 60_000 } })
    const { resources, pods } = unreadAtStart(store)
    await resources.start({ wait: true }) // the read failed: the first load starts at version 1
    await vi.advanceTimersByTimeAsync(0)
    expect(await store.get('pods')).toMatchObject({ value: 'fresh', version: 11 })
    expect(pods.peek().version).toBe(11)
    await resources.stop()
  })

  it('does not save over a newer entry of another writer, but learns its version for the next load', async () => {
    const store = memoryStore()
    let calls = 0
    const resources = new Resources({
      store: {
        ...store,
        set: (name, entry) => (calls++ === 0 ? Promise.resolve(false) : store.set(name, entry)),
      },
      interval: '1s',
      jitter: 0,
    })
    let n = 0
    const pods = resources.define('pods', () => `ours-${++n}`)
    // Another writer saves a newer value as the first load runs; our write of version 1 is refused.
    await store.set('pods', { value: 'theirs', version: 4, loadedAt: Date.now() + 500 })
    await resources.start({ wait: true })
    await vi.advanceTimersByTimeAsync(0)
    expect(await store.get('pods')).toMatchObject({ value: 'theirs', version: 4 })
    expect(pods.peek()).toMatchObject({ value: 'ours-1', version: 4 })
    await vi.advanceTimersByTimeAsync(1_000)
    expect(await store.get('pods')).toMatchObject({ value: 'ours-2', version: 5 })
    await resources.stop()
  })

  it('reports a store that refuses the value again, and does not retry it further', async () => {
    const sets: number[] = []
    const errors: unknown[] = []
    const store: Store = {
      ...memoryStore(),
      get: async () => ({ value: 'elsewhere', version: 100 + sets.length, loadedAt: 0 }),
      set: async (_, entry) => {
        sets.push(entry.version)
        return false
      },
    }
    const resources = new Resources({ store, interval: '1s', jitter: 0, onError: (e) => errors.push(e) })
    resources.define('pods', () => 'ours')
    await resources.start({ wait: true })
    await vi.advanceTimersByTimeAsync(0)
    expect(sets).toEqual([101, 102]) // after the restored version 100
    expect(errors).toHaveLength(1)
    expect(String((errors[0] as Error).cause)).toContain('the store keeps a newer version (102)')
    await resources.stop()
  })

  it('reads the newest version across layers, and writes to every layer', async () => {
    const upper = await seeded({ k: { value: 'upper', version: 2, age: 0 } })
    const lower = await seeded({ k: { value: 'lower', version: 7, age: 0 } })
    const store = layeredStore(upper, lower)
    expect(await store.get('k')).toMatchObject({ value: 'lower', version: 7 })
    expect(await store.set('k', { value: 'new', version: 8, loadedAt: 0 })).toBe(true)
    expect((await upper.get('k'))?.value).toBe('new')
    expect((await lower.get('k'))?.value).toBe('new')
  })

  it('writes the newest entry a read found to the layers behind it, but not to a layer that is down', async () => {
    const upper = await seeded({ k: { value: 'upper', version: 2, age: 0 } })
    const lower = await seeded({ k: { value: 'lower', version: 7, age: 0 } })
    const empty = memoryStore()
    const sets: number[] = []
    const down: Store = {
      ...memoryStore(),
      get: () => Promise.reject(new Error('down')),
      set: async (_, entry) => {
        sets.push(entry.version)
        return true
      },
    }
    const store = layeredStore(upper, lower, empty, down)
    expect(await store.get('k')).toMatchObject({ value: 'lower', version: 7 })
    await store.close() // the repairs, made in the background, have landed by then
    expect(await upper.get('k')).toMatchObject({ value: 'lower', version: 7 })
    expect(await empty.get('k')).toMatchObject({ value: 'lower', version: 7 })
    expect(sets).toEqual([])
  })

  it('in fleet mode, writes to the lower layers only what the first layer took, or could not take', async () => {
    const shared = await seeded({ k: { value: 'fleet', version: 5, age: 0 } })
    let down = false
    const fleetLayer: Store = {
      ...shared,
      set: (name, entry) => (down ? Promise.reject(new Error('down')) : shared.set(name, entry)),
      fleet: {
        leaseTtl: 1_000,
        head: async () => undefined,
        acquire: async () => undefined,
        watch: () => () => {},
      },
    }
    const snapshot = memoryStore()
    const store = layeredStore(fleetLayer, snapshot)
    // Refused by the fleet (it shares version 5): the snapshot must not keep another value under it.
    expect(await store.set('k', { value: 'mine', version: 5, loadedAt: 0 })).toBe(false)
    expect(await snapshot.get('k')).toBeUndefined()
    expect(await store.set('k', { value: 'next', version: 6, loadedAt: 0 })).toBe(true)
    expect(await snapshot.get('k')).toMatchObject({ value: 'next', version: 6 })
    // The fleet's store is down: the snapshot still takes the value, for a warm restart.
    down = true
    await expect(store.set('k', { value: 'alone', version: 7, loadedAt: 0 })).rejects.toThrow('down')
    expect(await snapshot.get('k')).toMatchObject({ value: 'alone', version: 7 })
  })

  it('does not hold up stop() with a repair write that a layer never answers', async () => {
    const upper = await seeded({ pods: { value: 'saved', version: 2, age: 0 } })
    const hung: Store = { ...memoryStore(), set: () => new Promise<boolean>(() => {}) }
    const resources = new Resources({ store: layeredStore(upper, hung), interval: '1h' })
    const pods = resources.define('pods', () => 'fresh')
    await resources.start({ wait: true }) // the restore read found the lower layer behind: a repair hangs
    expect(pods.get()).toBeDefined()
    let stopped = false
    void resources.stop().then(() => {
      stopped = true
    })
    // Its own save hangs on that layer too: stop() waits for it no longer than its grace (1 s).
    await vi.advanceTimersByTimeAsync(1_000)
    expect(stopped).toBe(true)
  })

  it('brings a lower layer that holds a newer version up to date (outside fleet mode)', async () => {
    // The snapshot below holds version 10; the layer above was emptied, and the read at start failed.
    const upper = memoryStore()
    const lower = await seeded({ pods: { value: 'old', version: 10, age: 60_000 } })
    const { resources, pods } = unreadAtStart(layeredStore(upper, lower))
    await resources.start({ wait: true }) // version 1: the upper layer takes it, the lower one refuses it
    await vi.advanceTimersByTimeAsync(0)
    expect(await lower.get('pods')).toMatchObject({ value: 'fresh', version: 11 })
    expect(await upper.get('pods')).toMatchObject({ value: 'fresh', version: 11 })
    expect(pods.peek().version).toBe(11)
    await resources.stop()
  })

  it('falls back to a lower layer when the upper one is down', async () => {
    const down: Store = {
      get: () => Promise.reject(new Error('down')),
      set: () => Promise.reject(new Error('down')),
      delete: () => Promise.reject(new Error('down')),
      list: () => Promise.reject(new Error('down')),
      close: async () => {},
    }
    const lower = await seeded({ k: { value: 'snapshot', version: 3, age: 0 } })
    const resources = new Resources({ store: layeredStore(down, lower), onError: () => {} })
    const k = resources.define('k', slow('fresh', 5_000))
    await resources.start({ wait: true })
    expect(k.get()).toBe('snapshot')
    await resources.stop()
  })
})

describe('a registry started again after stop()', () => {
  /** A memory store that counts its closes and reopens, and refuses writes while closed. */
  function reopenable(options: { reopen: boolean }) {
    const inner = memoryStore()
    let closed = false
    const counts = { close: 0, reopen: 0 }
    const store: Store = {
      ...inner,
      set: (name, entry) => (closed ? Promise.reject(new Error('closed')) : inner.set(name, entry)),
      close: async () => {
        counts.close++
        closed = true
      },
      ...(options.reopen
        ? {
            reopen: () => {
              counts.reopen++
              closed = false
            },
          }
        : {}),
    }
    return { store, inner, counts }
  }

  it('reopens the stores stop() closed, and goes on saving', async () => {
    const { store, inner, counts } = reopenable({ reopen: true })
    const errors: unknown[] = []
    const resources = new Resources({ store, interval: '1s', jitter: 0, onError: (e) => errors.push(e) })
    let n = 0
    resources.define('pods', () => ++n)
    await resources.start({ wait: true })
    await resources.stop()
    expect(counts).toEqual({ close: 1, reopen: 0 })
    await resources.start()
    expect(counts).toEqual({ close: 1, reopen: 1 })
    await vi.advanceTimersByTimeAsync(1_000)
    expect(await inner.get('pods')).toMatchObject({ value: n, version: n })
    expect(n).toBeGreaterThanOrEqual(2)
    await resources.start() // already started: nothing to reopen
    expect(counts.reopen).toBe(1)
    await resources.stop()
    expect(errors).toEqual([])
  })

  it('closes a store shared by two registries when the last of them stops, and reopens it for the next start', async () => {
    const { store, inner, counts } = reopenable({ reopen: true })
    const errors: unknown[] = []
    const onError = (e: unknown) => errors.push(e)
    const first = new Resources({ store, interval: '1s', jitter: 0, onError })
    const second = new Resources({ store, interval: '1s', jitter: 0, onError })
    first.define('a', () => 1)
    let n = 0
    second.define('b', () => ++n)
    await Promise.all([first.start({ wait: true }), second.start({ wait: true })])
    await first.stop()
    expect(counts).toEqual({ close: 0, reopen: 0 }) // the second registry still runs on it
    await vi.advanceTimersByTimeAsync(1_000)
    expect(await inner.get('b')).toMatchObject({ value: n, version: n })
    expect(n).toBeGreaterThanOrEqual(2)
    await second.stop()
    expect(counts).toEqual({ close: 1, reopen: 0 })
    await first.start()
    expect(counts).toEqual({ close: 1, reopen: 1 })
    await second.start()
    expect(counts).toEqual({ close: 1, reopen: 1 })
    await Promise.all([first.stop(), second.stop()])
    expect(counts).toEqual({ close: 2, reopen: 1 })
    expect(errors).toEqual([])
  })

  it('reopens a store closed by another registry when a resource brings it in while started', async () => {
    const { store, inner, counts } = reopenable({ reopen: true })
    const other = new Resources({ store })
    await other.start()
    await other.stop() // its last holder: closed
    expect(counts.close).toBe(1)
    const resources = new Resources({ interval: '1s', jitter: 0 })
    await resources.start()
    resources.define('pods', () => 'v', { store })
    expect(counts.reopen).toBe(1)
    await vi.advanceTimersByTimeAsync(0)
    expect(await inner.get('pods')).toMatchObject({ value: 'v', version: 1 })
    await resources.stop()
    expect(counts.close).toBe(2)
  })

  it('reopens every layer of a layered store that can reopen', async () => {
    const upper = reopenable({ reopen: true })
    const lower = reopenable({ reopen: true })
    const resources = new Resources({ store: layeredStore(upper.store, lower.store), jitter: 0 })
    resources.define('pods', () => 1)
    await resources.start({ wait: true })
    await resources.stop()
    await resources.start()
    expect([upper.counts, lower.counts]).toEqual([
      { close: 1, reopen: 1 },
      { close: 1, reopen: 1 },
    ])
    await resources.stop()
  })

  it('reports the failed writes of a store that cannot reopen, and keeps serving the values', async () => {
    const { store, inner } = reopenable({ reopen: false })
    const errors: unknown[] = []
    const resources = new Resources({ store, interval: '1s', jitter: 0, onError: (e) => errors.push(e) })
    let n = 0
    const pods = resources.define('pods', () => ++n)
    await resources.start({ wait: true })
    await resources.stop()
    await resources.start()
    await vi.advanceTimersByTimeAsync(1_000)
    expect(pods.get()).toBe(n)
    expect(await inner.get('pods')).toMatchObject({ version: 1 })
    expect(errors).toEqual([
      expect.objectContaining({ code: 'E_STORE', message: expect.stringMatching(/closed/) }),
    ])
    await resources.stop()
  })
})

describe('stop() and writes in flight', () => {
  it('lets a write still in flight land before it closes the store', async () => {
    const inner = memoryStore()
    const log: string[] = []
    const store: Store = {
      ...inner,
      set: async (name, entry) => {
        await new Promise((resolve) => setTimeout(resolve, 300))
        log.push(`set v${entry.version}`)
        return inner.set(name, entry)
      },
      close: async () => {
        log.push('close')
      },
    }
    const resources = new Resources({ store, interval: '1h' })
    resources.define('pods', () => 'v')
    await resources.start({ wait: true }) // loaded; its write takes 300 ms
    const stopped = resources.stop()
    await vi.advanceTimersByTimeAsync(300)
    await stopped
    expect(log).toEqual(['set v1', 'close'])
    expect(await inner.get('pods')).toMatchObject({ value: 'v', version: 1 })
  })

  it('waits for a write that never answers no longer than its grace (1 s)', async () => {
    const store: Store = { ...memoryStore(), set: () => new Promise<boolean>(() => {}) }
    const resources = new Resources({ store, interval: '1h' })
    resources.define('pods', () => 'v')
    await resources.start({ wait: true })
    let stopped = false
    void resources.stop().then(() => {
      stopped = true
    })
    await vi.advanceTimersByTimeAsync(999)
    expect(stopped).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    expect(stopped).toBe(true)
  })
})

describe('store problems', () => {
  it("reach the 'storeError' event and onError, naming the resource, at most once per 10 s each", async () => {
    const inner = memoryStore()
    const store: Store = { ...inner, set: () => Promise.reject(new Error('disk full')) }
    const seen: unknown[] = []
    const handled: unknown[] = []
    const resources = new Resources({
      store,
      interval: '1s',
      jitter: 0,
      onError: (e, name) => handled.push([e.code, name]),
    })
    resources.on('storeError', ({ name, error }) => seen.push([name, error.code, error.message]))
    const a = resources.define('a', () => 1)
    await resources.start({ wait: true })
    await vi.advanceTimersByTimeAsync(5_000)
    expect(a.get()).toBe(1) // the value in memory is unaffected
    expect(seen).toEqual([['a', 'E_STORE', expect.stringMatching(/resource "a".*disk full/)]])
    expect(handled).toEqual([['E_STORE', 'a']])
    await vi.advanceTimersByTimeAsync(6_000)
    expect(seen).toHaveLength(2)
    await resources.stop()
  })
})
