import type { Codec } from '../stores/codec.js'
import type { Lease } from '../stores/fleet.js'
import { allDone, both } from './async.js'
import {
  LoadAbortedError,
  LoadTimeoutError,
  StoppedError,
  StoreError,
  shorten,
  toLoadError,
} from './errors.js'
import { errorEvent, loadEvent } from './events.js'
import { FleetClaim } from './fleet-claim.js'
import type { Profile } from './host.js'
import { Load, type Loader, type LoadInstrument, type LoadOwner } from './load.js'
import { Persistence } from './persistence.js'
import { FIRST_SETTLED, ResourceRecord } from './record.js'
import { settle } from './settle.js'
import { applyLoadedAs } from './state.js'
import { delayAfterLoad, jittered, retryDelay, splayPhase } from './timing.js'

/**
 * The refresh machine of one resource: starts loads (or, in fleet mode, asks the fleet first),
 * settles them, times them out, schedules the next, and stops. What it keeps is its record's (see
 * record.ts); the parts for a store and a fleet are made only for resources that have them.
 */
export class Engine<T> extends ResourceRecord<T> implements LoadOwner<T> {
  readonly #loader: Loader<T>

  constructor(name: string, loader: Loader<T>, profile: Profile) {
    super(name, profile)
    this.#loader = loader
    const { store, persist } = profile.settings
    if (store !== undefined && persist) {
      const extra = this.extra()
      extra.persistence = new Persistence<T>(this, store)
      if (store.fleet !== undefined) extra.fleet = new FleetClaim<T>(this, store.fleet)
    }
  }

  // ---- driven by the registry and the handle -------------------------------------------------

  /** Reads the saved entry from the store, if the resource has one. */
  restore(): void {
    const persistence = this.persistence
    if (persistence === undefined || persistence.restoring !== undefined) return
    this.stepTo('restore')
    persistence.restore()
  }

  restoreEnded(): void {
    this.stepTo('restored')
  }

  /**
   * Begins the first load now, not from a timer: our timers are unref'd, so the loader's own I/O is
   * what keeps a script alive while it awaits `start({ wait: true })`. `index` of `count` started together.
   */
  start(index = 0, count = 1): void {
    this.splayPhase = splayPhase(this.settings, index, count, this.host.random)
    if (this.closed) return
    this.#next()
  }

  /** Loads now, or joins the load in flight. */
  refresh(): Promise<T> {
    if (this.closed) return Promise.reject(new StoppedError(this.name, this.closedWhy))
    const fleet = this.fleet
    if (this.inflight === undefined && fleet !== undefined) {
      this.host.scheduler.cancel(this)
      this.stepTo('claim')
      return fleet.claim(true).then((load) => {
        if (load !== undefined) return load.join()
        // Stopped or removed while the fleet was asked: no load may start any more.
        if (this.closed) throw new StoppedError(this.name, this.closedWhy)
        return this.startLoad().join()
      })
    }
    return this.startLoad().join()
  }

  /** Fleet mode: another replica announced `version`. */
  announced(version: number): void {
    this.fleet?.announced(version)
  }

  /** Stops refreshing: aborts the load in flight and rejects pending `ready()` calls. */
  stop(final: boolean): Promise<void> | undefined {
    this.host.scheduler.cancel(this)
    const why = final ? 'was removed' : 'was stopped'
    const load = this.inflight
    let done: Promise<void> | undefined
    if (load !== undefined) {
      done = load.done
      const error = new LoadAbortedError(this.name, why)
      load.abort(error)
      this.#detach(load)
      load.reject(error)
      // Handing the lease back lets another replica take over at once instead of after its expiry.
      if (load.lease !== undefined && this.fleet !== undefined)
        done = both(done, this.fleet.release(load.lease))
    }
    this.stepTo(final ? 'remove' : 'stop')
    const watchers = this.watchers
    if (watchers !== undefined) {
      watchers.rejectReady(() => new StoppedError(this.name, why))
      if (final) watchers.unsubscribeAll()
    }
    this.settleFirst()
    // A write still in flight lands before the store is closed (within the same grace as loads).
    const saving = this.persistence?.saving
    if (saving !== undefined) done = done === undefined ? saving : allDone([done, saving])
    return done
  }

  /**
   * The resource was removed: deletes its saved entry (after the writes in flight). Returns the
   * deletion, or `undefined` without a store.
   */
  forgetSaved(): Promise<void> | undefined {
    return this.persistence?.forget((error) =>
      this.host.report(
        StoreError.wrap(
          error,
          `could not delete the saved value of removed resource "${shorten(this.name)}"`,
          this.name,
        ),
        this.name,
        'delete',
      ),
    )
  }

