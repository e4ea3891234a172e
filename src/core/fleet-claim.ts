import { type Scheduler, Task } from '../scheduling/scheduler.js'
import type { Timeline } from '../scheduling/timeline.js'
import type { FleetCoordinator, Lease } from '../stores/fleet.js'
import type { StoreEntry } from '../stores/store.js'
import { LoadAbortedError } from './errors.js'
import type { Load } from './load.js'
import type { Settings } from './options.js'
import { trustedLoadedAt } from './persistence.js'
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
  /** Writes the value held under the current version (no catch-up); never rejects. */
  saveAgain(): Promise<void>
  /** Keeps `work` for `stop()` to wait on. */
  track(work: Promise<void>): void
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
  /** The read of the shared entry under way, if any: at most one per resource. */
  #fetching: Promise<void> | undefined = undefined
  /** The highest version announced while that read was under way (0: none). */
  #announcedSince = 0
  /** The shared entry is an older load than ours under a version at least ours: ours is to be written above it. */
  #republish = false

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
    let asked = 0
    try {
      const head = await fleet.head(owner.name)
      if (owner.closed) return undefined
      if (head !== undefined && head.version > owner.state.version) await this.adopt()
      // Judged by the newest value known: the head just read, or a newer one this replica took
      // while reading it (another replica's announcement), or its own when that is a later load.
      // Judged by that older head, the value would look due, and the lease below, asked with the
      // newer version as its floor, would be granted: a second load right after another replica's.
      // A value restored at start does not count: as outside fleet mode, a start with nothing
      // shared loads. A shared load time is never later than now (a clock ahead is not trusted).
      const state = owner.state
      const now = owner.time.now()
      let loadedAt: number | undefined
      if (head !== undefined && head.version >= state.version) {
        loadedAt = trustedLoadedAt(head.loadedAt, now, owner.time)
        // The value held is that entry: it was loaded no later than when this replica took it (a
        // load time clamped to now when it was taken must not be clamped again to a later now).
        if (head.version === state.version && state.hasValue && state.updatedAt < loadedAt)
          loadedAt = state.updatedAt
      } else if (state.hasValue && state.source !== 'store') loadedAt = state.updatedAt
      if (loadedAt !== undefined && !force && isFresh(owner.settings, loadedAt, now)) {
        owner.scheduleAfter(loadedAt)
        owner.settledWithoutLoad()
        if (this.#republish) owner.track(this.#writeOursAbove())
        return undefined
      }
      // The floor is what this replica has seen: a shared version it could not adopt (say, a value it
      // cannot decode) counts too, or the lease would be refused forever and nobody would replace it.
      // The lease is counted from before it was asked for, on the monotonic clock (see #leaseUntil).
      asked = owner.time.now()
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
    const load = owner.startLoad(lease)
    if (lease !== undefined && load.lease === lease) load.leaseUntil = asked + fleet.leaseTtl
    return load
  }

  /**
   * Another replica announced `version`: fetch it if it is newer than ours. Announcements no newer
   * than what is held, or than what the read under way will bring, are dropped: at most one read of
   * the shared entry is in flight per resource, and one more after it if a newer version was announced
   * meanwhile, so a flood of announcements (forged ones included) costs a handful of reads.
   */
  announced(version: number): void {
    if (version <= this.#owner.state.version || this.#owner.closed) return
    if (this.#fetching !== undefined) {
      if (version > this.#announcedSince) this.#announcedSince = version
      return
    }
    void this.adopt()
  }

  /** Fetches the shared entry and takes it if it is newer than ours; joins the read under way. */
  adopt(): Promise<void> {
    if (this.#fetching !== undefined) return this.#fetching
    this.#announcedSince = 0
    const fetching = this.#fetch()
    this.#fetching = fetching
    return fetching
  }

  async #fetch(): Promise<void> {
    const owner = this.#owner
    let read = 0
    try {
      const entry = await owner.read()
      if (entry !== undefined && !owner.closed) {
        read = entry.version
        this.#take(entry, false)
      }
    } finally {
      this.#fetching = undefined
      const since = this.#announcedSince
      this.#announcedSince = 0
      if (since > read && since > owner.state.version && !owner.closed) void this.adopt()
      else if (this.#republish && owner.inflight === undefined && this.claiming === undefined)
        owner.track(this.#writeOursAbove())
    }
  }

  /** Fleet mode: the store refused our write. Takes the shared entry, unless it is an older load. */
  async adoptRefused(): Promise<void> {
    const owner = this.#owner
    const entry = await owner.read()
    if (entry !== undefined && !owner.closed) this.#take(entry, true)
  }

  /**
   * Takes a shared entry of a newer version (or of ours, with `sameVersion`: the store refused our
   * write of it), unless it was loaded earlier than the value held: a replica's value never goes back
   * to an older load (the store lost its data and tokens were handed out again, a write made during an
   * outage, two writes of one version). Then its version is taken as seen, and ours is to be written
   * above it ({@link #writeOursAbove}), so no two replicas keep different values under one version.
   */
  #take(entry: StoreEntry, sameVersion: boolean): void {
    const owner = this.#owner
    const state = owner.state
    if (!takesShared(state, entry.version, sameVersion)) return
    const now = owner.time.now()
    const trusted = trustedLoadedAt(entry.loadedAt, now, owner.time)
    const loadedAt = Number.isNaN(trusted) ? now : trusted
    // Load times travel as whole milliseconds: one under a millisecond earlier counts as the same.
    if (state.hasValue && loadedAt < state.updatedAt - 1) {
      owner.apply({ type: 'seen', version: entry.version })
      this.#republish = true
      return
    }
    const previous = state.value
    const replaced = owner.apply({
      type: 'synced',
      value: entry.value as T,
      version: entry.version,
      loadedAt,
      equals: safeEquals(owner.settings.equals as (a: T, b: T) => boolean),
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
   * A write of ours landed or was refused, and its lease (if any) was handed back: if the fleet keeps
   * an older load than ours under our version or above, write ours above it now.
   */
  afterWrite(): Promise<void> {
    return this.#republish && this.#owner.inflight === undefined ? this.#writeOursAbove() : Promise.resolve()
  }

  /**
   * Writes the value held under a new lease's token (above the shared version), so the fleet takes it.
   * If the lease is taken, another replica is loading: its value will be newer still.
   */
  async #writeOursAbove(): Promise<void> {
    this.#republish = false
    const owner = this.#owner
    let lease: Lease | undefined
    try {
      lease = await this.#fleet.acquire(owner.name, owner.state.version)
    } catch (error) {
      owner.storeFailed('coordinate', error)
      return
    }
    if (lease === undefined) return
    if (!owner.closed && owner.inflight === undefined) {
      owner.apply({ type: 'seen', version: lease.token })
      await owner.saveAgain()
    }
    await this.release(lease)
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
    const asked = owner.time.now()
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
          load.leaseUntil = asked + this.#fleet.leaseTtl
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

/** `equals` that never throws: a throw counts as "different", so the shared value is taken whole. */
function safeEquals<T>(equals: (a: T, b: T) => boolean): (a: T, b: T) => boolean {
  return (a, b) => {
    try {
      return equals(a, b) === true
    } catch {
      return false
    }
  }
}
