import { type Scheduler, Task } from '../scheduling/scheduler.js'
import type { Timeline } from '../scheduling/timeline.js'
import type { FleetCoordinator, Lease } from '../stores/fleet.js'
import type { StoreEntry } from '../stores/store.js'
import { LoadAbortedError } from './errors.js'
import type { Load } from './load.js'
import type { Settings } from './options.js'
import type { ResourceAction, ResourceState, ValueSource } from './state.js'
import { takesShared } from './state.js'
import { isFresh, leaseRecheckDelay } from './timing.js'

/** What the fleet claim needs from the resource it coordinates. */
export interface ClaimOwner<T> {
  readonly name: string
  readonly state: ResourceState<T>
  readonly settings: Settings
  readonly time: Timeline
  readonly scheduler: Scheduler
  readonly closed: boolean
  /** The load in flight (or queued), if any. */
  readonly inflight: Load<T> | undefined
  /** The restore under way, if any: the claim waits for it. */
  readonly restoring: Promise<void> | undefined
  /** Whether the next refresh is scheduled (no load, no claim under way). */
  readonly refreshScheduled: boolean
  apply(action: ResourceAction<T>): boolean
  changed(previous: T | undefined, source: ValueSource): void
  startLoad(lease?: Lease): Load<T>
  /** Schedules the next check `base` ms from now (jittered). */
  schedule(base: number): void
  /** Schedules the next check one jittered interval after the monotonic `loadedAt`. */
  scheduleAfter(loadedAt: number): void
  /** The claim ended without a load: the first settle, if the resource has a value. */
  settledWithoutLoad(): void
  /** The claim is over, whatever it decided. */
  claimEnded(): void
  read(): Promise<StoreEntry | undefined>
  /** Whether a shared entry may be served (schema version, `validate`): its value to serve, or `undefined`. */
  admit(entry: StoreEntry, source: 'fleet'): Promise<{ value: unknown } | undefined>
  failed(load: Load<T>, error: unknown): void
  storeFailed(op: string, error: unknown): void
}

/**
 * Fleet mode for one resource: before loading, adopt a newer shared value, skip the load if another
 * replica refreshed recently, otherwise take the lease and load under it; renew the lease while the
 * load runs and release it after. Made only for a resource whose store has a fleet coordinator.
 */
export class FleetClaim<T> {
  readonly #owner: ClaimOwner<T>
  readonly #fleet: FleetCoordinator
  /** The check of the shared entry (and lease attempt) under way, if any. */
  claiming: Promise<Load<T> | undefined> | undefined = undefined
  /** The version of the last entry the owner refused to serve: such a shared entry is never fresh. */
  refusedVersion = 0

  constructor(owner: ClaimOwner<T>, fleet: FleetCoordinator) {
    this.#owner = owner
    this.#fleet = fleet
  }

