import type { Clock } from '../scheduling/clock.js'
import type { DeadlineEntry, Deadlines } from '../scheduling/deadlines.js'
import type { Limiter } from '../scheduling/limiter.js'
import { type Scheduler, Task } from '../scheduling/scheduler.js'
import type { FleetCoordinator, Lease, StoreEntry } from '../stores/store.js'
import {
  type EvergreenError,
  ListenerError,
  LoadAbortedError,
  LoadError,
  LoadTimeoutError,
  ResourceNotReadyError,
  ResourceStaleError,
  StoppedError,
  StoreError,
} from './errors.js'
import {
  changeEvent,
  type Emitter,
  errorEvent,
  loadEvent,
  type ResourcesEvents,
  restoreEvent,
} from './events.js'
import { Load, type Loader, type LoadInstrument } from './load.js'
import type { LoadTable } from './load-table.js'
import type { Settings } from './options.js'
import { settle } from './settle.js'
import {
  apply,
  applyLoaded,
  createState,
  type MutableState,
  type ResourceAction,
  type ResourceState,
  type ResourceStatus,
  statusOf,
  takesShared,
  type ValueSource,
} from './state.js'

/** A snapshot of a resource that never throws. */
export interface ResourceSnapshot<T> {
  readonly name: string
  readonly status: ResourceStatus
  readonly value: T | undefined
  readonly hasValue: boolean
  /** The last load error; `undefined` after a success. */
  readonly error: LoadError | undefined
  /** When the current value was loaded (clock ms), or `undefined`. */
  readonly updatedAt: number | undefined
  /** Age of the current value in ms, or `undefined`. */
  readonly age: number | undefined
  /** `'store'` while the value is one restored at start, `'load'` once a load succeeded. */
  readonly source: ValueSource | undefined
  readonly version: number
  readonly loads: number
  readonly failures: number
  readonly consecutiveFailures: number
  /** Whether a load is in flight (or queued for a slot). */
  readonly loading: boolean
  /** When the next scheduled load is due (clock ms), or `undefined` if none is scheduled. */
  readonly nextRefreshAt: number | undefined
  /** When the current run of failures began (clock ms), or `undefined` while the last load succeeded. */
  readonly failingSince: number | undefined
}

export type { LoadContext, Loader } from './load.js'

/** Resolution of a resource's splay phase. */
const PHASES = 2 ** 30

/** Called when the value changes, with the new value and the previous one (`undefined` the first time). */
export type Subscriber<T> = (value: T, previous: T | undefined) => void

/**
 * A resource's refresh task: the scheduler calls `run` with the task as `this`. While a load runs,
 * the task also holds its start and its place among the registry's timeouts: one load runs at a
 * time, and keeping them here rather than on each load makes every load smaller.
 */
export class ResourceTask extends Task implements DeadlineEntry {
  /** When the running load's loader was called (clock ms). */
  startedAt = 0
  deadlinePrev: DeadlineEntry | undefined = undefined
  deadlineNext: DeadlineEntry | undefined = undefined

  constructor(
    // biome-ignore lint/suspicious/noExplicitAny: the task calls back whatever the resource's type
    readonly owner: Resource<any>,
    run: (this: ResourceTask) => void,
  ) {
    super(run)
  }
}

/** What a resource needs from the registry that owns it. */
export interface ResourceHost {
  readonly clock: Clock
  readonly scheduler: Scheduler
  /** Timeouts of the loads in flight. */
  readonly deadlines: Deadlines<ResourceTask>
  readonly limiter: Limiter
  /** The loads in flight, by index (see {@link LoadTable} for why not a field of the resource). */
  // biome-ignore lint/suspicious/noExplicitAny: loads of resources of any type
  readonly loads: LoadTable<Load<any>>
  readonly events: Emitter<ResourcesEvents>
  readonly started: boolean
  /** Wraps each loader call (see the registry's `instrument` option). */
  readonly instrument: LoadInstrument | undefined
  report(error: EvergreenError, resource: string): void
}

/**
 * A named, always-warm value. Created by `Resources.define`; read with {@link Resource.get}.
 * Its state changes only through {@link apply}; everything else here is scheduling around it.
 */
