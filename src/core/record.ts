import type { DeadlineEntry } from '../scheduling/deadlines.js'
import { type Scheduler, TimedTask } from '../scheduling/scheduler.js'
import type { Timeline } from '../scheduling/timeline.js'
import type { StoreEntry } from '../stores/store.js'
import { LoadAbortedError, type LoadError, StoreError, shorten } from './errors.js'
import { changeEvent, restoreEvent } from './events.js'
import type { FleetClaim } from './fleet-claim.js'
import type { EngineHost, Profile, TimedEntry } from './host.js'
import type { Load } from './load.js'
import type { Settings } from './options.js'
import { type Persistence, restoredAt } from './persistence.js'
import {
  apply,
  CLAIMING,
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

/** Bits of {@link ResourceRecord.flags}: whether it has a value, and whether its first load settled. */
const HAS_VALUE = 1
export const FIRST_SETTLED = 2
/** Where the value came from, in two bits: none, load, store, fleet. */
const SOURCE_SHIFT = 2
const SOURCE_MASK = 3 << SOURCE_SHIFT
const SOURCES: readonly (ValueSource | undefined)[] = [undefined, 'load', 'store', 'fleet']
/** The lifecycle phase, in three bits. */
const PHASE_SHIFT = 4
const PHASE_MASK = 7 << PHASE_SHIFT

/** The parts of a record most resources never need, made on first use. */
class Extra<T> {
  watchers: Watchers<T> | undefined = undefined
  persistence: Persistence<T> | undefined = undefined
  fleet: FleetClaim<T> | undefined = undefined
  /** The last failure, cleared by the next success. */
  error: LoadError | undefined = undefined
  failures = 0
  consecutiveFailures = 0
  /** When the first of the consecutive failures happened (monotonic ms); `NaN` while none. */
  failingSince = Number.NaN
}

/**
 * What the registry keeps for one resource, apart from how it loads (see engine.ts): its value
 * state, its lifecycle phase, and what follows a change of value (events, subscribers, the waiters of
 * `ready()` and `start({ wait })`). Its phase changes only through {@link step}; its value state only
 * through {@link apply}, for which the record is itself the state.
 *
 * Small on purpose (a family or a large registry keeps one per key): it is the resource's scheduler
 * task itself; while a load runs, it is that load's entry among the registry's timeouts, through the
 * same fields (a running resource waits in no wheel bucket, and its due time is then free to hold the
 * load's start); flags, source and phase share one small integer; and what only some resources need
 * (failures, subscribers, a store, a fleet) is in a part made on first use.
 */
export class ResourceRecord<T> extends TimedTask implements TimedEntry, MutableState<T> {
  readonly name: string
  /** The settings and the registry it shares with the resources defined alike. */
  readonly profile: Profile
  /** Has-value and first-settled bits, the value's source and the lifecycle phase. */
  flags = 0
  /** The index of the load in flight in the registry's load table, or -1. */
  loadIndex = -1
  /** Where the first refresh falls in the interval (see timing.ts), or -1 until drawn. */
  splayPhase = NO_PHASE
  value: T | undefined = undefined
  version = 0
  /** When the current value was loaded (monotonic ms); 0 without a value (a small integer, no number box). */
  updatedAt = 0
  loads = 0
  #extra: Extra<T> | undefined = undefined

  constructor(name: string, profile: Profile) {
    super()
    this.name = name
    this.profile = profile
  }

  get settings(): Settings {
    return this.profile.settings
  }

  protected get host(): EngineHost {
    return this.profile.host
  }

  // ---- the state, as the reducer in state.ts reads and writes it ---------------------------------

  /** The record is its own state record (see {@link MutableState}). */
  get state(): MutableState<T> {
    return this
  }

  get hasValue(): boolean {
    return (this.flags & HAS_VALUE) !== 0
  }

  set hasValue(has: boolean) {
    this.flags = has ? this.flags | HAS_VALUE : this.flags & ~HAS_VALUE
  }

  get source(): ValueSource | undefined {
    return SOURCES[(this.flags & SOURCE_MASK) >> SOURCE_SHIFT]
  }

  set source(source: ValueSource | undefined) {
    this.flags = (this.flags & ~SOURCE_MASK) | (SOURCES.indexOf(source) << SOURCE_SHIFT)
  }

  get error(): LoadError | undefined {
    return this.#extra?.error
  }

  set error(error: LoadError | undefined) {
    if (error !== undefined || this.#extra !== undefined) this.extra().error = error
  }

  get failures(): number {
    return this.#extra?.failures ?? 0
  }

  set failures(n: number) {
    if (n !== 0 || this.#extra !== undefined) this.extra().failures = n
  }

  get consecutiveFailures(): number {
    return this.#extra?.consecutiveFailures ?? 0
  }

  set consecutiveFailures(n: number) {
    if (n !== 0 || this.#extra !== undefined) this.extra().consecutiveFailures = n
  }

  get failingSince(): number {
    return this.#extra?.failingSince ?? Number.NaN
  }

  set failingSince(at: number) {
    if (!Number.isNaN(at) || this.#extra !== undefined) this.extra().failingSince = at
  }

  get phase(): Phase {
    return ((this.flags & PHASE_MASK) >> PHASE_SHIFT) as Phase
  }

  get firstSettled(): boolean {
    return (this.flags & FIRST_SETTLED) !== 0
  }

  /** The part made on first use. */
  protected extra(): Extra<T> {
    this.#extra ??= new Extra()
    return this.#extra
  }

  get watchers(): Watchers<T> | undefined {
    return this.#extra?.watchers
  }

  /** The watchers, made if there are none yet. */
  watch(): Watchers<T> {
    const extra = this.extra()
    extra.watchers ??= new Watchers()
    return extra.watchers
  }

  get persistence(): Persistence<T> | undefined {
    return this.#extra?.persistence
  }

  get fleet(): FleetClaim<T> | undefined {
    return this.#extra?.fleet
  }

  // ---- the timeouts' view of the record (see the class comment) --------------------------------

  /** When the running load's loader was called (monotonic ms). */
  get startedAt(): number {
    return this.at
  }

  set startedAt(at: number) {
    this.at = at
  }

  get deadlinePrev(): DeadlineEntry | undefined {
    return this.wheelPrev as ResourceRecord<unknown> | undefined
  }

  set deadlinePrev(entry: DeadlineEntry | undefined) {
    this.wheelPrev = entry as ResourceRecord<unknown> | undefined
  }

  get deadlineNext(): DeadlineEntry | undefined {
    return this.wheelNext as ResourceRecord<unknown> | undefined
  }

  set deadlineNext(entry: DeadlineEntry | undefined) {
    this.wheelNext = entry as ResourceRecord<unknown> | undefined
  }

  /** Moves the lifecycle: the one place the phase changes. */
  protected stepTo(event: LifecycleEvent): void {
    this.flags = (this.flags & ~PHASE_MASK) | (step(this.phase, event) << PHASE_SHIFT)
  }

  /** Overridden by the engine: a load that ran for its timeout fails. */
  timedOut(): void {}

  /** Overridden by the engine: the next refresh is due. */
  run(): void {}

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
    const stale = state.hasValue && this.isStale()
    if (state.hasValue && !stale) return undefined
    const why = stale
      ? 'its only value is older than maxStale and no load completed'
      : this.closed
        ? `${this.closedWhy} before it had a value`
        : 'no load completed'
    return state.error ?? new LoadAbortedError(this.name, why)
  }

  /** Whether the value held is older than `maxStale` (so `get()` throws). */
  isStale(): boolean {
    return this.host.time.now() - this.state.updatedAt > this.settings.maxStale
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
    if (!this.isStale()) this.settleFirst()
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
    if (this.state.hasValue && !this.isStale()) this.settleFirst()
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

  /** The first load settled (or a value came without one): `start({ wait })` stops waiting for it. */
  settleFirst(): void {
    if (this.firstSettled) return
    this.flags |= FIRST_SETTLED
    this.host.firstSettled(this)
  }
}