  /**
   * Asks the fleet whether to load. `force` (an explicit refresh) loads even when the shared value is
   * fresh or the lease is taken. If the store fails, the replica loads on its own, so it keeps fresh
   * values while the fleet cannot coordinate. Joins a claim under way.
   */
  claim(force: boolean): Promise<Load<T> | undefined> {
    this.claiming ??= this.#coordinate(force).finally(() => {
      this.claiming = undefined
      this.#owner.claimEnded()
    })
    return this.claiming
  }

  async #coordinate(force: boolean): Promise<Load<T> | undefined> {
    const owner = this.#owner
    const fleet = this.#fleet
    if (owner.restoring !== undefined) await owner.restoring
    let lease: Lease | undefined
    try {
      const head = await fleet.head(owner.name)
      if (owner.closed) return undefined
      if (head !== undefined && head.version > owner.state.version) await this.adopt()
      // Judged by the newest value known: the head just read, or a newer one this replica took
      // while reading it (another replica's announcement). Judged by that older head, the value
      // would look due, and the lease below, asked with the newer version as its floor, would be
      // granted: a second load right after another replica's. A value restored at start does not
      // count: as outside fleet mode, a start with nothing shared loads.
      const state = owner.state
      // A shared entry this replica refused does not count either: it must load its own.
      const loadedAt =
        head !== undefined && head.version >= state.version && head.version !== this.refusedVersion
          ? owner.time.fromWall(head.loadedAt)
          : state.hasValue && state.source !== 'store'
            ? state.updatedAt
            : undefined
      if (loadedAt !== undefined && !force && isFresh(owner.settings, loadedAt, owner.time.now())) {
        owner.scheduleAfter(loadedAt)
        owner.settledWithoutLoad()
        return undefined
      }
      // The floor is what this replica has seen: a shared version it could not adopt (say, a value it
      // cannot decode) counts too, or the lease would be refused forever and nobody would replace it.
      lease = await fleet.acquire(owner.name, Math.max(owner.state.version, head?.version ?? 0))
    } catch (error) {
      owner.storeFailed('coordinate', error)
      return owner.closed ? undefined : owner.startLoad()
    }
    if (owner.closed || owner.inflight !== undefined) {
      if (lease !== undefined) this.release(lease)
      return owner.inflight
    }
    if (lease === undefined && !force) {
      // Another replica is loading: its announcement normally brings the value, and then replaces
      // this check. Announcements can be lost (pub/sub is at-most-once, and a subscription is not
      // live at once), and the holder can die, so check again after a third of the lease, not a
      // whole interval: a replica starting empty gets the value soon, and a takeover comes soon after
      // the lease expires.
      owner.schedule(leaseRecheckDelay(owner.settings, fleet.leaseTtl))
      owner.settledWithoutLoad()
      return undefined
    }
    return owner.startLoad(lease)
  }

  /** Another replica announced `version`: fetch it if it is newer than ours. */
  announced(version: number): void {
    if (version <= this.#owner.state.version || this.#owner.closed) return
    void this.adopt()
  }

  /** Fetches the shared entry and takes it if it is newer than ours (or as new, with `sameVersion`). */
  async adopt(sameVersion = false): Promise<void> {
    const owner = this.#owner
    const entry = await owner.read()
    if (entry === undefined || owner.closed) return
    if (!takesShared(owner.state, entry.version, sameVersion)) return
    const admitted = await owner.admit(entry, 'fleet')
    if (admitted === undefined) return
    if (owner.closed || !takesShared(owner.state, entry.version, sameVersion)) return
    const previous = owner.state.value
    const loadedAt = owner.time.fromWall(entry.loadedAt)
    const replaced = owner.apply({
      type: 'synced',
      value: admitted.value as T,
      version: entry.version,
      loadedAt,
      equals: owner.settings.equals as (a: T, b: T) => boolean,
      sameVersion,
    })
    if (replaced) owner.changed(previous, 'fleet')
    // The next check follows the shared refresh, so this replica does not reload what was just loaded.
    if (owner.inflight === undefined && this.claiming === undefined && owner.refreshScheduled) {
      owner.scheduleAfter(loadedAt)
    }
    owner.settledWithoutLoad()
  }

  /**
   * A value was given to `set()`: it is written under the next fencing token (without waiting for the
   * lease, so a load begun elsewhere under an earlier token cannot write over it) and announced by
   * the write. Skipped if the value was replaced meanwhile (the newer one is written by its own path).
   */
  async push(save: () => Promise<void>): Promise<void> {
    const owner = this.#owner
    const fleet = this.#fleet
    const value = owner.state.value
    if (fleet.token !== undefined) {
      let token: number | undefined
      try {
        token = await fleet.token(owner.name, owner.state.version)
      } catch (error) {
        owner.storeFailed('take a fencing token for', error)
      }
      if (owner.closed || owner.state.value !== value || owner.state.source !== 'set') return
      if (token !== undefined) owner.apply({ type: 'seen', version: token })
    }
    await save()
  }

  /** Renews the lease of `load` every third of its time to live, from the monotonic time `now`. */
  startRenewal(load: Load<T>, now: number): void {
    load.renewal = new Task(() => this.#renew(load))
    this.#owner.scheduler.schedule(load.renewal, this.#fleet.leaseTtl / 3, now)
  }

  #renew(load: Load<T>): void {
    const lease = load.lease
    if (lease === undefined || load.settled) return
    const owner = this.#owner
    const lost = (cause?: unknown) => {
      if (load.settled) return
      const error = new LoadAbortedError(owner.name, 'its fleet lease was lost')
      if (cause !== undefined) owner.storeFailed('renew the lease of', cause)
      load.abort(error)
      owner.failed(load, error)
    }
    lease.renew().then(
      (held) => {
        if (!held) lost()
        else if (!load.settled && load.renewal !== undefined) {
          owner.scheduler.schedule(load.renewal, this.#fleet.leaseTtl / 3)
        }
      },
      (error: unknown) => lost(error),
    )
  }

  /** Hands the lease back (so another replica can take over at once); never rejects. */
  release(lease: Lease): Promise<void> {
    return lease.release().then(undefined, (error: unknown) => {
      this.#owner.storeFailed('release the lease of', error)
    })
  }
}
