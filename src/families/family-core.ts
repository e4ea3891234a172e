import { LoadAbortedError, LoadError, LoadTimeoutError } from '../core/errors.js'
import type { EngineHost } from '../core/host.js'
import { Load } from '../core/load.js'
import { settle } from '../core/settle.js'
import { IDLE, type LifecycleEvent, type Phase, SCHEDULED, step } from '../core/state.js'
import { jittered, retryDelay } from '../core/timing.js'
import { Task } from '../scheduling/scheduler.js'
import { DueQueue } from './due-queue.js'
import { FailureBudget } from './failure-budget.js'
import type { FamilySettings } from './family-options.js'
import { FamilyTable } from './family-table.js'
import { type FlightOwner, KeyFlight, type KeyLoader, keyLoadError } from './key-flight.js'
import type { KeyTable } from './key-table.js'
import { weigh } from './weigh.js'

/**
 * The bit of a key's phase byte that says it was read since its last due refresh. A read sets it
 * instead of reading the clock (a clock read costs several times a whole warm read); the due pass
 * turns it into `lastReadAt`, so a key is dropped at the first due refresh at least `idleTimeout`
 * after its last read, never earlier (at most one interval later).
 */
export const READ = 0x80
const PHASE = 0x7f

/** Due refreshes handled in one run of the family's task before it yields to the scheduler. */
const PASS_LIMIT = 512

/**
 * The refresh machine of a family: its keys' values and per-key state in a {@link FamilyTable},
 * their refresh times in a {@link DueQueue} driven by ONE task of the registry's scheduler, and
 * each key's load run through the registry's limiter, load table, deadlines and settle path (the
 * same ones a resource's load goes through), by a {@link KeyFlight} that exists only while the key
 * loads. The lifecycle phase of each key moves through the same reducer (`step`) as a resource's,
 * and its delays come from the same timing policy.
 */
export class FamilyCore<V> implements FlightOwner<V> {
  readonly table: FamilyTable<V>
  /** The table's storage, for the read path. */
  readonly keys: KeyTable<V>
  /** The `maxStale` of every key, in ms. */
  readonly maxStale: number
  readonly flights = new Map<string, KeyFlight<V>>()
  /** The last error of each key whose last load failed. */
  readonly errors = new Map<string, LoadError>()
  readonly #due = new DueQueue()
  readonly #task: Task
  hits = 0
  misses = 0
  loads = 0
  failures = 0
  idleDrops = 0
  closed = false
  readonly #budget: FailureBudget

  constructor(
    readonly name: string,
    readonly loader: KeyLoader<V>,
    readonly options: FamilySettings<unknown, V>,
    readonly host: EngineHost,
  ) {
    this.table = new FamilyTable<V>({
      maxKeys: options.maxKeys,
      maxSize: options.maxSize,
      policy: options.policy,
      onEvict: (key) => this.errors.delete(key),
    })
    this.keys = this.table.table
    this.maxStale = options.settings.maxStale
    this.#task = new Task(() => this.#pass())
    this.#budget = new FailureBudget(options.failureBudget)
  }

  get evictions(): number {
    return this.table.evictions + this.idleDrops
  }

  now(): number {
    return this.host.time.now()
  }

