import type { Engine } from './engine.js'
import type { LoadError } from './errors.js'
import {
  OptionTypeError,
  ResourceNotReadyError,
  ResourceStaleError,
  StoppedError,
  shorten,
} from './errors.js'
import { isLoading, type ResourceStatus, SCHEDULED, statusOf, type ValueSource } from './state.js'
import type { Subscriber } from './watchers.js'

export type { LoadContext, Loader } from './load.js'
export type { Subscriber } from './watchers.js'

/** A snapshot of a resource that never throws. */
export interface ResourceSnapshot<T> {
  readonly name: string
  readonly status: ResourceStatus
  readonly value: T | undefined
  readonly hasValue: boolean
  /** The last load error; `undefined` after a success. */
  readonly error: LoadError | undefined
  /** When the current value was loaded (wall-clock ms), or `undefined`. */
  readonly updatedAt: number | undefined
  /** Age of the current value in ms (monotonic: a wall-clock step does not change it), or `undefined`. */
  readonly age: number | undefined
  /** `'store'` while the value is one restored at start, `'load'` once a load succeeded. */
  readonly source: ValueSource | undefined
  readonly version: number
  readonly loads: number
  readonly failures: number
  readonly consecutiveFailures: number
  /** Whether a load is in flight (or queued for a slot). */
  readonly loading: boolean
  /** When the next scheduled load is due (wall-clock ms), or `undefined` if none is scheduled. */
  readonly nextRefreshAt: number | undefined
  /** When the current run of failures began (wall-clock ms), or `undefined` while the last load succeeded. */
  readonly failingSince: number | undefined
}

/** The engine behind each handle, for the registry; set once the class is defined. */
// biome-ignore lint/suspicious/noExplicitAny: handles of any value type
let engineOfHandle: (resource: Resource<any>) => Engine<any>
// biome-ignore lint/suspicious/noExplicitAny: engines of any value type
let newHandle: (engine: Engine<any>) => Resource<any>

/**
 * A named, always-warm value. Created by `Resources.define`; read with {@link Resource.get}. This is
 * the public handle only: the refresh machine behind it is the registry's.
 */
export class Resource<T = unknown> {
  readonly #engine: Engine<T>

  static {
    engineOfHandle = (resource) => resource.#engine
    newHandle = (engine) => new Resource(engine)
  }

  /** Use `Resources.define`. */
  private constructor(engine: Engine<T>) {
    this.#engine = engine
  }

  /** The resource's name. */
  get name(): string {
    return this.#engine.name
  }

  /**
   * The last good value, synchronously. Throws `ResourceNotReadyError` before the first value and,
   * when `maxStale` is set, `ResourceStaleError` once the value is older than that.
   */
  get(): T {
    const engine = this.#engine
    const state = engine.state
    if (state.hasValue && engine.settings.maxStale === Number.POSITIVE_INFINITY) return state.value as T
    return this.#getSlow()
  }

  #getSlow(): T {
    const engine = this.#engine
    const state = engine.state
    if (!state.hasValue) throw new ResourceNotReadyError(engine.name, state.error)
    const age = engine.time.now() - state.updatedAt
    const maxStale = engine.settings.maxStale
    if (age > maxStale) throw new ResourceStaleError(engine.name, age, maxStale, state.error)
    return state.value as T
  }

  /** A snapshot of the resource that never throws. */
  peek(): ResourceSnapshot<T> {
    const engine = this.#engine
    const state = engine.state
    const time = engine.time
    const now = time.now()
    return {
      name: engine.name,
      status: statusOf(state, now, engine.settings.maxStale),
      value: state.value,
      hasValue: state.hasValue,
      error: state.error,
      updatedAt: state.hasValue ? time.toWall(state.updatedAt) : undefined,
      age: state.hasValue ? Math.max(0, now - state.updatedAt) : undefined,
      source: state.source,
      version: state.version,
      loads: state.loads,
      failures: state.failures,
      consecutiveFailures: state.consecutiveFailures,
      loading: isLoading(engine.phase),
      nextRefreshAt: engine.phase === SCHEDULED ? time.toWall(engine.at) : undefined,
      failingSince:
        state.consecutiveFailures > 0 && !Number.isNaN(state.failingSince)
          ? time.toWall(state.failingSince)
          : undefined,
    }
  }

  /**
   * Loads now, or joins the load in flight. Resolves with the new value; rejects with the load's
   * error (a `LoadError`), and the last good value is kept.
   */
  refresh(): Promise<T> {
    return this.#engine.refresh()
  }

  /** Resolves with the first good value, at once if there is one. Rejects if the resource is removed or stopped first. */
  ready(): Promise<T> {
    const engine = this.#engine
    if (engine.state.hasValue) return Promise.resolve(engine.state.value as T)
    if (engine.closed) return Promise.reject(new StoppedError(engine.name, engine.closedWhy))
    return engine.watch().ready()
  }

  /** Calls `listener(value, previous)` on every change of value, the first included. */
  subscribe(listener: Subscriber<T>): () => void {
    if (typeof listener !== 'function')
      throw new OptionTypeError(`subscriber" of resource "${shorten(this.name)}`, 'a function', listener)
    const engine = this.#engine
    return engine.watch().subscribe(listener)
  }
}

/** The handle of `engine` (for the registry). */
export function handleOf<T>(engine: Engine<T>): Resource<T> {
  return newHandle(engine) as Resource<T>
}

/** The engine behind `resource` (for the registry). */
export function engineOf<T>(resource: Resource<T>): Engine<T> {
  return engineOfHandle(resource) as Engine<T>
}
