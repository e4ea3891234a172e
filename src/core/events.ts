import type { EvergreenError, LoadError, StoreError } from './errors.js'
import type { ValueSource } from './state.js'

/** A load succeeded. */
export interface LoadEvent {
  readonly name: string
  /** How long the loader took, in ms. */
  readonly duration: number
  /** Whether the value changed (by `equals`). */
  readonly changed: boolean
  readonly version: number
  readonly attempt: number
}

/** A load failed; the last good value (if any) was kept. */
export interface ErrorEvent {
  readonly name: string
  readonly error: LoadError
  readonly attempt: number
  /** Ms until the next attempt. */
  readonly retryIn: number
  /** Whether a last good value is still served. */
  readonly hasValue: boolean
}

/** The resource has a new value (loaded, restored or taken from another replica). */
export interface ChangeEvent {
  readonly name: string
  readonly value: unknown
  readonly previous: unknown
  readonly version: number
  readonly source: ValueSource
}

/** A saved value was served before any load. */
export interface RestoreEvent {
  readonly name: string
  readonly version: number
  /** Age of the saved value, in ms. */
  readonly age: number
}

/**
 * A store could not read, write or decode (a corrupt snapshot, a value that cannot be serialised,
 * Redis down). What is in memory is unaffected.
 */
export interface StoreErrorEvent {
  readonly name: string | undefined
  readonly error: StoreError
}

/** Every event a registry emits, with its payload. */
export interface ResourcesEvents {
  load: LoadEvent
  error: ErrorEvent
  change: ChangeEvent
  restore: RestoreEvent
  storeError: StoreErrorEvent
}

/** Builds the payload of a `'load'` event. */
export function loadEvent(
  name: string,
  duration: number,
  changed: boolean,
  version: number,
  attempt: number,
): LoadEvent {
  return { name, duration, changed, version, attempt }
}

/** Builds the payload of an `'error'` event. */
export function errorEvent(
  name: string,
  error: LoadError,
  attempt: number,
  retryIn: number,
  hasValue: boolean,
): ErrorEvent {
  return { name, error, attempt, retryIn, hasValue }
}

/** Builds the payload of a `'change'` event. */
export function changeEvent(
  name: string,
  value: unknown,
  previous: unknown,
  version: number,
  source: ValueSource,
): ChangeEvent {
  return { name, value, previous, version, source }
}

/** Builds the payload of a `'restore'` event. */
export function restoreEvent(name: string, version: number, age: number): RestoreEvent {
  return { name, version, age }
}

/** Builds the payload of a `'storeError'` event. */
export function storeErrorEvent(name: string | undefined, error: StoreError): StoreErrorEvent {
  return { name, error }
}

/** Removes the listener it was returned for. Calling it twice is harmless. */
export type Unsubscribe = () => void

/**
 * A minimal typed emitter. Listeners run in order of subscription; one that throws is reported
 * through `onListenerError` and the others still run, so no listener can break the refresh loop.
 */
export class Emitter<Events extends object> {
  readonly #listeners = new Map<keyof Events, Set<(payload: never) => void>>()
  readonly #onListenerError: (error: unknown, event: string) => void

  constructor(onListenerError: (error: unknown, event: string) => void) {
    this.#onListenerError = onListenerError
  }

  on<E extends keyof Events>(event: E, listener: (payload: Events[E]) => void): Unsubscribe {
    if (typeof listener !== 'function')
      throw new TypeError(`listener for "${String(event)}" must be a function`)
    let set = this.#listeners.get(event)
    if (set === undefined) this.#listeners.set(event, (set = new Set()))
    // Wrapped so the same function can be subscribed twice and unsubscribed independently.
    const entry = (payload: never) => listener(payload)
    set.add(entry)
    return () => {
      set.delete(entry)
    }
  }

  /** Whether anyone listens: lets callers skip building a payload nobody reads. */
  has(event: keyof Events): boolean {
    const set = this.#listeners.get(event)
    return set !== undefined && set.size > 0
  }

  /**
   * Calls the listeners present when the emit began, each once: one that subscribes (or
   * re-subscribes itself) during the emit is called from the next emit on, not in this one.
   */
  emit<E extends keyof Events>(event: E, payload: Events[E]): void {
    const set = this.#listeners.get(event)
    if (set === undefined || set.size === 0) return
    for (const listener of Array.from(set)) {
      try {
        ;(listener as (payload: Events[E]) => void)(payload)
      } catch (error) {
        this.#onListenerError(error, String(event))
      }
    }
  }

  clear(): void {
    this.#listeners.clear()
  }
}

export type { EvergreenError }
