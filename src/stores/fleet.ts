// The coordination seam of fleet mode, apart from the value store it usually shares a connection with.

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
  /**
   * Optional: the next fencing token of `name` without taking the lease (one above the token counter,
   * the stored version and `floor`, and the counter set to it), for a value pushed with
   * `resource.set()`: written under it, it wins over a load begun under an earlier lease. Without it,
   * a pushed value is written with the next version this replica knows.
   */
  token?(name: string, floor: number): Promise<number>
  /** Calls `listener(name, version)` when another replica announces a new version. Returns unsubscribe. */
  watch(listener: (name: string, version: number) => void): () => void
}
