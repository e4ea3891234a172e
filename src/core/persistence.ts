import type { Timeline } from '../scheduling/timeline.js'
import type { Store, StoreEntry } from '../stores/store.js'
import { both, callAsync } from './async.js'
import type { ResourceAction, ResourceState } from './state.js'

/** What persistence needs from the resource it saves. */
export interface PersistenceOwner<T> {
  readonly name: string
  readonly state: ResourceState<T>
  readonly time: Timeline
  /** Whether the resource was stopped or removed: a late read or refusal is then ignored. */
  readonly closed: boolean
  apply(action: ResourceAction<T>): boolean
  /** A saved entry was read at start. */
  restored(entry: StoreEntry): void
  /** The read at start is over, whatever it found. */
  restoreEnded(): void
  /** Fleet mode: the store refused our write; the shared entry is to be taken. */
  adoptRefused(): Promise<void>
  /** Whether the resource runs in fleet mode. */
  readonly inFleet: boolean
  storeFailed(op: string, error: unknown): void
}

/**
 * The `loadedAt` saved for a value held since the monotonic time `updatedAt`: wall time, whole
 * milliseconds, for the store outlives this process and its monotonic origin.
 */
export function savedLoadedAt(updatedAt: number, time: Timeline): number {
  return Math.round(time.toWall(updatedAt))
}

/**
 * The monotonic time of a `loadedAt` read from a store (a restore, another replica's entry), never
 * later than `now`: a load time from a clock ahead of ours, or forged, is not trusted to make a value
 * look younger than the moment we took it. `NaN` stays `NaN` (an unknown time counts as too old).
 */
export function trustedLoadedAt(loadedAt: number, now: number, time: Timeline): number {
  const at = time.fromWall(loadedAt)
  return Math.min(at, now)
}

/**
 * The age, at the monotonic time `now`, of a value saved with the wall time `loadedAt`, and that
 * time on the monotonic timeline. Never negative: see {@link trustedLoadedAt}.
 */
export function restoredAt(loadedAt: number, now: number, time: Timeline): { at: number; age: number } {
  const at = trustedLoadedAt(loadedAt, now, time)
  return { at, age: now - at }
}

/**
 * The version to take after the store refused a write outside fleet mode and holds `entry`: one
 * above it when the value held here is at least as recent (ours is saved again under it), else its own.
 * `loadedAt` and `updatedAt` are both monotonic.
 */
export function catchUpVersion(
  entryVersion: number,
  entryLoadedAt: number,
  hasValue: boolean,
  updatedAt: number,
): { version: number; saveAgain: boolean } {
  const ours = hasValue && !(entryLoadedAt > updatedAt)
  return { version: ours ? entryVersion + 1 : entryVersion, saveAgain: ours }
}

/**
 * A resource's saved value: restore at start, save after each load, catch up after a refused write.
 * Made only for a resource that has a store and persists.
 */
export class Persistence<T> {
  readonly #owner: PersistenceOwner<T>
  readonly #store: Store
  /** The read of the saved entry at start, while it is under way: a first load waits for it. */
  restoring: Promise<void> | undefined = undefined
  /** The writes still in flight (and lease releases after them): `stop()` lets them land. */
  saving: Promise<void> | undefined = undefined

  constructor(owner: PersistenceOwner<T>, store: Store) {
    this.#owner = owner
    this.#store = store
  }

  /** Reads the saved entry; hands it to the owner unless it was stopped meanwhile. */
  restore(): void {
    if (this.restoring !== undefined) return
    const owner = this.#owner
    this.restoring = callAsync(() => this.#store.get(owner.name)).then(
      (saved) => {
        this.restoring = undefined
        if (saved !== undefined && !owner.closed) owner.restored(saved)
        owner.restoreEnded()
      },
      (error: unknown) => {
        this.restoring = undefined
        owner.storeFailed('read', error)
        owner.restoreEnded()
      },
    )
  }

  /** The saved entry, or `undefined` when there is none or it could not be read (reported). */
  async read(): Promise<StoreEntry | undefined> {
    try {
      return await this.#store.get(this.#owner.name)
    } catch (error) {
      this.#owner.storeFailed('read', error)
      return undefined
    }
  }

  /**
   * Saves the value; the returned promise never rejects (failures are reported). `catchUp`: if the
   * store refuses the write outside fleet mode, learn its version and save again (once).
   */
  save(catchUp = true): Promise<void> {
    const owner = this.#owner
    const { value, version, updatedAt } = owner.state
    const entry: StoreEntry = { value, version, loadedAt: savedLoadedAt(updatedAt, owner.time) }
    const written = this.#afterWrite(
      callAsync(() => this.#store.set(owner.name, entry)),
      catchUp,
    )
    this.track(written)
    return written
  }

  /**
   * Deletes the saved entry once the writes in flight have landed (so none of them brings it back).
   * Resolves when done; never rejects: a failure goes to `failed`.
   */
  forget(failed: (error: unknown) => void): Promise<void> {
    const name = this.#owner.name
    const saving = this.saving ?? Promise.resolve()
    return saving.then(() => this.#store.delete(name)).then(undefined, (error: unknown) => failed(error))
  }

  /** Keeps `work` (a write, a release) for `stop()` to wait on until it is done. */
  track(work: Promise<void>): void {
    const all = both(this.saving, work)
    this.saving = all
    void all.then(() => {
      if (this.saving === all) this.saving = undefined
    })
  }

  /**
   * Reports a failed write, and follows a refused one. In fleet mode a refused write means the store
   * holds a version at least as new: most often another replica's, and possibly of the same version
   * (a `refresh()` loads without the lease when another replica holds it, and both take the next
   * version). The shared entry is then taken, so no two replicas keep different values under one
   * version. Outside fleet mode, see {@link #catchUp}.
   */
  #afterWrite(write: Promise<boolean>, catchUp: boolean): Promise<void> {
    const owner = this.#owner
    return write.then(
      (written) => {
        if (written !== false || owner.closed) return undefined
        if (owner.inFleet) return owner.adoptRefused()
        return this.#catchUp(catchUp)
      },
      (error: unknown) => owner.storeFailed('write', error),
    )
  }

  /**
   * Outside fleet mode the store refuses a write when it holds a version at least as high: the
   * process could not read the saved entry at start (so its versions began again at 1), or another
   * process writes the same entry. Left alone, every write would be refused until the versions caught
   * up, and the saved value would grow old meanwhile. So the stored version is read and taken as
   * known; if the value held here is at least as recent as the stored one, it is saved again under
   * the next version. A second refusal in a row is reported: something else keeps writing newer versions.
   */
  async #catchUp(saveAgain: boolean): Promise<void> {
    const owner = this.#owner
    const entry = await this.read()
    const state = owner.state
    if (entry === undefined || owner.closed || entry.version < state.version) return
    if (!saveAgain) {
      owner.storeFailed(
        'write',
        new Error(`the store keeps a newer version (${entry.version}) than this process writes`),
      )
      return
    }
    const next = catchUpVersion(
      entry.version,
      owner.time.fromWall(entry.loadedAt),
      state.hasValue,
      state.updatedAt,
    )
    owner.apply({ type: 'seen', version: next.version })
    if (next.saveAgain) await this.save(false)
  }
}
