import type { Clock } from '../scheduling/clock.js'
import type { Codec } from './codec.js'
import type { FleetCoordinator } from './fleet.js'

/** What a store keeps for one resource: its last good value, the version and when it was loaded. */
export interface StoreEntry<T = unknown> {
  /** The last good value. */
  readonly value: T
  /** A positive integer that grows with every successful load of the resource. */
  readonly version: number
  /** Wall-clock time (ms since the epoch) of the load that produced `value`. */
  readonly loadedAt: number
}

/** What a registry hands a store when it starts using it. */
export interface StoreContext {
  /** Reports a problem found in the background (a corrupt file, a failed write) without throwing. */
  reportError(error: unknown, resource?: string): void
  /**
   * The registry's clock: a store arms its timers and reads time through it, so a registry driven by
   * a simulated clock drives its stores too. A store attached to several registries uses the first; without one, the system clock.
   */
  readonly clock?: Clock
}

/**
 * The contract every store implements: the seam for warm restarts (file snapshot) and fleet mode.
 *
 * Writes are fenced: `set` keeps an entry only if its version is newer than the stored one, so a
 * slow or paused writer can never replace newer data. Every method may reject; the registry
 * reports the rejection and keeps serving what it has in memory.
 */
export interface Store {
  /** The saved entry for `name`, or `undefined` when there is none. */
  get(name: string): Promise<StoreEntry | undefined>
  /**
   * Saves `entry` for `name` if its version is greater than the stored one.
   * Resolves `true` when written, `false` when a newer or equal version was kept.
   */
  set(name: string, entry: StoreEntry): Promise<boolean>
  /** Forgets `name`. Deleting an unknown name is not an error. */
  delete(name: string): Promise<void>
  /** Names that have an entry. */
  list(): Promise<string[]>
  /** Flushes pending writes and releases what the store opened. Idempotent. */
  close(): Promise<void>
  /**
   * Optional: makes a store that `close()` closed usable again (it opens what it needs on next use).
   * A registry's `start()` calls it for a store that a `stop()` closed (the stop of the last started
   * registry using it). Without it, such a store stays closed, and a registry started again cannot
   * save to it (each failed write is reported). Called after `close()` settled; does nothing on a
   * store that is open.
   */
  reopen?(): void
  /** Optional: called once by each registry that uses the store, before any other call. */
  attach?(context: StoreContext): void
  /**
   * Optional: how the store turns values into text and back. When present, a registry serves a value
   * it loaded as its round trip through it (`decode(encode(value))`), which is what every other replica
   * and a restarted process read: one value per version everywhere (a `Date` is the same string on
   * every replica, not a `Date` on one). In fleet mode a value it cannot encode fails its load
   * (`LoadError` whose cause is a `StoreError`) and is served by no one; outside fleet mode it is
   * served as loaded, and its write fails and is reported.
   */
  readonly codec?: Codec | undefined
  /** Optional: present on stores shared by several replicas (fleet mode). */
  readonly fleet?: FleetCoordinator | undefined
}

/** A store shared by a fleet of replicas. */
export interface FleetStore extends Store {
  readonly fleet: FleetCoordinator
}
