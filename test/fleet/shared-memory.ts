// An in-process stand-in for a shared store with leases and announcements, so the core's fleet
// logic can be tested with fake timers. Redis itself is tested in test/redis/.
import type { FleetStore, StoreEntry } from '../../src/index.js'

export interface SharedMemory {
  entries: Map<string, StoreEntry>
  leases: Map<string, { owner: number; token: number; expiresAt: number }>
  fences: Map<string, number>
  listeners: Set<{ owner: number; listener: (name: string, version: number) => void }>
  /** When true, every call of every replica rejects, as if the server were down. */
  down: boolean
  /** Announcements are dropped while true (lossy pub/sub). */
  dropAnnouncements: boolean
}

export function sharedMemory(): SharedMemory {
  return {
    entries: new Map(),
    leases: new Map(),
    fences: new Map(),
    listeners: new Set(),
    down: false,
    dropAnnouncements: false,
  }
}

let owners = 0

/** One replica's view of the shared memory. */
export function replicaStore(shared: SharedMemory, leaseTtl = 3_000): FleetStore {
  const owner = ++owners
  const guard = async <T>(fn: () => T): Promise<T> => {
    await Promise.resolve()
    if (shared.down) throw new Error('shared store is down')
    return fn()
  }
  const leaseHeld = (name: string) => {
    const lease = shared.leases.get(name)
    return lease !== undefined && lease.expiresAt > Date.now() ? lease : undefined
  }
  return {
    get: (name) => guard(() => shared.entries.get(name)),
    set: (name, entry) =>
      guard(() => {
        const current = shared.entries.get(name)
        if (current !== undefined && current.version >= entry.version) return false
        shared.entries.set(name, entry)
        if (!shared.dropAnnouncements) {
          for (const l of shared.listeners) if (l.owner !== owner) l.listener(name, entry.version)
        }
        return true
      }),
    delete: (name) => guard(() => void shared.entries.delete(name)),
    list: () => guard(() => [...shared.entries.keys()]),
    close: async () => {
      for (const l of shared.listeners) if (l.owner === owner) shared.listeners.delete(l)
    },
    fleet: {
      leaseTtl,
      head: (name) =>
        guard(() => {
          const e = shared.entries.get(name)
          return e === undefined ? undefined : { version: e.version, loadedAt: e.loadedAt }
        }),
      acquire: (name, floor) =>
        guard(() => {
          if (leaseHeld(name) !== undefined) return undefined
          if ((shared.entries.get(name)?.version ?? 0) > floor) return undefined
          const token =
            Math.max(shared.fences.get(name) ?? 0, shared.entries.get(name)?.version ?? 0, floor) + 1
          shared.fences.set(name, token)
          shared.leases.set(name, { owner, token, expiresAt: Date.now() + leaseTtl })
          const mine = () => {
            const l = leaseHeld(name)
            return l !== undefined && l.owner === owner && l.token === token ? l : undefined
          }
          return {
            token,
            renew: () =>
              guard(() => {
                const l = mine()
                if (l !== undefined) l.expiresAt = Date.now() + leaseTtl
                return l !== undefined
              }),
            release: () =>
              guard(() => {
                if (mine() !== undefined) shared.leases.delete(name)
              }),
          }
        }),
      watch(listener) {
        const entry = { owner, listener }
        shared.listeners.add(entry)
        return () => shared.listeners.delete(entry)
      },
    },
  }
}