  #step(slot: number, event: LifecycleEvent): void {
    const t = this.table.table
    const byte = t.phase(slot)
    t.setPhase(slot, (byte & READ) | step((byte & PHASE) as Phase, event))
  }

  // ---- loads -------------------------------------------------------------------------------

  /** Whether a failing key may load now: the family-wide budget of loads of failing keys. */
  spend(now: number): boolean {
    return this.#budget.spend(now)
  }

  /**
   * The key's flight: the one in flight, or a new load. A key not held is taken into the table
   * first (so `size` counts keys loading for the first time), `lastReadAt` set to now: a key is
   * idle when not read for `idleTimeout` since it was read or created.
   */
  load(key: string): KeyFlight<V> {
    const current = this.flights.get(key)
    if (current !== undefined) return current
    const table = this.table
    let slot = table.find(key)
    if (slot === -1) {
      slot = table.set(key, undefined)
      if (slot !== -1) table.table.setLastReadAt(slot, this.now())
    }
    const t = table.table
    const flight = new KeyFlight<V>(this, key)
    const previous = slot === -1 ? undefined : t.valueAt(slot)
    const load = new Load<V>(flight, previous, slot === -1 ? 1 : t.failures(slot) + 1)
    flight.load = load
    flight.loadIndex = this.host.loads.add(load)
    this.flights.set(key, flight)
    if (slot !== -1) this.#step(slot, 'queue')
    this.host.limiter.run(load)
    return flight
  }

  run(flight: KeyFlight<V>): void {
    const host = this.host
    const load = flight.load
    if (load.settled) {
      host.limiter.release()
      return
    }
    load.markRunning()
    flight.startedAt = host.time.now()
    this.loads++
    const slot = this.table.find(flight.key)
    if (slot !== -1) this.#step(slot, 'run')
    const timeout = this.options.settings.timeout
    if (timeout !== Number.POSITIVE_INFINITY) host.deadlines.add(flight, timeout)
    let result: V | Promise<V>
    try {
      const instrument = host.instrument
      result =
        instrument === undefined
          ? this.loader(flight.key, load)
          : instrument.load(load, () => this.loader(flight.key, load))
    } catch (error) {
      result = Promise.reject(error)
    }
    load.done = settle(host.loads, flight.loadIndex, result)
  }

  /** Detaches the flight's load; false when it had settled already (a late result). */
  #detach(flight: KeyFlight<V>): boolean {
    const load = flight.load
    if (load.settled) return false
    const host = this.host
    host.loads.delete(flight.loadIndex)
    flight.loadIndex = -1
    if (this.flights.get(flight.key) === flight) this.flights.delete(flight.key)
    if (load.detach()) {
      host.limiter.release()
      host.deadlines.remove(flight, this.options.settings.timeout)
    }
    return true
  }

  timedOut(_flight: KeyFlight<V>): LoadTimeoutError {
    return new LoadTimeoutError(this.name, this.options.settings.timeout)
  }

  landed(flight: KeyFlight<V>, loaded: V): void {
    if (!this.#detach(flight)) return
    const now = this.now()
    const key = flight.key
    const settings = this.options.settings
    const value = this.store(key, loaded, now, 'load', flight.delayOr(settings, settings.interval))
    const events = this.host.events
    if (events.has('load')) {
      const version = this.version(key)
      const payload = {
        name: this.name,
        family: this.name,
        key,
        duration: now - flight.startedAt,
        changed: true,
        version,
        attempt: flight.load.attempt,
      }
      events.emit('load', payload)
    }
    flight.load.resolve(value)
    flight.resolve(value)
  }

  crashed(flight: KeyFlight<V>, cause: unknown): void {
    if (!this.#detach(flight)) return
    const now = this.now()
    const key = flight.key
    const error = keyLoadError(this.name, key, cause)
    this.failures++
    this.errors.set(key, error)
    const table = this.table
    const slot = table.find(key)
    let retryIn = retryDelay(this.options.settings, 1)
    let hasValue = false
    if (slot !== -1) {
      const t = table.table
      t.setFailures(slot, t.failures(slot) + 1)
      retryIn = flight.delayOr(this.options.settings, retryDelay(this.options.settings, t.failures(slot)))
      hasValue = t.version(slot) > 0
      if (hasValue) this.schedule(slot, retryIn, now)
      else {
        // A cold failed key is not retried in the background; its backoff gates the next read's load.
        t.setNextDueAt(slot, now + retryIn)
        this.#step(slot, 'settle')
        table.setEvictFirst(slot, true)
      }
    }
    const events = this.host.events
    if (events.has('error')) {
      const payload = {
        name: this.name,
        family: this.name,
        key,
        error,
        attempt: flight.load.attempt,
        retryIn,
        hasValue,
      }
      events.emit('error', payload)
    }
    this.host.report(error, this.name)
    flight.load.reject(error)
    flight.reject(error)
  }

  /**
   * Holds `value` for `key` as a load or a push does: version, time, failures cleared, next
   * refresh scheduled, `'change'` emitted. Returns the value held (the previous one when equal).
   */
  store(key: string, value: V, now: number, source: 'load' | 'set', next?: number): V {
    const table = this.table
    const t = table.table
    let slot = table.find(key)
    const hadValue = slot !== -1 && t.version(slot) > 0
    const previous = slot === -1 ? undefined : t.valueAt(slot)
    const equals = this.options.settings.equals as (a: V, b: V) => boolean
    let same = false
    if (hadValue) {
      try {
        same = equals(previous as V, value)
      } catch {
        same = false
      }
    }
    let weight = 1
    if (this.options.sizeOf !== undefined) {
      try {
        weight = weigh(this.options.sizeOf, value, key)
      } catch (error) {
        this.host.report(new LoadError(this.name, error), this.name)
        if (slot !== -1) table.delete(key)
        return value
      }
    }
    const kept = same ? (previous as V) : value
    const created = slot === -1
    slot = table.set(key, kept, weight)
    if (slot === -1) return kept
    if (created) t.setLastReadAt(slot, now)
    if (!same) t.setVersion(slot, t.version(slot) + 1)
    t.setUpdatedAt(slot, now)
    t.setFailures(slot, 0)
    this.errors.delete(key)
    if (table.isEvictFirst(slot)) table.setEvictFirst(slot, false)
    this.schedule(slot, next ?? this.options.settings.interval, now)
    const events = this.host.events
    if (!same && events.has('change')) {
      const payload = {
        name: this.name,
        family: this.name,
        key,
        value: kept,
        previous,
        version: t.version(slot),
        source: source === 'set' ? 'load' : source,
      }
      events.emit('change', payload)
    }
    return kept
  }

  version(key: string): number {
    const slot = this.table.find(key)
    return slot === -1 ? 0 : this.table.table.version(slot)
  }

  // ---- scheduling --------------------------------------------------------------------------

  /** Schedules the key in `slot` to refresh `base` ms from `now`, give or take the jitter. */
  schedule(slot: number, base: number, now: number): void {
    const host = this.host
    if (!host.started || this.closed) {
      this.table.table.setNextDueAt(slot, 0)
      this.#step(slot, 'settle')
      return
    }
    const at = now + jittered(this.options.settings, base, host.random)
    this.table.table.setNextDueAt(slot, at)
    this.#due.push(at, slot)
    this.#step(slot, 'schedule')
    const task = this.#task
    if (!task.scheduled || task.at > at) host.scheduler.scheduleAt(task, at)
  }

  /** The family's task: refreshes the keys that are due, drops those idle for `idleTimeout`. */
  #pass(): void {
    const now = this.now()
    const due = this.#due
    const table = this.table
    const t = table.table
    const idle = this.options.idleTimeout
    let handled = 0
    // Within a millisecond, like the scheduler: a task may run that much early.
    while (due.size > 0 && due.nextAt <= now + 1 && handled < PASS_LIMIT) {
      const at = due.nextAt
      const slot = due.nextSlot
      due.pop()
      const key = t.keyAt(slot)
      if (key === undefined || t.nextDueAt(slot) !== at) continue // stale: moved or gone
      handled++
      t.setNextDueAt(slot, 0)
      this.#step(slot, 'settle')
      const byte = t.phase(slot)
      if (byte & READ) {
        t.setLastReadAt(slot, now)
        t.setPhase(slot, byte & PHASE)
      }
      if (now - t.lastReadAt(slot) >= idle) {
        table.delete(key)
        this.errors.delete(key)
        this.idleDrops++
        continue
      }
      if (this.flights.has(key)) continue
      if (t.failures(slot) > 0 && !this.spend(now)) {
        this.schedule(slot, retryDelay(this.options.settings, t.failures(slot)), now)
        continue
      }
      this.load(key)
    }
    if (due.size > 2 * table.size + 1024)
      due.compact((at, slot) => t.keyAt(slot) !== undefined && t.nextDueAt(slot) === at)
    if (due.size > 0 && this.host.started && !this.closed)
      this.host.scheduler.scheduleAt(this.#task, Math.max(due.nextAt, now))
  }

  /** The registry started: keys with a value and no refresh scheduled get one, spread over an interval. */
  start(): void {
    const t = this.table.table
    const now = this.now()
    const interval = this.options.settings.interval
    for (const slot of t.slots()) {
      if (
        t.version(slot) > 0 &&
        (t.phase(slot) & PHASE) !== SCHEDULED &&
        !this.flights.has(t.keyAt(slot) as string)
      ) {
        this.schedule(slot, Math.max(1, interval * this.host.random()), now)
      }
    }
  }

  /** Stops refreshing and aborts the loads in flight; resolves when their loaders have settled. */
  stop(why: string): Promise<void> | undefined {
    this.host.scheduler.cancel(this.#task)
    this.#due.clear()
    const t = this.table.table
    for (const slot of t.slots()) {
      t.setNextDueAt(slot, 0)
      if ((t.phase(slot) & PHASE) === SCHEDULED) t.setPhase(slot, (t.phase(slot) & READ) | IDLE)
    }
    const pending: Promise<void>[] = []
    for (const flight of [...this.flights.values()]) {
      const done = this.abort(flight, why)
      if (done !== undefined) pending.push(done)
    }
    return pending.length === 0 ? undefined : Promise.all(pending).then(() => {})
  }

  /** Aborts a flight: its waiters get a `LoadAbortedError`. Returns the loader's promise, if it ran. */
  abort(flight: KeyFlight<V>, why: string): Promise<void> | undefined {
    const load = flight.load
    const done = load.done
    if (!this.#detach(flight)) return undefined
    const error = new LoadAbortedError(this.name, why)
    load.abort(error)
    load.reject(error)
    flight.reject(error)
    const slot = this.table.find(flight.key)
    if (slot !== -1) this.#step(slot, 'settle')
    return done
  }
}
