import { Deadlines } from '../scheduling/deadlines.js'
import { Limiter } from '../scheduling/limiter.js'
import { Scheduler } from '../scheduling/scheduler.js'
import type { Store } from '../stores/store.js'
import {
  DuplicateResourceError,
  type EvergreenError,
  ListenerError,
  type LoadError,
  OptionTypeError,
  StoreError,
  SyncError,
  UndefinedResourceError,
} from './errors.js'
import { Emitter, type ResourcesEvents, storeErrorEvent, type Unsubscribe } from './events.js'
import { LoadTable } from './load-table.js'
import {
  type RegistrySettings,
  type ResourceOptions,
  type ResourcesOptions,
  resolveRegistrySettings,
  resolveSettings,
} from './options.js'
import { type Loader, Resource, type ResourceHost, type ResourceTask } from './resource.js'
import type { ResourceStatus, ValueSource } from './state.js'
import { holdStore, releaseStore } from './store-holders.js'

/** Options of {@link Resources.start}. */
export interface StartOptions {
  /**
   * Resolve once every resource defined so far has a value or has settled its first load, and
   * reject with `SyncError` if any has no value then. The background loop runs either way.
   * @default false
   */
  wait?: boolean
}

/**
 * Health of one resource, as reported by {@link Resources.status}. JSON-safe: times in whole
 * milliseconds, wall-clock instants as ISO strings, `lastError` through its `toJSON()`.
 */
export interface ResourceHealth {
  readonly name: string
  readonly status: ResourceStatus
  /** Whether readiness depends on it (the `critical` option). */
  readonly critical: boolean
  /** Where the value came from: `load`, `store` (restored) or `fleet`; `undefined` without a value. */
  readonly source: ValueSource | undefined
  /** Age of the value in ms, or `undefined` without a value. */
  readonly age: number | undefined
  /** When the value was loaded (ISO, by the wall clock), or `undefined` without a value. */
  readonly updatedAt: string | undefined
  readonly lastError: LoadError | undefined
  /** When the current run of failures began (ISO), or `undefined` while the last load succeeded. */
  readonly failingSince: string | undefined
  readonly loads: number
  readonly failures: number
  readonly consecutiveFailures: number
  readonly version: number
  readonly loading: boolean
  /** Ms until the next scheduled load, or `undefined` while loading or stopped. */
  readonly nextRefreshIn: number | undefined
  /** The refresh interval in ms. */
  readonly interval: number
  /** The `maxStale` bound in ms, or `undefined` when there is none. */
  readonly maxStale: number | undefined
}

/** A health report, for a readiness probe. */
export interface HealthReport {
  /** Readiness: true when every critical resource has a value within its `maxStale`. */
  readonly healthy: boolean
  readonly started: boolean
  /** Ms by which the earliest scheduled task is overdue (0 when none is): a liveness probe's measure. */
  readonly lag: number
  readonly resources: readonly ResourceHealth[]
}

/**
 * Awaits `promise` with the process kept alive. Our timers are unref'd; while a caller awaits
 * something bounded (first loads, the stop grace), the process must not exit under an unsettled await.
 */
async function keptAlive<T>(promise: Promise<T>): Promise<T> {
  const handle = globalThis.setInterval(() => {}, 2 ** 30)
  try {
    return await promise
  } finally {
    globalThis.clearInterval(handle)
  }
}

/** Store errors are reported at most once per this interval per resource. */
const STORE_ERROR_INTERVAL_MS = 10_000

/** How long `stop()` waits for loaders to settle after their signal was aborted. */
const STOP_GRACE_MS = 1_000

/**
 * A registry of always-warm resources, refreshed in the background by one scheduler.
 *
 * ```ts
 * const resources = new Resources({ interval: '10s' })
 * const pods = resources.define('pods', ({ signal }) => listPods({ signal }))
 * await resources.start({ wait: true })
 * pods.get()
 * ```
 */
