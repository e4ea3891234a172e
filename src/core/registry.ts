import { type FamilyOptions, type KeyLoader, RegistryFamilies } from '../families/registry-families.js'
import { Deadlines } from '../scheduling/deadlines.js'
import { Limiter } from '../scheduling/limiter.js'
import { Scheduler } from '../scheduling/scheduler.js'
import { Timeline } from '../scheduling/timeline.js'
import { both } from './async.js'
import { checkListener, type RemoveOptions, removeKeepsSaved } from './call-options.js'
import { Engine } from './engine.js'
import {
  DuplicateResourceError,
  type EvergreenError,
  ListenerError,
  type LoadError,
  OptionTypeError,
  StoreError,
  SyncError,
  shorten,
} from './errors.js'
import { Emitter, type ResourcesEvents, storeErrorEvent, type Unsubscribe } from './events.js'
import { type HealthReport, isUnhealthy, type ResourceHealth, resourceHealth } from './health.js'
import type { EngineHost, Profile, TimedEntry } from './host.js'
import type { Loader } from './load.js'
import { LoadTable } from './load-table.js'
import {
  type RegistrySettings,
  type ResourceOptions,
  type ResourcesOptions,
  resolveRegistrySettings,
  resolveSettings,
  type Settings,
} from './options.js'
import { RegistryStores } from './registry-stores.js'
import { engineOf, handleOf, type Resource } from './resource.js'
import { StoreErrorLimit } from './store-error-limit.js'
import { type Awaited, type StartOptions, type StartWait, StartWaits, startWait } from './wait.js'

export type { RemoveOptions } from './call-options.js'
export type { HealthReport, ResourceHealth } from './health.js'
export type { StartOptions } from './wait.js'

/**
 * Where the registry stands: `stopped` (never started, or stopped with nothing to wait for),
 * `started`, or `stopping` until `drained` (loads given their grace, stores closed). Every `stop()`
 * makes a new `stopping` state, so a `start()` that waits for one gives way to a later `stop()`.
 */
type RunState =
  | { readonly kind: 'stopped' }
  | { readonly kind: 'started' }
  | { readonly kind: 'stopping'; readonly drained: Promise<void> }

