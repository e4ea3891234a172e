import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import {
  type FleetStore,
  type LoadContext,
  layeredStore,
  memoryStore,
  Resources,
  type StoreEntry,
} from '../../src/index.js'
import { replicaStore, type SharedMemory, sharedMemory } from './shared-memory.js'

const INTERVAL = 10_000

interface Replica {
  resources: Resources
  calls: number
  versions: Map<string, number[]>
}

function fleet(
  shared: SharedMemory,
  count: number,
  names: string[],
  loader?: (ctx: LoadContext<unknown>) => unknown,
) {
  const replicas: Replica[] = []
  for (let r = 0; r < count; r++) {
    const replica: Replica = {
      resources: new Resources({ interval: INTERVAL, timeout: 5_000, store: replicaStore(shared) }),
      calls: 0,
      versions: new Map(),
    }
    for (const name of names) {
      const resource = replica.resources.define(name, async (ctx) => {
        replica.calls++
        if (loader !== undefined) return loader(ctx)
        // 100 ms, or less when stop() aborts it: a test that ends mid-load must not wait on fake time.
        await new Promise((resolve, reject) => {
          const timer = setTimeout(resolve, 100)
          ctx.signal.addEventListener('abort', () => {
            clearTimeout(timer)
            reject(ctx.signal.reason)
          })
        })
        return { name, by: r, at: Date.now() }
      })
      resource.subscribe(() => {
        const seen = replica.versions.get(name) ?? []
        seen.push(resource.peek().version)
        replica.versions.set(name, seen)
      })
    }
    replicas.push(replica)
  }
  return replicas
}

const totalCalls = (replicas: Replica[]) => replicas.reduce((n, r) => n + r.calls, 0)

/** One replica on `store` with one resource, `rates`, whose loader returns `value` and counts its calls. */
function oneReplica(store: FleetStore, value: string) {
  let calls = 0
  const resources = new Resources({ interval: INTERVAL, jitter: 0, store })
  resources.define('rates', () => {
    calls++
    return value
  })
  return { resources, calls: () => calls }
}

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

