import { describe, LoadError, type LoadTimeoutError } from '../core/errors.js'
import type { TimedEntry } from '../core/host.js'
import type { Load, LoadContext, LoadOwner } from '../core/load.js'
import { requestedDelay, type TimingSettings } from '../core/timing.js'
import type { DeadlineEntry } from '../scheduling/deadlines.js'

/** Loads a family's key. */
export type KeyLoader<V> = (key: string, context: LoadContext<V>) => V | Promise<V>

/** What a flight reports to: its family. */
export interface FlightOwner<V> {
  readonly name: string
  /** The limiter gave the flight's load a slot. */
  run(flight: KeyFlight<V>): void
  landed(flight: KeyFlight<V>, value: V): void
  crashed(flight: KeyFlight<V>, error: unknown): void
  timedOut(flight: KeyFlight<V>): LoadTimeoutError
}

/**
 * One load of one key in flight, and everyone waiting for it: the key's single flight. Made when
 * the load begins and dropped when it settles, so a family holds these only for keys loading now,
 * never per key. It is the `Load`'s owner and the load's timeout entry, like a resource's record
 * is for the resource's load: the registry's limiter, load table, deadlines and settle path run
 * it unchanged.
 */
export class KeyFlight<V> implements LoadOwner<V>, TimedEntry {
  load!: Load<V>
  loadIndex = -1
  startedAt = 0
  /** The delay the loader asked for with `refreshIn` (ms), or -1. */
  requested = -1
  deadlinePrev: DeadlineEntry | undefined = undefined
  deadlineNext: DeadlineEntry | undefined = undefined
  /** The promise `fetch` callers share, made on first use. */
  #promise: Promise<V> | undefined = undefined
  #resolve: ((value: V) => void) | undefined = undefined
  #reject: ((error: unknown) => void) | undefined = undefined

  constructor(
    readonly family: FlightOwner<V>,
    readonly key: string,
  ) {}

  get name(): string {
    return this.family.name
  }

  begin(_load: Load<V>): void {
    this.family.run(this)
  }

  succeeded(_load: Load<V>, value: V): void {
    this.family.landed(this, value)
  }

  failed(_load: Load<V>, error: unknown): void {
    this.family.crashed(this, error)
  }

  requestDelay(ms: number): void {
    this.requested = ms
  }

  /** The delay the loader asked for (within its bounds), or `fallback`. */
  delayOr(settings: TimingSettings, fallback: number): number {
    return this.requested >= 0 ? requestedDelay(settings, this.requested) : fallback
  }

  timedOut(): void {
    if (!this.load.running) return
    const error = this.family.timedOut(this)
    this.load.abort(error)
    this.family.crashed(this, error)
  }

  /** The promise every waiting `fetch` shares. */
  get promise(): Promise<V> {
    if (this.#promise === undefined) {
      this.#promise = new Promise<V>((resolve, reject) => {
        this.#resolve = resolve
        this.#reject = reject
      })
    }
    return this.#promise
  }

  resolve(value: V): void {
    this.#resolve?.(value)
  }

  reject(error: unknown): void {
    this.#reject?.(error)
  }
}

/** The error a key's failed load ends with: `cause` itself when it is a `LoadError`, else one naming the key. */
export function keyLoadError(family: string, key: string, cause: unknown): LoadError {
  if (cause instanceof LoadError) return cause
  const why = cause instanceof Error ? describe(cause.message) : describe(cause)
  return new LoadError(
    family,
    cause,
    'E_LOAD_FAILED',
    `family "${family}" key ${describe(key)} failed to load: ${why}`,
  )
}
