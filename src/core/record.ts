import type { DeadlineEntry } from '../scheduling/deadlines.js'
import { type Scheduler, Task } from '../scheduling/scheduler.js'
import type { Timeline } from '../scheduling/timeline.js'
import type { StoreEntry } from '../stores/store.js'
import { LoadAbortedError, type LoadError, StoreError, shorten } from './errors.js'
import { changeEvent, restoreEvent } from './events.js'
import type { FleetClaim } from './fleet-claim.js'
import type { EngineHost, TimedEntry } from './host.js'
import type { Load } from './load.js'
import type { Settings } from './options.js'
import { type Persistence, restoredAt } from './persistence.js'
import {
  apply,
  CLAIMING,
  createState,
  IDLE,
  isClosed,
  type LifecycleEvent,
  type MutableState,
  type Phase,
  REMOVED,
  type ResourceAction,
  SCHEDULED,
  step,
  type ValueSource,
} from './state.js'
import { NO_PHASE } from './timing.js'
import { Watchers } from './watchers.js'

/**
 * What the registry keeps for one resource, apart from how it loads (see engine.ts): its value
 * state, its lifecycle phase, and what follows a change of value (events, subscribers, the waiters of
 * `ready()` and `start({ wait })`). It is the resource's scheduler task itself (one object instead of
 * two), and, while a load runs, that load's place among the registry's timeouts. Its phase changes
 * only through {@link step}; its value state only through {@link apply}. Persistence, fleet claim and
 * watchers are parts made on first use.
 */
export class ResourceRecord<T> extends Task implements TimedEntry {
  /** When the running load's loader was called (monotonic ms). */
  startedAt = 0
  deadlinePrev: DeadlineEntry | undefined = undefined
  deadlineNext: DeadlineEntry | undefined = undefined
  readonly name: string
  readonly settings: Settings
  readonly state: MutableState<T> = createState()
  phase: Phase = IDLE
  /** Whether the first load settled (or a value came without one): `start({ wait })` waits for it. */
  firstSettled = false
  /** The index of the load in flight in the registry's load table, or -1. */
  loadIndex = -1
  /** Where the first refresh falls in the interval (see timing.ts); the end until drawn. */
  splayPhase = NO_PHASE
  protected readonly host: EngineHost
  watchers: Watchers<T> | undefined = undefined
  persistence: Persistence<T> | undefined = undefined
  fleet: FleetClaim<T> | undefined = undefined

  constructor(name: string, settings: Settings, host: EngineHost, run: (this: Task) => void) {
    super(run)
    this.name = name
    this.settings = settings
    this.host = host
  }

  /** Moves the lifecycle: the one place the phase changes. */
  protected stepTo(event: LifecycleEvent): void {
    this.phase = step(this.phase, event)
  }

  /** Overridden by the engine: a load that ran for its timeout fails. */
  timedOut(): void {}

  // ---- derived views -------------------------------------------------------------------------

  get time(): Timeline {
    return this.host.time
  }

  get scheduler(): Scheduler {
    return this.host.scheduler
  }

  get closed(): boolean {
    return isClosed(this.phase)
  }

  get inFleet(): boolean {
    return this.fleet !== undefined
  }

  /** The load in flight (or queued for a slot), if any. */
  get inflight(): Load<T> | undefined {
    return this.host.loads.get(this.loadIndex)
  }

  get restoring(): Promise<void> | undefined {
    return this.persistence?.restoring
  }

  /** Whether the next refresh is scheduled (derived from the phase). */
  get refreshScheduled(): boolean {
    return this.phase === SCHEDULED
  }

  /** Why no load may start: `'was removed'` or `'was stopped'`. */
  get closedWhy(): string {
    return this.phase === REMOVED ? 'was removed' : 'was stopped'
  }

  /** The error that leaves the resource without a value, if it has none. */
  syncError(): LoadError | undefined {
    const state = this.state
    const stale = state.hasValue && this.#stale()
    if (state.hasValue && !stale) return undefined
    const why = stale
      ? 'its only value is older than maxStale and no load completed'
      : this.closed
        ? `${this.closedWhy} before it had a value`
        : 'no load completed'
    return state.error ?? new LoadAbortedError(this.name, why)
  }

  /** Whether the value held is older than `maxStale` (so `get()` throws). */
  #stale(): boolean {
    return this.host.time.now() - this.state.updatedAt > this.settings.maxStale
  }

  /** Resolves once the first load has settled (and any restore with it). */
  whenFirstSettled(): Promise<void> {
    if (this.firstSettled || this.closed) return Promise.resolve()
    this.watchers ??= new Watchers()
    return this.watchers.firstSettled()
  }

  // ---- state and notifications ---------------------------------------------------------------

  /** Applies `action` to the state; returns whether the value was replaced. */
  apply(action: ResourceAction<T>): boolean {
    return apply(this.state, action)
  }

  read(): Promise<StoreEntry | undefined> {
    return (this.persistence as Persistence<T>).read()
  }

  adoptRefused(): Promise<void> {
    return this.fleet === undefined ? Promise.resolve() : this.fleet.adoptRefused()
  }

  saveAgain(): Promise<void> {
    return this.persistence === undefined ? Promise.resolve() : this.persistence.save(false)
  }

  track(work: Promise<void>): void {
    this.persistence?.track(work)
  }

  /** A saved entry was read at start: serve it unless it is too old or something newer is known. */
  restored(saved: StoreEntry): void {
    const host = this.host
    const { at: loadedAt, age } = restoredAt(saved.loadedAt, host.time.now(), host.time)
    if (!(age <= this.settings.maxRestoredAge)) {
      this.apply({ type: 'seen', version: saved.version })
      return
    }
    const restored = this.apply({
      type: 'restored',
      value: saved.value as T,
      version: saved.version,
      loadedAt,
    })
    // Not applied when a load got there first or a newer version is known.
    if (!restored) return
    if (host.events.has('restore')) {
      host.events.emit('restore', restoreEvent(this.name, this.state.version, age))
    }
    this.changed(undefined, 'store')
    // A warm restart is ready at once: `start({ wait: true })` does not wait for the first load,
    // unless the value is older than `maxStale` (its status is `stale`, `get()` throws): then it waits.
    if (!this.#stale()) this.settleFirst()
  }

  /** Tells everyone who listens that the value changed from `previous` to the current one. */
  changed(previous: T | undefined, source: ValueSource): void {
    const host = this.host
    const state = this.state
    const value = state.value as T
    if (host.events.has('change')) {
      host.events.emit('change', changeEvent(this.name, value, previous, state.version, source))
    }
    this.watchers?.changed(this.name, value, previous, (error) => host.report(error, this.name))
  }

  settledWithoutLoad(): void {
    if (this.state.hasValue && !this.#stale()) this.settleFirst()
  }

  /** The fleet claim ended: without a load or a next check, the resource is idle. */
  claimEnded(): void {
    if (this.phase === CLAIMING) this.stepTo('settle')
  }

  /** Reports a store failure, unless the resource was stopped: then the store is closing on purpose. */
  storeFailed(op: string, error: unknown): void {
    if (this.closed) return
    this.host.report(
      StoreError.wrap(
        error,
        `could not ${op} the saved value of resource "${shorten(this.name)}"`,
        this.name,
      ),
      this.name,
      op,
    )
  }

  settleFirst(): void {
    if (this.firstSettled) return
    this.firstSettled = true
    this.watchers?.settleFirst()
  }
}
