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
  /** Optional: present on stores shared by several replicas (fleet mode). */
  readonly fleet?: FleetCoordinator | undefined
}

/** Version and load time of a shared entry, without its value. */
export interface EntryHead {
  readonly version: number
  readonly loadedAt: number
}

/** The right to refresh one resource for the whole fleet, for a limited time. */
export interface Lease {
  /**
   * The fencing token: greater than every version the store has accepted or the acquirer has seen.
   * The value loaded under this lease is written with this version.
   */
  readonly token: number
  /** Extends the lease. Resolves `false` (or rejects) when it was lost; the load is then aborted. */
  renew(): Promise<boolean>
  /** Gives the lease up if this holder still has it. */
  release(): Promise<void>
}

/**
 * The coordination seam of a shared store (fleet mode): one refresher per resource across every
 * replica, and change notifications. A store that has it exposes it as `store.fleet`.
 */
export interface FleetCoordinator {
  /**
   * How long a lease lasts without renewal, in ms: renewed every third of that while a load runs;
   * replicas that found the lease taken check again after a third of it. Positive and finite.
   */
  readonly leaseTtl: number
  /** The shared entry's version and load time, or `undefined` when there is none. */
  head(name: string): Promise<EntryHead | undefined>
  /**
   * Tries to become the refresher of `name`. `floor` is the highest version this replica has seen,
   * so tokens stay above it even if the store lost its data. `undefined` when another replica holds
   * the lease, or when the stored version is above `floor` (someone refreshed since the caller looked:
   * it should take that value rather than load again).
   */
  acquire(name: string, floor: number): Promise<Lease | undefined>
  /** Calls `listener(name, version)` when another replica announces a new version. Returns unsubscribe. */
  watch(listener: (name: string, version: number) => void): () => void
}

/** A store shared by a fleet of replicas. */
export interface FleetStore extends Store {
  readonly fleet: FleetCoordinator
}