// Each fake timer costs a real turn of the event loop in the async advance: on a busy machine these
// runs of thousands of timers need more than the default timeout.
describe('fleet mode (shared store with leases)', { timeout: 60_000 }, () => {
  it('makes about one backend call per resource per interval for the whole fleet', async () => {
    const shared = sharedMemory()
    const names = ['a', 'b', 'c', 'd', 'e']
    const replicas = fleet(shared, 4, names)
    for (const r of replicas) void r.resources.start()
    await vi.advanceTimersByTimeAsync(40 * INTERVAL)
    const perResourcePerInterval = totalCalls(replicas) / names.length / 40
    // Alone, four replicas would make four calls per interval.
    expect(perResourcePerInterval).toBeGreaterThan(0.9)
    expect(perResourcePerInterval).toBeLessThan(1.1)
    for (const r of replicas) await r.resources.stop()
  })

  it('converges every replica to the same version, and versions only go up', async () => {
    const shared = sharedMemory()
    const replicas = fleet(shared, 3, ['x', 'y'])
    for (const r of replicas) void r.resources.start()
    await vi.advanceTimersByTimeAsync(20 * INTERVAL + 500)
    for (const name of ['x', 'y']) {
      const shared_version = shared.entries.get(name)!.version
      for (const r of replicas) {
        expect(r.resources.resource(name).peek().version).toBe(shared_version)
        const seen = r.versions.get(name)!
        expect(seen).toEqual([...seen].sort((a, b) => a - b))
        expect(new Set(seen).size).toBe(seen.length)
      }
    }
    for (const r of replicas) await r.resources.stop()
  })

  it('serves a new replica the shared value at once, without loading it again', async () => {
    const shared = sharedMemory()
    shared.entries.set('rates', { value: { eur: 1.1 }, version: 7, loadedAt: Date.now() - 1_000 })
    const [replica] = fleet(shared, 1, ['rates'])
    await replica!.resources.start({ wait: true })
    expect(replica!.resources.get('rates')).toEqual({ eur: 1.1 })
    expect(replica!.calls).toBe(0)
    // It loads when the shared value becomes due: one interval after the shared load.
    await vi.advanceTimersByTimeAsync(INTERVAL * 1.1)
    expect(replica!.calls).toBe(1)
    expect(replica!.resources.resource('rates').peek().version).toBe(8)
    await replica!.resources.stop()
  })

  it('does not load again when the new value of another replica arrives while it reads the shared head', async () => {
    const shared = sharedMemory()
    shared.entries.set('rates', { value: 'old', version: 1, loadedAt: Date.now() - 2 * INTERVAL })
    const other = replicaStore(shared)
    const store = replicaStore(shared)
    const fleetOf = store.fleet!
    let raced = false
    // The first head read returns the old entry, but only after the other replica has written a new
    // one and this replica has taken it from the announcement.
    const racing: FleetStore = {
      ...store,
      fleet: {
        ...fleetOf,
        head: async (name) => {
          const head = await fleetOf.head(name)
          if (!raced) {
            raced = true
            await other.set(name, { value: 'new', version: 2, loadedAt: Date.now() })
            // The announcement's fetch takes a few microtask turns; bounded, so a bug cannot hang it.
            for (let i = 0; i < 1_000 && resources.resource(name).peek().version < 2; i++)
              await Promise.resolve()
          }
          return head
        },
      },
    }
    const { resources, calls } = oneReplica(racing, 'mine')
    await resources.start({ wait: true })
    await vi.advanceTimersByTimeAsync(INTERVAL / 2)
    expect(raced).toBe(true)
    expect(resources.get('rates')).toBe('new')
    expect(calls()).toBe(0)
    await resources.stop()
  })

  it('still loads at start when nothing is shared, even with a recent value restored', async () => {
    const shared = sharedMemory()
    const store = replicaStore(shared)
    // The restore finds a value a second old (say, from a local snapshot), but the shared head is
    // empty: the fleet lost its data. The replica loads, as a start outside fleet mode does.
    const restoring: FleetStore = {
      ...store,
      get: async () => ({ value: 'saved', version: 3, loadedAt: Date.now() - 1_000 }),
    }
    const { resources, calls } = oneReplica(restoring, 'loaded')
    await resources.start({ wait: true })
    await vi.advanceTimersByTimeAsync(100)
    expect(calls()).toBe(1)
    expect(resources.get('rates')).toBe('loaded')
    await resources.stop()
  })

  it('takes the shared value when its own write is refused, so no two replicas keep different values under one version', async () => {
    const shared = sharedMemory()
    // Without announcements, nothing but the refused write tells the holder that another value won.
    shared.dropAnnouncements = true
    let finish: (value: string) => void = () => {}
    const holder = new Resources({ interval: INTERVAL, jitter: 0, store: replicaStore(shared) })
    const forcing = new Resources({ interval: INTERVAL, jitter: 0, store: replicaStore(shared) })
    holder.define('k', () => new Promise<string>((resolve) => (finish = resolve)))
    forcing.define('k', () => 'forced')
    // The holder takes the lease and loads slowly; an explicit refresh elsewhere loads without it.
    const held = holder.resource('k').refresh()
    await vi.advanceTimersByTimeAsync(0)
    expect(shared.leases.has('k')).toBe(true)
    await forcing.resource('k').refresh()
    expect(shared.entries.get('k')).toMatchObject({ value: 'forced', version: 1 })
    // The holder's token is the same version: the store keeps the first write and refuses its own.
    finish('held')
    await held
    await vi.waitFor(() => expect(holder.get('k')).toBe('forced'))
    expect(shared.entries.get('k')).toMatchObject({ value: 'forced', version: 1 })
    expect(holder.resource('k').peek()).toMatchObject({ version: 1, source: 'fleet' })
    await holder.stop()
    await forcing.stop()
  })

  it('lets another replica take over soon after the lease expires when the lease holder dies mid-load', async () => {
    const shared = sharedMemory()
    // The first replica's process "dies" mid-load: it never renews, releases or writes again.
    const dying = replicaStore(shared, 3_000)
    const silent = () => new Promise<never>(() => {})
    const zombie: FleetStore = {
      ...dying,
      set: silent,
      fleet: {
        ...dying.fleet,
        acquire: async (name, floor) => {
          const lease = await dying.fleet.acquire(name, floor)
          return lease && { token: lease.token, renew: silent, release: silent }
        },
      },
    }
    const first = new Resources({ interval: INTERVAL, timeout: 60_000, store: zombie })
    first.define('k', () => silent())
    void first.start()
    await vi.advanceTimersByTimeAsync(10)
    expect(shared.leases.get('k')).toBeDefined()
    void first.stop()

    const [survivor] = fleet(shared, 1, ['k'], () => 'fresh')
    void survivor!.resources.start()
    const diedAt = Date.now()
    await vi.waitFor(
      () => {
        vi.advanceTimersByTime(100)
        expect(survivor!.resources.resource('k').peek().hasValue).toBe(true)
      },
      { timeout: 5_000, interval: 1 },
    )
    // It found the lease taken at start, so it checks again every third of the lease (± jitter), not
    // every interval: it takes over soon after the lease expires.
    expect(Date.now() - diedAt).toBeLessThanOrEqual(3_000 + 1_000 * 1.1 + 200)
    expect(survivor!.resources.get('k')).toBe('fresh')
    await survivor!.resources.stop()
  })

  it("gets the value soon after another replica loaded it, when that replica's announcement is lost", async () => {
    const shared = sharedMemory()
    shared.dropAnnouncements = true
    const slow = (ctx: LoadContext<unknown>) =>
      new Promise((resolve) => setTimeout(() => resolve(`loaded by ${ctx.name}`), 2_000))
    const [holder, late] = fleet(shared, 2, ['s'], slow)
    void holder!.resources.start()
    await vi.advanceTimersByTimeAsync(10)
    expect(shared.leases.get('s')).toBeDefined()
    // The second replica starts while the first holds the lease: it waits for the shared value.
    let ready = false
    void late!.resources.start({ wait: true }).then(() => {
      ready = true
    })
    await vi.advanceTimersByTimeAsync(2_000)
    expect(shared.entries.get('s')).toBeDefined() // the holder's value is shared by now
    const sharedAt = Date.now()
    await vi.waitFor(
      () => {
        vi.advanceTimersByTime(10)
        expect(ready).toBe(true)
      },
      { timeout: 5_000, interval: 1 },
    )
    // Its next check comes a third of the lease (3 s, ± jitter) after the last, not an interval later.
    expect(Date.now() - sharedAt).toBeLessThanOrEqual(1_000 * 1.1 + 20)
    expect(late!.resources.get('s')).toBe('loaded by s')
    expect(late!.calls).toBe(0)
    for (const r of [holder!, late!]) await r.resources.stop()
  })

  it('hears announcements again after stop() and start(), once each', async () => {
    const shared = sharedMemory()
    const writer = new Resources({ interval: INTERVAL, jitter: 0, store: replicaStore(shared) })
    let written = 0
    const writerRates = writer.define('rates', () => `v${++written}`)
    const reader = new Resources({ interval: INTERVAL, jitter: 0, store: replicaStore(shared) })
    let readerCalls = 0
    const rates = reader.define('rates', () => {
      readerCalls++
      return 'own'
    })
    await writer.start({ wait: true })
    await reader.start({ wait: true }) // takes the shared value, v1
    await reader.stop()
    expect(shared.listeners.size).toBe(1) // the writer's: the stopped reader no longer listens
    await reader.start()
    expect(shared.listeners.size).toBe(2)
    const changes: unknown[] = []
    reader.on('change', (e) => changes.push([e.value, e.source]))
    await writerRates.refresh()
    await vi.advanceTimersByTimeAsync(10) // far less than an interval: the announcement brought it
    expect(rates.get()).toBe('v2')
    expect(rates.peek().version).toBe(2)
    expect(changes).toEqual([['v2', 'fleet']])
    expect(readerCalls).toBe(0)
    await Promise.all([writer.stop(), reader.stop()])
  })

  it("keeps a replica's snapshot layer up to date with the values it takes from the fleet", async () => {
    const shared = sharedMemory()
    const snapshots = [memoryStore(), memoryStore()]
    const [writer, reader] = snapshots.map(
      (snapshot) =>
        new Resources({
          interval: INTERVAL,
          jitter: 0,
          store: layeredStore(replicaStore(shared), snapshot),
        }),
    ) as [Resources, Resources]
    let n = 0
    const written = writer.define('rates', () => `v${++n}`)
    let readerCalls = 0
    reader.define('rates', () => {
      readerCalls++
      return 'own'
    })
    await writer.start({ wait: true })
    await reader.start({ wait: true })
    await written.refresh()
    await vi.advanceTimersByTimeAsync(10)
    expect(reader.get('rates')).toBe('v2')
    expect(readerCalls).toBe(0)
    // The reader loaded nothing, yet its snapshot holds the fleet's latest value.
    expect(await snapshots[1]!.get('rates')).toMatchObject({ value: 'v2', version: 2 })
    expect(await snapshots[0]!.get('rates')).toMatchObject({ value: 'v2', version: 2 })
    await Promise.all([writer.stop(), reader.stop()])
  })

  it('never starts a load for a refresh() that raced stop()', async () => {
    const shared = sharedMemory()
    const [replica] = fleet(shared, 1, ['r'])
    const refreshed = replica!.resources.resource('r').refresh()
    await replica!.resources.stop()
    await expect(refreshed).rejects.toMatchObject({ code: 'E_STOPPED' })
    expect(replica!.calls).toBe(0)
  })

  it('refuses the write of a holder that lost its lease, and keeps the newer value', async () => {
    const shared = sharedMemory()
    const store = replicaStore(shared)
    const lease = await store.fleet.acquire('v', 0)
    shared.leases.delete('v') // expired while paused
    const other = await replicaStore(shared).fleet.acquire('v', 0)
    expect(other!.token).toBeGreaterThan(lease!.token)
    await store.set('v', { value: 'newer', version: other!.token, loadedAt: 2 })
    expect(await store.set('v', { value: 'late', version: lease!.token, loadedAt: 1 })).toBe(false)
    expect(shared.entries.get('v')!.value).toBe('newer')
  })

  it('loads alone while the shared store is down, and coordinates again when it is back', async () => {
    const shared = sharedMemory()
    const errors: unknown[] = []
    const replicas = fleet(shared, 2, ['z'])
    for (const r of replicas) r.resources.on('error', (e) => errors.push(e))
    for (const r of replicas) void r.resources.start()
    await vi.advanceTimersByTimeAsync(2 * INTERVAL)
    shared.down = true
    const before = totalCalls(replicas)
    await vi.advanceTimersByTimeAsync(10 * INTERVAL)
    // Each replica keeps its value fresh on its own: about one call each per interval.
    expect(totalCalls(replicas) - before).toBeGreaterThanOrEqual(16)
    for (const r of replicas) expect(r.resources.resource('z').peek().status).toBe('ready')
    shared.down = false
    await vi.advanceTimersByTimeAsync(2 * INTERVAL)
    const resumed = totalCalls(replicas)
    await vi.advanceTimersByTimeAsync(10 * INTERVAL)
    expect(totalCalls(replicas) - resumed).toBeLessThanOrEqual(12)
    expect(errors).toEqual([]) // store trouble is not a load failure
    for (const r of replicas) await r.resources.stop()
  })

  it('converges even when every announcement is lost', async () => {
    const shared = sharedMemory()
    shared.dropAnnouncements = true
    const replicas = fleet(shared, 3, ['q'])
    for (const r of replicas) void r.resources.start()
    await vi.advanceTimersByTimeAsync(10 * INTERVAL)
    const versions = replicas.map((r) => r.resources.resource('q').peek().version)
    const newest = shared.entries.get('q')!.version
    // Without announcements a replica learns a new version at its next check, within an interval.
    for (const v of versions) expect(newest - v).toBeLessThanOrEqual(1)
    // And the shared load time alone keeps the fleet to about one call per interval.
    expect(totalCalls(replicas) / 10).toBeLessThan(1.3)
    for (const r of replicas) await r.resources.stop()
  })

  it('keeps versions above what replicas have seen after the shared store lost its data', async () => {
    const shared = sharedMemory()
    const replicas = fleet(shared, 2, ['w'])
    for (const r of replicas) void r.resources.start()
    await vi.advanceTimersByTimeAsync(5 * INTERVAL)
    const seen = Math.max(...replicas.map((r) => r.resources.resource('w').peek().version))
    shared.entries.clear()
    shared.fences.clear()
    shared.leases.clear()
    await vi.advanceTimersByTimeAsync(3 * INTERVAL)
    const entry = shared.entries.get('w') as StoreEntry
    expect(entry.version).toBeGreaterThan(seen)
    for (const r of replicas) {
      const v = r.versions.get('w')!
      expect(v).toEqual([...v].sort((a, b) => a - b))
    }
    for (const r of replicas) await r.resources.stop()
  })
})