export class Resource<T = unknown> {
  readonly #host: ResourceHost
  readonly #loader: Loader<T>
  readonly #settings: Settings
  readonly #state: MutableState<T> = createState()
  /** The index of the load in flight in the registry's {@link LoadTable}, or -1. */
  #slot = -1
  #subscribers: Set<Subscriber<T>> | undefined
  #readyWaiters: { resolve: (value: T) => void; reject: (error: unknown) => void }[] | undefined
  #firstWaiters: (() => void)[] | undefined
  #firstSettled = false
  /**
   * Where the first refresh falls in the interval, in 1/{@link PHASES}ths: an integer, so the field
   * holds it without a number box. Set by `_start`; until then, the end of the interval.
   */
  #phase = PHASES
  #restoring: Promise<void> | undefined
  /** Fleet mode: the check of the shared entry (and lease attempt) under way, if any. */
  #claiming: Promise<Load<T> | undefined> | undefined
  /** The last write to the store still in flight (and the lease release after it): `stop()` lets it land. */
  #saving: Promise<void> | undefined
  #closed: string | undefined
  /** The next refresh, scheduled only while no load runs; while one runs, its place among the registry's timeouts. */
  readonly #task: ResourceTask

  /** @internal Use `Resources.define`. */
  constructor(
    readonly name: string,
    loader: Loader<T>,
    settings: Settings,
    host: ResourceHost,
  ) {
    this.#loader = loader
    this.#settings = settings
    this.#host = host
    this.#task = new ResourceTask(this, Resource.#onResourceTask)
  }