export class Resources implements Iterable<string>, AsyncDisposable {
  readonly #settings: RegistrySettings
  readonly #resources = new Map<string, Resource<unknown>>()
  readonly #events: Emitter<ResourcesEvents>
  readonly #host: ResourceHost & { started: boolean }
  #stopping: Promise<void> | undefined
  /** Calls of `stop()` so far: a `start()` waiting for a stop to finish gives way to a later `stop()`. */
  #stops = 0
  /** Every store this registry has used: attached once, held while started (see store-holders.ts). */
  readonly #attached = new Set<Store>()
  /** How to stop hearing each fleet store's announcements: dropped by `stop()`, renewed by `start()`. */
  readonly #unwatch = new Map<Store, () => void>()
  /** When each resource last reported a store error: a store that is down must not flood `onError`. */
  readonly #storeErrorAt = new Map<string, number>()

  constructor(options?: ResourcesOptions) {
    const settings = resolveRegistrySettings(options)
    this.#settings = settings
    const report = (error: EvergreenError, resource: string | undefined) => this.#report(error, resource)
    this.#events = new Emitter((error, event) => report(new ListenerError(event, error), undefined))
    const clock = settings.clock
    const scheduler = new Scheduler(clock, {
      onError: (error) => report(new ListenerError('scheduler', error), undefined),
    })
    this.#host = {
      clock,
      scheduler,
      deadlines: new Deadlines<ResourceTask>(
        scheduler,
        () => clock.now(),
        (task) => task.owner._timedOut(),
      ),
      limiter: new Limiter(settings.concurrency),
      loads: new LoadTable(),
      events: this.#events,
      started: false,
      instrument: settings.instrument,
      report,
    }
    if (settings.defaults.store !== undefined) this.#attach(settings.defaults.store)
  }

  /**
   * Registers a resource. Its first load starts at once if the registry is started, otherwise at
   * `start()`. A saved value, if the resource has a store, is restored at once.
   */
  define<T>(name: string, loader: Loader<T>, options?: ResourceOptions<T>): Resource<T> {
    if (typeof name !== 'string' || name.length === 0)
      throw new OptionTypeError('name', 'a non-empty string', name)
    if (typeof loader !== 'function')
      throw new OptionTypeError(`loader" of resource "${name}`, 'a function', loader)
    if (this.#resources.has(name)) throw new DuplicateResourceError(name)
    const settings = resolveSettings(this.#settings.defaults, options, name)
    if (settings.store !== undefined) this.#attach(settings.store)
    const resource = new Resource<T>(name, loader, settings, this.#host)
    this.#resources.set(name, resource as Resource<unknown>)
    resource._restore()
    if (this.#host.started) resource._start()
    return resource
  }

  /** The last good value of `name`. Throws `UndefinedResourceError` for an unknown name. */
  get<T = unknown>(name: string): T {
    const resource = this.#resources.get(name)
    if (resource === undefined) throw new UndefinedResourceError(name)
    return resource.get() as T
  }

  /** The handle of `name`. Throws `UndefinedResourceError` for an unknown name. */
  resource<T = unknown>(name: string): Resource<T> {
    const resource = this.#resources.get(name)
    if (resource === undefined) throw new UndefinedResourceError(name)
    return resource as Resource<T>
  }

  has(name: string): boolean {
    return this.#resources.has(name)
  }

  /** Removes `name`: stops its refresh and aborts its load. Its saved value, if any, is kept. */
  remove(name: string): boolean {
    const resource = this.#resources.get(name)
    if (resource === undefined) return false
    this.#resources.delete(name)
    resource._stop('was removed', true)
    return true
  }

  /** Number of resources. */
  get size(): number {
    return this.#resources.size
  }

  /** Names of the resources, in order of definition. */
  names(): string[] {
    return [...this.#resources.keys()]
  }

  [Symbol.iterator](): Iterator<string> {
    return this.#resources.keys()
  }

  /** Whether the background loop is running. */
  get started(): boolean {
    return this.#host.started
  }

  /**
   * Starts the background loop. With `{ wait: true }`, resolves once every resource has a value or
   * has settled its first load, and rejects with `SyncError` (one error per resource left without a
   * value) otherwise. Without `wait` it resolves at once and never rejects. Calling it again is harmless.
   */
  async start(options: StartOptions = {}): Promise<void> {
    if (typeof options !== 'object' || options === null)
      throw new OptionTypeError('start options', 'an object', options)
    const stops = this.#stops
    if (!this.#host.started && this.#stopping !== undefined) await this.#stopping
    // Checked after the wait: the last of start() and stop() called decides, and two starts start once.
    if (!this.#host.started && stops === this.#stops) {
      this.#stopping = undefined
      this.#host.started = true
      for (const store of this.#attached) this.#hold(store)
      // The resources that start together share out the interval for their first refreshes, in the
      // order they were defined (see splay in timing.md).
      const count = this.#resources.size
      let index = 0
      for (const resource of this.#resources.values()) {
        resource._reopen()
        resource._start(index++, count)
      }
    }
    if (options.wait !== true) return
    const resources = [...this.#resources.values()]
    // Our timers are unref'd; while the caller awaits the first loads (each bounded by its timeout),
    // the process must not exit under them with the await unsettled.
    await keptAlive(Promise.all(resources.map((r) => r._firstSettled())))
    const errors = resources.map((r) => r._syncError()).filter((e): e is LoadError => e !== undefined)
    if (errors.length > 0) throw new SyncError(errors)
  }

  /**
   * Stops the background loop: clears every timer, aborts loads in flight and resolves when they
   * have settled or, for loaders that ignore their signal, after a short grace period. Flushes and
   * closes the stores in use, except those another started registry runs on. Values stay readable.
   * Idempotent.
   */
  stop(): Promise<void> {
    this.#stops++
    this.#host.started = false
    // The queue goes first: each aborted load frees its slot, which would begin the next queued load
    // (a loader called only to be aborted a moment later).
    this.#host.limiter.clear()
    // Every call stops every resource, so a load begun since an earlier stop (a resource defined and
    // refreshed meanwhile) is aborted too; for a resource already stopped this does nothing.
    const pending: Promise<void>[] = []
    for (const resource of this.#resources.values()) {
      const done = resource._stop('was stopped', false)
      if (done !== undefined) pending.push(done)
    }
    this.#host.scheduler.clear()
    if (this.#stopping === undefined) {
      if (pending.length === 0 && this.#attached.size === 0) return Promise.resolve()
      this.#stopping = this.#drain(pending)
    } else if (pending.length > 0) {
      this.#stopping = Promise.all([this.#stopping, this.#settled(pending)]).then(() => {})
    }
    return this.#stopping
  }

  async #drain(pending: Promise<void>[]): Promise<void> {
    await this.#settled(pending)
    for (const unwatch of this.#unwatch.values()) unwatch()
    this.#unwatch.clear()
    // A store another started registry still runs on stays open for it.
    const closing = [...this.#attached].filter((store) => releaseStore(store, this))
    await Promise.all(
      closing.map((store) =>
        store
          .close()
          .then(undefined, (error: unknown) =>
            this.#report(new StoreError('could not close a store', { cause: error }), undefined),
          ),
      ),
    )
  }

  /** This registry runs on `store`: reopens it if a stop closed it, and listens to its fleet again. */
  #hold(store: Store): void {
    try {
      holdStore(store, this)
      this.#watch(store)
    } catch (error) {
      this.#report(new StoreError('a store failed to reopen', { cause: error }), undefined)
    }
  }

  /** Fleet mode: another replica's announcement of a new version makes the resource fetch it. */
  #watch(store: Store): void {
    const fleet = store.fleet
    if (fleet === undefined || this.#unwatch.has(store)) return
    this.#unwatch.set(
      store,
      fleet.watch((name, version) => this.#resources.get(name)?._announced(version)),
    )
  }

  /** Resolves once the loads behind `pending` have settled, or after the grace for loaders that ignore their signal. */
  async #settled(pending: Promise<void>[]): Promise<void> {
    if (pending.length === 0) return
    const clock = this.#settings.clock
    let timer: unknown
    const grace = new Promise<void>((resolve) => {
      timer = clock.setTimeout(resolve, STOP_GRACE_MS)
    })
    await keptAlive(Promise.race([Promise.all(pending), grace]))
    clock.clearTimeout(timer)
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop()
  }

  /** A health report for every resource. */
  status(): HealthReport {
    const resources: ResourceHealth[] = []
    let healthy = true
    const now = this.#settings.clock.now()
    const wall = Date.now()
    const iso = (at: number | undefined) =>
      at === undefined || !Number.isFinite(at) ? undefined : new Date(wall - (now - at)).toISOString()
    for (const resource of this.#resources.values()) {
      const s = resource.peek()
      const { critical, interval, maxStale } = resource.settings
      if (critical && (s.status === 'pending' || s.status === 'failed' || s.status === 'stale'))
        healthy = false
      resources.push({
        name: s.name,
        status: s.status,
        critical,
        source: s.source,
        age: s.age === undefined ? undefined : Math.round(s.age),
        updatedAt: iso(s.updatedAt),
        lastError: s.error,
        failingSince: iso(s.failingSince),
        loads: s.loads,
        failures: s.failures,
        consecutiveFailures: s.consecutiveFailures,
        version: s.version,
        loading: s.loading,
        nextRefreshIn:
          s.nextRefreshAt === undefined ? undefined : Math.max(0, Math.round(s.nextRefreshAt - now)),
        interval: Math.round(interval),
        maxStale: Number.isFinite(maxStale) ? Math.round(maxStale) : undefined,
      })
    }
    const next = this.#host.scheduler.nextAt
    const lag = this.#host.started && next < now ? Math.round(now - next) : 0
    return { healthy, started: this.#host.started, lag, resources }
  }

  /** Listens to an event; returns the function that stops listening. */
  on<E extends keyof ResourcesEvents>(
    event: E,
    listener: (payload: ResourcesEvents[E]) => void,
  ): Unsubscribe {
    return this.#events.on(event, listener)
  }

  #storeErrorsLimited(resource: string | undefined): boolean {
    const key = resource ?? ''
    const now = this.#settings.clock.now()
    const last = this.#storeErrorAt.get(key)
    if (last !== undefined && now - last < STORE_ERROR_INTERVAL_MS) return true
    this.#storeErrorAt.set(key, now)
    return false
  }

  /** Introduces a store to this registry once, so it can report background problems. */
  #attach(store: Store): void {
    if (this.#attached.has(store)) return
    this.#attached.add(store)
    try {
      // Attached while started (a resource defined with a store of its own): it runs on it from now.
      if (this.#host.started) holdStore(store, this)
      this.#watch(store)
      store.attach?.({
        reportError: (error, resource) => {
          const wrapped =
            error instanceof StoreError ? error : new StoreError(String(error), { resource, cause: error })
          this.#report(wrapped, resource)
        },
      })
    } catch (error) {
      this.#report(new StoreError('a store failed to attach', { cause: error }), undefined)
    }
  }

  #report(error: EvergreenError, resource: string | undefined): void {
    if (error instanceof StoreError) {
      if (this.#storeErrorsLimited(resource)) return
      if (this.#events.has('storeError')) this.#events.emit('storeError', storeErrorEvent(resource, error))
    }
    const onError = this.#settings.onError
    if (onError === undefined) return
    try {
      onError(error, resource)
    } catch {
      // An error handler that throws has nowhere left to report to; the loop must go on.
    }
  }
}