const STOPPED_STATE: RunState = { kind: 'stopped' }
const STARTED_STATE: RunState = { kind: 'started' }

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
  readonly #families: RegistryFamilies
  readonly #events: Emitter<ResourcesEvents>
  readonly #host: EngineHost & { started: boolean }
  #run: RunState = STOPPED_STATE
  readonly #stores: RegistryStores
  readonly #storeErrors = new StoreErrorLimit()
  /** Deletions of removed resources' saved entries still in flight: `stop()` lets them land. */
  readonly #deleting = new Set<Promise<void>>()
  /** One profile per set of resolved settings. */
  readonly #profiles = new WeakMap<Settings, Profile>()
  /** The calls of `start({ wait })` still waiting. */
  readonly #firstWaits = new StartWaits()

  constructor(options?: ResourcesOptions) {
    const settings = resolveRegistrySettings(options)
    this.#settings = settings
    const report = (error: EvergreenError, resource: string | undefined, operation?: string) =>
      this.#report(error, resource, operation)
    this.#events = new Emitter((error, event) => report(new ListenerError(event, error), undefined))
    const time = new Timeline(settings.clock)
    const scheduler = new Scheduler(settings.clock, {
      onError: (error) => report(new ListenerError('scheduler', error), undefined),
    })
    this.#host = {
      time,
      scheduler,
      deadlines: new Deadlines<TimedEntry>(scheduler, time.now, (entry) => entry.timedOut()),
      limiter: new Limiter(settings.concurrency),
      loads: new LoadTable(),
      events: this.#events,
      random: () => time.random(),
      started: false,
      instrument: settings.instrument,
      report,
      firstSettled: (entry) => this.#firstWaits.settled(entry),
    }
    this.#families = new RegistryFamilies(this.#host)
    this.#stores = new RegistryStores(this, settings.clock, report, (name, version) => {
      const resource = this.#resources.get(name)
      if (resource !== undefined) engineOf(resource).announced(version)
    })
    if (settings.defaults.store !== undefined) this.#stores.attach(settings.defaults.store, false)
  }

  /** The profile of resources defined with `settings`: one per set of resolved settings. */
  #profile(settings: Settings): Profile {
    let profile = this.#profiles.get(settings)
    if (profile === undefined) this.#profiles.set(settings, (profile = { settings, host: this.#host }))
    return profile
  }

  /** Moves the registry to `run`; the engines read `started` from the host. */
  #enter(run: RunState): void {
    this.#run = run
    this.#host.started = run.kind === 'started'
  }

  /**
   * Registers a resource. Its first load starts at once if the registry is started, otherwise at
   * `start()`. A saved value, if the resource has a store, is restored at once.
   */
  define<T>(name: string, loader: Loader<T>, options?: ResourceOptions<T>): Resource<T> {
    if (typeof name !== 'string' || name.length === 0)
      throw new OptionTypeError('name', 'a non-empty string', name)
    if (typeof loader !== 'function')
      throw new OptionTypeError(`loader" of resource "${shorten(name)}`, 'a function', loader)
    if (this.#resources.has(name) || this.#families.has(name)) throw new DuplicateResourceError(name)
    const defaults = this.#settings.defaults
    // Resources defined without options share the registry's settings (and profile) as they are.
    const settings = options === undefined ? defaults : resolveSettings(defaults, options, name)
    if (settings.store !== undefined) this.#stores.attach(settings.store, this.#host.started)
    const engine = new Engine<T>(name, loader, this.#profile(settings))
    const resource = handleOf(engine)
    this.#resources.set(name, resource as Resource<unknown>)
    engine.restore()
    if (this.#host.started) engine.start()
    return resource
  }

  /** Always-warm values for keys not known in advance, bounded, warm while read (docs/families.md). */
  family<V, K = string | number>(name: string, loader: KeyLoader<V>, options?: FamilyOptions<K, V>) {
    return this.#families.add(name, loader, options, this.#settings.defaults, this.#resources.has(name))
  }

  /**
   * The last good value of `name`, as `unknown`: the registry does not know the type of a value
   * read by name. Use the handle `define` returned for a typed read, or narrow (or cast) explicitly.
   * Throws `UndefinedResourceError` for an unknown name.
   */
  get(name: string): unknown {
    const resource = this.#resources.get(name)
    if (resource === undefined) throw this.#families.unknown(name)
    return resource.get()
  }

  /**
   * The handle of `name`, as `Resource<unknown>` (see `get`). Throws `UndefinedResourceError` for an
   * unknown name.
   */
  resource(name: string): Resource<unknown> {
    const resource = this.#resources.get(name)
    if (resource === undefined) throw this.#families.unknown(name)
    return resource
  }

  has(name: string): boolean {
    return this.#resources.has(name) || this.#families.has(name)
  }

  /**
   * Removes `name`: stops its refresh, aborts its load, and deletes its saved entry from its store
   * (after any write in flight), so names that come and go leave nothing behind. With
   * `{ keepSaved: true }` the saved entry is kept (a resource defined again later restores it).
   * In fleet mode the shared entry is deleted too; replicas that still define the resource write it
   * again at their next refresh. Returns whether `name` was defined.
   */
  remove(name: string, options?: RemoveOptions): boolean {
    const keepSaved = removeKeepsSaved(options)
    if (this.#families.remove(name)) return true
    const resource = this.#resources.get(name)
    if (resource === undefined) return false
    this.#resources.delete(name)
    const engine = engineOf(resource)
    engine.stop(true)
    if (!keepSaved) {
      const deleting = engine.forgetSaved()
      if (deleting !== undefined) {
        // `stop()` waits for it, so the store is not closed under it.
        this.#deleting.add(deleting)
        void deleting.then(() => this.#deleting.delete(deleting))
      }
    }
    return true
  }

  /** Number of resources and families. */
  get size(): number {
    return this.#resources.size + this.#families.size
  }

  /** Names of the resources, in order of definition, then of the families. */
  names(): string[] {
    return [...this.#resources.keys(), ...this.#families.names()]
  }

  [Symbol.iterator](): Iterator<string> {
    return this.names()[Symbol.iterator]()
  }

  /** Whether the background loop is running. */
  get started(): boolean {
    return this.#host.started
  }

  /**
   * Starts the background loop. With `{ wait: true }`, resolves once every resource has a value or
   * has settled its first load, and rejects with `SyncError` (one error per resource left without a
   * value, or with only a value older than `maxStale`) otherwise. Without `wait` it resolves at once
   * and never rejects. Calling it again is harmless. Bad arguments (`start(5)`, `{ wait: 'yes' }`)
   * throw an `OptionTypeError` at the call, before anything starts: a mistake is never a rejection
   * nobody awaits.
   */
  start(options?: StartOptions): Promise<void> {
    return this.#start(startWait(options))
  }

  async #start({ wait, within, caller }: StartWait): Promise<void> {
    const run = this.#run
    if (run.kind === 'stopping') await run.drained
    // Checked after the wait: the last of start() and stop() called decides (a stop called meanwhile
    // made a new state), and two starts start once.
    if (this.#run === run && run.kind !== 'started') this.#begin()
    if (!wait) return
    const engines = [...this.#resources.values()].map((r) => engineOf(r))
    // Without `within`, those whose first load settled are not waited for; with it, until each has a
    // value. A value older than maxStale (restored) is not ready: its first load is waited for too.
    const pending = new Set<Awaited>(
      engines.filter(
        (e) => (!e.hasValue || e.isStale()) && (within !== undefined || !e.firstSettled) && !e.closed,
      ),
    )
    // Our timers are unref'd; while the caller awaits the first loads (each bounded by its timeout),
    // the process must not exit under them with the await unsettled.
    await this.#firstWaits.wait(pending, within, caller, this.#settings.clock, keptAlive)
    const errors = engines.map((e) => e.syncError()).filter((e): e is LoadError => e !== undefined)
    if (errors.length > 0) throw new SyncError(errors)
  }

  #begin(): void {
    this.#enter(STARTED_STATE)
    this.#stores.holdAll()
    // The resources that start together share out the interval for their first refreshes, in the
    // order they were defined (see splay in timing.md).
    const count = this.#resources.size
    let index = 0
    for (const resource of this.#resources.values()) {
      const engine = engineOf(resource)
      engine.reopen()
      engine.start(index++, count)
    }
    this.#families.start()
  }

  /**
   * Stops the background loop: clears every timer, aborts loads in flight and resolves when they
   * have settled or, for loaders that ignore their signal, after a short grace period. Flushes and
   * closes the stores in use, except those another started registry runs on. Values stay readable.
   * Idempotent.
   */
  stop(): Promise<void> {
    const run = this.#run
    this.#host.started = false
    // The queue goes first: each aborted load frees its slot, which would begin the next queued load
    // (a loader called only to be aborted a moment later).
    this.#host.limiter.clear()
    // Every call stops every resource, so a load begun since an earlier stop (a resource defined and
    // refreshed meanwhile) is aborted too; for a resource already stopped this does nothing.
    const pending: Promise<void>[] = []
    for (const resource of this.#resources.values()) {
      const done = engineOf(resource).stop(false)
      if (done !== undefined) pending.push(done)
    }
    this.#families.stop(pending)
    for (const deleting of this.#deleting) pending.push(deleting)
    this.#host.scheduler.clear()
    let drained: Promise<void>
    if (run.kind === 'stopping') {
      drained = pending.length > 0 ? both(run.drained, this.#settled(pending)) : run.drained
    } else if (pending.length === 0 && this.#stores.size === 0) {
      this.#enter(STOPPED_STATE)
      return Promise.resolve()
    } else drained = this.#drain(pending)
    this.#enter({ kind: 'stopping', drained })
    return drained
  }

  async #drain(pending: Promise<void>[]): Promise<void> {
    await this.#settled(pending)
    // A store another started registry still runs on stays open for it.
    await this.#stores.release()
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
    const now = this.#host.time.now()
    for (const resource of this.#resources.values()) {
      const s = resource.peek()
      const engine = engineOf(resource)
      if (engine.settings.critical && isUnhealthy(s.status)) healthy = false
      resources.push(resourceHealth(s, engine.settings, engine.at, now))
    }
    const next = this.#host.scheduler.nextAt
    const lag = this.#host.started && next < now ? Math.round(now - next) : 0
    return { healthy, started: this.#host.started, lag, resources, families: this.#families.status() }
  }

  /** Listens to an event; returns the function that stops listening. */
  on<E extends keyof ResourcesEvents>(
    event: E,
    listener: (payload: ResourcesEvents[E]) => void,
  ): Unsubscribe {
    checkListener(event, listener)
    return this.#events.on(event, listener)
  }

  #report(error: EvergreenError, resource: string | undefined, operation?: string): void {
    if (error instanceof StoreError) {
      if (this.#storeErrors.limited(resource, operation ?? error.message, this.#host.time.now())) return
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