  /** The load in flight (or queued for a slot), if any. */
  get #inflight(): Load<T> | undefined {
    return this.#host.loads.get(this.#slot)
  }

  /** @internal */
  get settings(): Settings {
    return this.#settings
  }

  /**
   * The last good value, synchronously. Throws `ResourceNotReadyError` before the first value and,
   * when `maxStale` is set, `ResourceStaleError` once the value is older than that.
   */
  get(): T {
    const state = this.#state
    if (state.hasValue && this.#settings.maxStale === Number.POSITIVE_INFINITY) return state.value as T
    return this.#getSlow(state)
  }

  #getSlow(state: ResourceState<T>): T {
    if (!state.hasValue) throw new ResourceNotReadyError(this.name, state.error)
    const age = this.#host.clock.now() - state.updatedAt
    if (age > this.#settings.maxStale)
      throw new ResourceStaleError(this.name, age, this.#settings.maxStale, state.error)
    return state.value as T
  }

  /** A snapshot of the resource that never throws. */
  peek(): ResourceSnapshot<T> {
    const state = this.#state
    const now = this.#host.clock.now()
    return {
      name: this.name,
      status: statusOf(state, now, this.#settings.maxStale),
      value: state.value,
      hasValue: state.hasValue,
      error: state.error,
      updatedAt: state.hasValue ? state.updatedAt : undefined,
      age: state.hasValue ? Math.max(0, now - state.updatedAt) : undefined,
      source: state.source,
      version: state.version,
      loads: state.loads,
      failures: state.failures,
      consecutiveFailures: state.consecutiveFailures,
      loading: this.#inflight !== undefined,
      nextRefreshAt: this.#inflight === undefined && this.#task.scheduled ? this.#task.at : undefined,
      failingSince: state.consecutiveFailures > 0 ? state.failingSince : undefined,
    }
  }

  /**
   * Loads now, or joins the load in flight. Resolves with the new value; rejects with the load's
   * error (a `LoadError`), and the last good value is kept.
   */
  refresh(): Promise<T> {
    if (this.#closed !== undefined) return Promise.reject(new StoppedError(this.name, this.#closed))
    if (this.#inflight === undefined && this.#fleet() !== undefined) {
      return this.#claim(true).then((load) => {
        if (load !== undefined) return load.join()
        // Stopped or removed while the fleet was asked: no load may start any more.
        if (this.#closed !== undefined) throw new StoppedError(this.name, this.#closed)
        return this.#startLoad().join()
      })
    }
    return this.#startLoad().join()
  }

  /** Resolves with the first good value, at once if there is one. Rejects if the resource is removed or stopped first. */
  ready(): Promise<T> {
    if (this.#state.hasValue) return Promise.resolve(this.#state.value as T)
    if (this.#closed !== undefined) return Promise.reject(new StoppedError(this.name, this.#closed))
    return new Promise<T>((resolve, reject) => {
      this.#readyWaiters ??= []
      this.#readyWaiters.push({ resolve, reject })
    })
  }

  /** Calls `listener(value, previous)` on every change of value, the first included. */
  subscribe(listener: Subscriber<T>): () => void {
    if (typeof listener !== 'function')
      throw new TypeError(`subscriber of resource "${this.name}" must be a function`)
    this.#subscribers ??= new Set()
    const entry: Subscriber<T> = (value, previous) => listener(value, previous)
    this.#subscribers.add(entry)
    return () => {
      this.#subscribers?.delete(entry)
    }
  }

  // ---- lifecycle, driven by the registry ------------------------------------------------------

  /**
   * @internal Begins the first load now, not from a timer: our timers are unref'd, so the loader's
   * own I/O is what keeps a script alive while it awaits `start({ wait: true })`.
   */
  _start(index = 0, count = 1): void {
    // The phase is drawn only when splay is on, so a registry without it never calls Math.random.
    if (this.#splay() > 0) this.#phase = Math.floor(((index + Math.random()) / count) * PHASES)
    if (this.#closed !== undefined) return
    if (this.#fleet() === undefined) this.#startLoad()
    else void this.#claim(false)
  }

  /** @internal Fleet mode: another replica announced `version`. */
  _announced(version: number): void {
    if (version <= this.#state.version || this.#closed !== undefined || this.#fleet() === undefined) return
    void this.#adopt()
  }

  /** @internal Resolves once the first load has settled (and any restore with it). */
  _firstSettled(): Promise<void> {
    if (this.#firstSettled || this.#closed !== undefined) return Promise.resolve()
    return new Promise((resolve) => {
      this.#firstWaiters ??= []
      this.#firstWaiters.push(resolve)
    })
  }

  /** @internal The error that leaves the resource without a value, if it has none. */
  _syncError(): LoadError | undefined {
    if (this.#state.hasValue) return undefined
    const why = this.#closed === undefined ? 'no load completed' : `${this.#closed} before it had a value`
    return this.#state.error ?? new LoadAbortedError(this.name, why)
  }

  /** @internal Reads the saved entry from the store, if the resource has one. */
  _restore(): void {
    const { store, persist } = this.#settings
    if (store === undefined || !persist || this.#restoring !== undefined) return
    let entry: Promise<StoreEntry | undefined>
    try {
      entry = store.get(this.name)
    } catch (error) {
      entry = Promise.reject(error)
    }
    this.#restoring = entry.then(
      (saved) => {
        this.#restoring = undefined
        if (saved !== undefined && this.#closed === undefined) this.#applyRestored(saved)
      },
      (error: unknown) => {
        this.#restoring = undefined
        this.#storeFailed('read', error)
      },
    )
  }

  /** @internal Stops refreshing: aborts the load in flight and rejects pending `ready()` calls. */
  _stop(why: string, final: boolean): Promise<void> | undefined {
    this.#host.scheduler.cancel(this.#task)
    const load = this.#inflight
    let done: Promise<void> | undefined
    if (load !== undefined) {
      done = load.done
      const error = new LoadAbortedError(this.name, why)
      load.abort(error)
      this.#settle(load)
      load.reject(error)
      // Handing the lease back lets another replica take over at once instead of after its expiry.
      if (load.lease !== undefined) {
        const released = this.#release(load.lease)
        done = done === undefined ? released : Promise.all([done, released]).then(() => {})
      }
    }
    const waiters = this.#readyWaiters
    this.#readyWaiters = undefined
    if (waiters !== undefined) for (const w of waiters) w.reject(new StoppedError(this.name, why))
    this.#resolveFirst()
    this.#closed = why
    if (final) this.#subscribers = undefined
    // A write still in flight lands before the store is closed (within the same grace as loads).
    const saving = this.#saving
    if (saving !== undefined) done = done === undefined ? saving : Promise.all([done, saving]).then(() => {})
    return done
  }

  /** @internal Allows a stopped (not removed) resource to start again. */
  _reopen(): void {
    this.#closed = undefined
  }

  // ---- loading --------------------------------------------------------------------------------

  /**
   * What every resource's task runs, with the task as `this`: one function for all resources
   * instead of a closure each (a closure and its context cost about 90 bytes per resource).
   */
  static readonly #onResourceTask = function (this: ResourceTask): void {
    this.owner.#onTask()
  }

  #onTask(): void {
    if (this.#inflight !== undefined) return
    if (this.#fleet() === undefined) this.#startLoad()
    else void this.#claim(false)
  }

  // ---- fleet mode -----------------------------------------------------------------------------

  #fleet(): FleetCoordinator | undefined {
    const { store, persist } = this.#settings
    return persist ? store?.fleet : undefined
  }

  /**
   * Before loading in fleet mode: adopt a newer shared value; skip the load if another replica
   * refreshed recently; otherwise take the lease and load under it. `force` (an explicit refresh)
   * loads even when the shared value is fresh or the lease is taken. If the store fails, the
   * replica loads on its own, so it keeps fresh values while the fleet cannot coordinate.
   */
  #claim(force: boolean): Promise<Load<T> | undefined> {
    this.#claiming ??= this.#coordinate(force).finally(() => {
      this.#claiming = undefined
    })
    return this.#claiming
  }

  async #coordinate(force: boolean): Promise<Load<T> | undefined> {
    const fleet = this.#fleet()!
    const host = this.#host
    if (this.#restoring !== undefined) await this.#restoring
    let lease: Lease | undefined
    try {
      const head = await fleet.head(this.name)
      if (this.#closed !== undefined) return undefined
      if (head !== undefined && head.version > this.#state.version) await this.#adopt()
      // Judged by the newest value known: the head just read, or a newer one this replica took
      // while reading it (another replica's announcement). Judged by that older head, the value
      // would look due, and the lease below, asked with the newer version as its floor, would be
      // granted: a second load right after another replica's. A value restored at start does not
      // count: as outside fleet mode, a start with nothing shared loads.
      const state = this.#state
      const loadedAt =
        head !== undefined && head.version >= state.version
          ? head.loadedAt
          : state.hasValue && state.source !== 'store'
            ? state.updatedAt
            : undefined
      const { interval, jitter } = this.#settings
      const fresh = loadedAt !== undefined && host.clock.now() - loadedAt < interval * (1 - jitter)
      if (fresh && !force) {
        this.#scheduleAt(loadedAt)
        this.#resolveFirstIfValue()
        return undefined
      }
      // The floor is what this replica has seen: a shared version it could not adopt (say, a value it
      // cannot decode) counts too, or the lease would be refused forever and nobody would replace it.
      lease = await fleet.acquire(this.name, Math.max(this.#state.version, head?.version ?? 0))
    } catch (error) {
      this.#storeFailed('coordinate', error)
      return this.#closed === undefined ? this.#startLoad() : undefined
    }
    if (this.#closed !== undefined || this.#inflight !== undefined) {
      if (lease !== undefined) this.#release(lease)
      return this.#inflight
    }
    if (lease === undefined && !force) {
      // Another replica is loading: its announcement normally brings the value, and then replaces
      // this check. Announcements can be lost (pub/sub is at-most-once, and a subscription is not
      // live at once), and the holder can die, so check again after a third of the lease, not a
      // whole interval: a replica starting empty gets the value soon, and a takeover comes soon after
      // the lease expires.
      this.#schedule(Math.min(this.#settings.interval, fleet.leaseTtl / 3))
      this.#resolveFirstIfValue()
      return undefined
    }
    return this.#startLoad(lease)
  }

  /** Fetches the shared entry and takes it if it is newer than ours (or as new, with `sameVersion`). */
  async #adopt(sameVersion = false): Promise<void> {
    const entry = await this.#readSaved()
    if (entry === undefined || this.#closed !== undefined) return
    if (!takesShared(this.#state, entry.version, sameVersion)) return
    const previous = this.#state.value
    const replaced = this.#apply({
      type: 'synced',
      value: entry.value as T,
      version: entry.version,
      loadedAt: entry.loadedAt,
      equals: this.#settings.equals as (a: T, b: T) => boolean,
      sameVersion,
    })
    if (replaced) this.#changed(previous, 'fleet')
    // The next check follows the shared refresh, so this replica does not reload what was just loaded.
    if (this.#inflight === undefined && this.#claiming === undefined && this.#task.scheduled) {
      this.#scheduleAt(entry.loadedAt)
    }
    this.#resolveFirstIfValue()
  }

  /** The saved entry, or `undefined` when there is none or it could not be read (reported). */
  async #readSaved(): Promise<StoreEntry | undefined> {
    try {
      return await this.#settings.store!.get(this.name)
    } catch (error) {
      this.#storeFailed('read', error)
      return undefined
    }
  }

  #renew(load: Load<T>): void {
    const lease = load.lease
    if (lease === undefined || load.settled) return
    const lost = (cause?: unknown) => {
      if (load.settled) return
      const error = new LoadAbortedError(this.name, 'its fleet lease was lost')
      if (cause !== undefined) this.#storeFailed('renew the lease of', cause)
      load.abort(error)
      this.#failed(load, error)
    }
    lease.renew().then(
      (held) => {
        if (!held) lost()
        else if (!load.settled && load.renewal !== undefined) {
          this.#host.scheduler.schedule(load.renewal, this.#fleet()!.leaseTtl / 3)
        }
      },
      (error: unknown) => lost(error),
    )
  }

  #release(lease: Lease): Promise<void> {
    return lease.release().then(undefined, (error: unknown) => {
      this.#storeFailed('release the lease of', error)
    })
  }

  /** Reports a store failure, unless the resource was stopped: then the store is closing on purpose. */
  #storeFailed(op: string, error: unknown): void {
    if (this.#closed === undefined) {
      this.#host.report(
        StoreError.wrap(error, `could not ${op} the saved value of resource "${this.name}"`, this.name),
        this.name,
      )
    }
  }

  #resolveFirstIfValue(): void {
    if (this.#state.hasValue) this.#resolveFirst()
  }

  #startLoad(lease?: Lease): Load<T> {
    const current = this.#inflight
    if (current !== undefined) {
      if (lease !== undefined) this.#release(lease)
      return current
    }
    this.#host.scheduler.cancel(this.#task)
    const state = this.#state
    const load = new Load<T>(this, state.value, state.consecutiveFailures + 1)
    load.lease = lease
    this.#slot = this.#host.loads.add(load)
    // A first load waits for the restore, so it sees the saved value as `previous` and its version.
    const restoring = this.#restoring
    if (restoring === undefined) this.#host.limiter.run(load)
    else this.#runAfter(restoring, load)
    return load
  }

  // Closures live in methods of their own, off the hot path: V8 makes a function's closure context
  // on every call as soon as any closure in it captures `this` or a local, even in a branch not taken.

  #runAfter(restoring: Promise<void>, load: Load<T>): void {
    restoring.then(() => {
      if (!load.settled) this.#host.limiter.run(load)
    })
  }

  /** @internal Called by the limiter when the load has a slot. */
  _begin(load: Load<T>): void {
    if (load.settled) {
      this.#host.limiter.release()
      return
    }
    const host = this.#host
    const now = host.clock.now()
    load.markRunning()
    const task = this.#task
    task.startedAt = now
    if (this.#settings.timeout !== Number.POSITIVE_INFINITY) host.deadlines.add(task, this.#settings.timeout)
    if (load.lease !== undefined) this.#startRenewal(load, now)
    // The loader is called directly (not inside a promise executor: that costs a promise and two
    // microtask hops per load); a synchronous throw becomes a rejection, so settling stays async.
    let result: T | Promise<T>
    try {
      result = host.instrument === undefined ? this.#loader(load) : this.#instrumented(host.instrument, load)
    } catch (error) {
      result = Promise.reject(error)
    }
    load.done = settle(this.#host.loads, this.#slot, result)
  }

  #instrumented(instrument: LoadInstrument, load: Load<T>): T | Promise<T> {
    return instrument.load(load, () => this.#loader(load))
  }

  #startRenewal(load: Load<T>, now: number): void {
    load.renewal = new Task(() => this.#renew(load))
    this.#host.scheduler.schedule(load.renewal, this.#fleet()!.leaseTtl / 3, now)
  }

  /** @internal Called by {@link settle} when the loader's promise rejects. */
  _failed(load: Load<T>, error: unknown): void {
    this.#failed(load, error)
  }

  /** @internal Called by the registry's deadlines when the running load has run for its timeout. */
  _timedOut(): void {
    const load = this.#inflight
    // Only a running load is among the deadlines, and it is the resource's load in flight.
    if (load === undefined || !load.running) return
    const error = new LoadTimeoutError(this.name, this.#settings.timeout)
    load.abort(error)
    this.#failed(load, error)
  }

  /** Detaches `load`: frees its slot and its timeout. Returns false if it had settled already. */
  #settle(load: Load<T>): boolean {
    if (load.settled) return false
    if (this.#inflight === load) {
      this.#host.loads.delete(this.#slot)
      this.#slot = -1
    }
    if (load.detach()) {
      this.#host.limiter.release()
      this.#host.deadlines.remove(this.#task, this.#settings.timeout)
    }
    const renewal = load.renewal
    if (renewal !== undefined) this.#host.scheduler.cancel(renewal)
    return true
  }

  /** @internal Called by {@link settle} when the loader's promise fulfils. */
  _succeeded(load: Load<T>, value: T): void {
    if (!this.#settle(load)) return // timed out, aborted or superseded: a late result is discarded
    const host = this.#host
    const now = host.clock.now()
    const state = this.#state
    const previous = state.value
    const lease = load.lease
    const equals = this.#settings.equals as (a: T, b: T) => boolean
    const changed = applyLoaded(state, value, now, equals, lease?.token)
    this.#schedule(state.loads === 1 ? this.#firstDelay() : this.#settings.interval, now)
    if (host.events.has('load')) {
      host.events.emit(
        'load',
        loadEvent(this.name, now - this.#task.startedAt, changed, state.version, load.attempt),
      )
    }
    if (changed) this.#changed(previous, 'load')
    const saved = this.#save()
    // The lease is held until the write landed, so no other replica reloads in between.
    if (lease !== undefined) this.#releaseAfter(saved, lease)
    load.resolve(state.value as T)
    this.#resolveFirst()
  }

  #releaseAfter(saved: Promise<void> | undefined, lease: Lease): void {
    if (saved === undefined) this.#release(lease)
    else this.#track(saved.then(() => this.#release(lease)))
  }

  /** Keeps `work` (a write, a release) for `stop()` to wait on until it is done. */
  #track(work: Promise<void>): void {
    const earlier = this.#saving
    const all = earlier === undefined ? work : Promise.all([earlier, work]).then(() => {})
    this.#saving = all
    void all.then(() => {
      if (this.#saving === all) this.#saving = undefined
    })
  }

  #failed(load: Load<T>, cause: unknown): void {
    if (!this.#settle(load)) return
    const host = this.#host
    const error =
      cause instanceof LoadError && cause.resource === this.name ? cause : new LoadError(this.name, cause)
    const now = host.clock.now()
    this.#apply({ type: 'failed', error, at: now })
    const retryIn = this.#schedule(this.#retryDelay(), now)
    if (host.events.has('error')) {
      host.events.emit('error', errorEvent(this.name, error, load.attempt, retryIn, this.#state.hasValue))
    }
    host.report(error, this.name)
    const lease = load.lease
    if (lease !== undefined) this.#release(lease)
    load.reject(error)
    // Resolved after the restore too, so `start({ wait })` counts a restored value as ready.
    if (this.#restoring === undefined) this.#resolveFirst()
    else this.#restoring.then(() => this.#resolveFirst())
  }

  #retryDelay(): number {
    const { retry, interval } = this.#settings
    if (retry === undefined) return interval
    const n = this.#state.consecutiveFailures
    return Math.min(retry.initial * retry.factor ** (n - 1), retry.max)
  }

  /** Schedules the next load `base` ms from now, give or take the jitter. Returns the delay. */
  #schedule(base: number, now?: number): number {
    if (this.#closed !== undefined || !this.#host.started) {
      this.#host.scheduler.cancel(this.#task)
      return base
    }
    const delay = this.#jittered(base)
    this.#host.scheduler.schedule(this.#task, delay, now)
    return delay
  }

  /** Fleet mode: schedules the next check one interval (give or take the jitter) after `loadedAt`. */
  #scheduleAt(loadedAt: number): void {
    if (this.#closed !== undefined || !this.#host.started) return
    this.#host.scheduler.scheduleAt(this.#task, loadedAt + this.#jittered(this.#settings.interval))
  }

  /**
   * The delay after the first successful load: spread over the interval by `splay`. At least 1 ms,
   * so a phase drawn near 0 never turns the first refresh into an immediate reload.
   */
  #firstDelay(): number {
    const { interval } = this.#settings
    const splay = this.#splay()
    return splay === 0 ? interval : Math.max(1, interval * (1 - splay * (1 - this.#phase / PHASES)))
  }

  #splay(): number {
    const { jitter, splay = jitter > 0 ? 1 : 0 } = this.#settings
    return splay
  }

  #jittered(base: number): number {
    const jitter = this.#settings.jitter
    // At least 1 ms, so a full jitter of 1 can never turn a delay into an immediate reload.
    return jitter === 0 ? base : Math.max(1, base * (1 + jitter * (2 * Math.random() - 1)))
  }

  // ---- state and notifications ----------------------------------------------------------------

  /** Applies `action` to the state; returns whether the value was replaced. */
  #apply(action: ResourceAction<T>): boolean {
    return apply(this.#state, action)
  }

  #applyRestored(saved: StoreEntry): void {
    const host = this.#host
    const age = host.clock.now() - saved.loadedAt
    if (!(age <= this.#settings.maxRestoredAge)) {
      this.#apply({ type: 'seen', version: saved.version })
      return
    }
    const restored = this.#apply({
      type: 'restored',
      value: saved.value as T,
      version: saved.version,
      loadedAt: saved.loadedAt,
    })
    // Not applied when a load got there first or a newer version is known.
    if (!restored) return
    if (host.events.has('restore')) {
      host.events.emit('restore', restoreEvent(this.name, this.#state.version, age))
    }
    this.#changed(undefined, 'store')
    // A warm restart is ready at once: `start({ wait: true })` does not wait for the first load.
    this.#resolveFirst()
  }

  /** Tells everyone who listens that the value changed from `previous` to the current one. */
  #changed(previous: T | undefined, source: ValueSource): void {
    const host = this.#host
    const state = this.#state
    const value = state.value as T
    if (host.events.has('change')) {
      host.events.emit('change', changeEvent(this.name, value, previous, state.version, source))
    }
    const subscribers = this.#subscribers
    if (subscribers !== undefined) {
      for (const subscriber of subscribers) {
        try {
          subscriber(value, previous)
        } catch (error) {
          host.report(new ListenerError('subscribe', error, this.name), this.name)
        }
      }
    }
    const waiters = this.#readyWaiters
    if (waiters !== undefined) {
      this.#readyWaiters = undefined
      for (const w of waiters) w.resolve(value)
    }
  }

  /**
   * Saves the value; the returned promise never rejects (failures are reported). `catchUp`: if the
   * store refuses the write outside fleet mode, learn its version and save again (once).
   */
  #save(catchUp = true): Promise<void> | undefined {
    const { store, persist } = this.#settings
    if (store === undefined || !persist) return undefined
    const state = this.#state
    const entry: StoreEntry = { value: state.value, version: state.version, loadedAt: state.updatedAt }
    let write: Promise<boolean>
    try {
      write = store.set(this.name, entry)
    } catch (error) {
      write = Promise.reject(error)
    }
    const written = this.#afterWrite(write, catchUp)
    this.#track(written)
    return written
  }

  /**
   * Reports a failed write, and follows a refused one. In fleet mode a refused write means the store
   * holds a version at least as new: most often another replica's, and possibly of the same version
   * (a `refresh()` loads without the lease when another replica holds it, and both take the next
   * version). The shared entry is then taken, so no two replicas keep different values under one
   * version. Outside fleet mode, see {@link #catchUp}.
   */
  #afterWrite(write: Promise<boolean>, catchUp: boolean): Promise<void> {
    return write.then(
      (written) => {
        if (written !== false || this.#closed !== undefined) return undefined
        if (this.#fleet() !== undefined) return this.#adopt(true)
        return this.#catchUp(catchUp)
      },
      (error: unknown) => this.#storeFailed('write', error),
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
    const entry = await this.#readSaved()
    const state = this.#state
    if (entry === undefined || this.#closed !== undefined || entry.version < state.version) return
    if (!saveAgain) {
      this.#storeFailed(
        'write',
        new Error(`the store keeps a newer version (${entry.version}) than this process writes`),
      )
      return
    }
    const ours = state.hasValue && !(entry.loadedAt > state.updatedAt)
    this.#apply({ type: 'seen', version: ours ? entry.version + 1 : entry.version })
    if (ours) await this.#save(false)
  }

  #resolveFirst(): void {
    if (this.#firstSettled) return
    this.#firstSettled = true
    const waiters = this.#firstWaiters
    this.#firstWaiters = undefined
    if (waiters !== undefined) for (const w of waiters) w()
  }
}