  /** Allows a stopped (not removed) resource to start again. */
  reopen(): void {
    // A resource started again has a first load again, for `start({ wait })` to wait for.
    if (this.closed) this.flags &= ~FIRST_SETTLED
    this.stepTo('reopen')
  }

  // ---- loading -------------------------------------------------------------------------------

  /** The next refresh is due: load, or in fleet mode ask the fleet first. */
  #next(): void {
    if (this.inflight !== undefined) return
    const fleet = this.fleet
    if (fleet === undefined) this.startLoad()
    else {
      this.stepTo('claim')
      void fleet.claim(false)
    }
  }

  /** Called by the scheduler when the next refresh is due. */
  override run(): void {
    this.#next()
  }

  startLoad(lease?: Lease): Load<T> {
    const current = this.inflight
    if (current !== undefined) {
      if (lease !== undefined) this.fleet?.release(lease)
      return current
    }
    const host = this.host
    host.scheduler.cancel(this)
    const state = this.state
    const load = new Load<T>(this, state.value, state.consecutiveFailures + 1)
    load.lease = lease
    this.loadIndex = host.loads.add(load)
    this.stepTo('queue')
    // A first load waits for the restore, so it sees the saved value as `previous` and its version.
    const restoring = this.restoring
    if (restoring === undefined) host.limiter.run(load)
    else this.#runAfter(restoring, load)
    return load
  }

  // Closures live in methods of their own, off the hot path: V8 makes a function's closure context
  // on every call as soon as any closure in it captures `this` or a local, even in a branch not taken.

  #runAfter(restoring: Promise<void>, load: Load<T>): void {
    restoring.then(() => {
      if (!load.settled) this.host.limiter.run(load)
    })
  }

  begin(load: Load<T>): void {
    const host = this.host
    if (load.settled) {
      host.limiter.release()
      return
    }
    const now = host.time.now()
    load.markRunning()
    this.stepTo('run')
    this.startedAt = now
    if (this.settings.timeout !== Number.POSITIVE_INFINITY) host.deadlines.add(this, this.settings.timeout)
    if (load.lease !== undefined) this.fleet?.startRenewal(load, now)
    // The loader is called directly (not inside a promise executor: that costs a promise and two
    // microtask hops per load); a synchronous throw becomes a rejection, so settling stays async.
    let result: T | Promise<T>
    try {
      result = host.instrument === undefined ? this.#loader(load) : this.#instrumented(host.instrument, load)
    } catch (error) {
      result = Promise.reject(error)
    }
    load.done = settle(host.loads, this.loadIndex, result)
  }

  #instrumented(instrument: LoadInstrument, load: Load<T>): T | Promise<T> {
    return instrument.load(load, () => this.#loader(load))
  }

  /** The running load has run for its timeout. */
  override timedOut(): void {
    const load = this.inflight
    // Only a running load is among the deadlines, and it is the resource's load in flight.
    if (load === undefined || !load.running) return
    const error = new LoadTimeoutError(this.name, this.settings.timeout)
    load.abort(error)
    this.failed(load, error)
  }

  /** Detaches `load`: frees its slot and its timeout. Returns false if it had settled already. */
  #detach(load: Load<T>): boolean {
    if (load.settled) return false
    const host = this.host
    if (this.inflight === load) {
      host.loads.delete(this.loadIndex)
      this.loadIndex = -1
      this.stepTo('settle')
    }
    if (load.detach()) {
      host.limiter.release()
      host.deadlines.remove(this, this.settings.timeout)
    }
    const renewal = load.renewal
    if (renewal !== undefined) host.scheduler.cancel(renewal)
    return true
  }

  succeeded(load: Load<T>, value: T): void {
    if (load.lease !== undefined && !load.settled && this.host.time.now() > load.leaseUntil) {
      // The lease ran out before the load finished (the process was paused, say): another replica
      // may hold it and load now. The value is not written, and not served: one version, one value.
      const error = new LoadAbortedError(this.name, 'its fleet lease expired before the load finished')
      load.abort(error)
      this.failed(load, error)
      return
    }
    const codec = this.persistence === undefined ? undefined : this.settings.store?.codec
    if (codec !== undefined && !load.settled) {
      // Served as every other replica and a restarted process will read it: one value per version.
      const trip = roundTrip(codec, value, this.name)
      if (trip.error === undefined) value = trip.value as T
      else if (this.fleet !== undefined) {
        // No replica may serve a value the others cannot read.
        this.failed(load, trip.error)
        return
      }
      // Outside fleet mode the value is served as loaded; its write fails and is reported.
    }
    if (load.settled) return // timed out, aborted or superseded: a late result is discarded
    if (!this.#detach(load)) return
    const host = this.host
    const now = host.time.now()
    const state = this.state
    const previous = state.value
    const lease = load.lease
    // The user's equals runs first: if it throws, the load fails with that cause, the value is kept.
    let changed = true
    if (state.hasValue) {
      try {
        changed = !(this.settings.equals as (a: T, b: T) => boolean)(state.value as T, value)
      } catch (error) {
        this.#fail(load, error)
        return
      }
    }
    // Read before the next refresh is scheduled: the start shares its field with the due time.
    const duration = now - this.startedAt
    applyLoadedAs(state, value, now, changed, lease?.token)
    this.#schedule(delayAfterLoad(this.settings, state.loads, this.splayPhase), now)
    if (host.events.has('load')) {
      host.events.emit('load', loadEvent(this.name, duration, changed, state.version, load.attempt))
    }
    if (changed) this.changed(previous, 'load')
    const persistence = this.persistence
    if (persistence !== undefined) {
      const saved = persistence.save()
      // The lease is held until the write landed, so no other replica reloads in between.
      if (this.fleet !== undefined) this.#releaseAfter(persistence, saved, this.fleet, lease)
    } else if (lease !== undefined) this.fleet?.release(lease)
    load.resolve(state.value as T)
    this.settleFirst()
  }

  #releaseAfter(
    persistence: Persistence<T>,
    saved: Promise<void>,
    fleet: FleetClaim<T>,
    lease: Lease | undefined,
  ): void {
    persistence.track(
      saved
        .then(() => (lease === undefined ? undefined : fleet.release(lease)))
        .then(() => fleet.afterWrite()),
    )
  }

  failed(load: Load<T>, cause: unknown): void {
    if (this.#detach(load)) this.#fail(load, cause)
  }

  /** Fails `load`, already detached: keeps the value, schedules the retry, tells who listens. */
  #fail(load: Load<T>, cause: unknown): void {
    const host = this.host
    const error = toLoadError(this.name, cause)
    const now = host.time.now()
    this.apply({ type: 'failed', error, at: now })
    const retryIn = this.#schedule(retryDelay(this.settings, this.state.consecutiveFailures), now)
    if (host.events.has('error')) {
      host.events.emit('error', errorEvent(this.name, error, load.attempt, retryIn, this.state.hasValue))
    }
    host.report(error, this.name)
    const lease = load.lease
    if (lease !== undefined) this.fleet?.release(lease)
    load.reject(error)
    // Resolved after the restore too, so `start({ wait })` counts a restored value as ready.
    const restoring = this.restoring
    if (restoring === undefined) this.settleFirst()
    else restoring.then(() => this.settleFirst())
  }

  // ---- scheduling ----------------------------------------------------------------------------

  /** Schedules the next load `base` ms from `now`, give or take the jitter. Returns the delay. */
  #schedule(base: number, now?: number): number {
    const host = this.host
    if (this.closed || !host.started) {
      host.scheduler.cancel(this)
      this.stepTo('settle')
      return base
    }
    const delay = jittered(this.settings, base, host.random)
    host.scheduler.schedule(this, delay, now)
    this.stepTo('schedule')
    return delay
  }

  schedule(base: number): void {
    this.#schedule(base)
  }

  /** Fleet mode: schedules the next check one interval (give or take the jitter) after the monotonic `loadedAt`. */
  scheduleAfter(loadedAt: number): void {
    const host = this.host
    if (this.closed || !host.started) {
      if (this.inflight === undefined) this.stepTo('settle')
      return
    }
    host.scheduler.scheduleAt(this, loadedAt + jittered(this.settings, this.settings.interval, host.random))
    this.stepTo('schedule')
  }
}

/** `value` through `codec` and back, or the `StoreError` that says why it cannot be. */
function roundTrip(
  codec: Codec,
  value: unknown,
  name: string,
): { value: unknown; error: undefined } | { value: undefined; error: StoreError } {
  try {
    return { value: codec.decode(codec.encode(value)), error: undefined }
  } catch (error) {
    const why = StoreError.wrap(
      error,
      `the value of resource "${shorten(name)}" does not survive its store's codec, so no replica may serve it`,
      name,
    )
    return { value: undefined, error: why }
  }
}
