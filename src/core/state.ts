import type { LoadError } from './errors.js'

/**
 * Where a resource stands:
 * - `pending`: no value yet, no failed load yet;
 * - `ready`: a value from this process's last load, which succeeded;
 * - `restored`: a value restored from a store, no load has succeeded yet;
 * - `degraded`: a value, but the last load failed (the last good value is served);
 * - `failed`: no value, and loads have failed;
 * - `stale`: a value older than `maxStale` (`get()` throws).
 */
export type ResourceStatus = 'pending' | 'ready' | 'restored' | 'degraded' | 'failed' | 'stale'

/** Where a value came from: `load` (this process), `store` (restored at start), `fleet` (another replica). */
export type ValueSource = 'load' | 'store' | 'fleet'

/** Everything known about one resource. Immutable: each change makes a new state. */
export interface ResourceState<T = unknown> {
  readonly value: T | undefined
  readonly hasValue: boolean
  /** Where the current value came from: this process's loader, a restore, or another replica's load. */
  readonly source: ValueSource | undefined
  /** Highest version known: grows with each successful load and follows restored entries. */
  readonly version: number
  /** When the current value was loaded (clock ms); for a restored value, when it was loaded originally. */
  readonly updatedAt: number | undefined
  /** The last failure, cleared by the next success. */
  readonly error: LoadError | undefined
  readonly failedAt: number | undefined
  /** Successful loads in this process. */
  readonly loads: number
  /** Failed loads in this process. */
  readonly failures: number
  /** Failures since the last success; drives the backoff. */
  readonly consecutiveFailures: number
}

/** What can happen to a resource. */
export type ResourceAction<T = unknown> =
  | {
      readonly type: 'loaded'
      readonly value: T
      readonly at: number
      readonly equals: (a: T, b: T) => boolean
      /** The version to take (a fleet lease's fencing token); at least one above the current. */
      readonly version?: number | undefined
    }
  | { readonly type: 'failed'; readonly error: LoadError; readonly at: number }
  | { readonly type: 'restored'; readonly value: T; readonly version: number; readonly loadedAt: number }
  | {
      readonly type: 'synced'
      readonly value: T
      readonly version: number
      readonly loadedAt: number
      readonly equals: (a: T, b: T) => boolean
    }
  | { readonly type: 'seen'; readonly version: number }

export const initialState: ResourceState<never> = Object.freeze({
  value: undefined,
  hasValue: false,
  source: undefined,
  version: 0,
  updatedAt: undefined,
  error: undefined,
  failedAt: undefined,
  loads: 0,
  failures: 0,
  consecutiveFailures: 0,
})

/**
 * The only place a resource's state changes. A failure never touches the value; a restored entry
 * applies only while nothing newer is known; an equal loaded value keeps the previous object.
 */
export function reduce<T>(state: ResourceState<T>, action: ResourceAction<T>): ResourceState<T> {
  switch (action.type) {
    case 'loaded': {
      const same = state.hasValue && action.equals(state.value as T, action.value)
      // Spelled out rather than spread: this runs on every load, and a literal is markedly cheaper.
      return {
        value: same ? state.value : action.value,
        hasValue: true,
        source: 'load',
        version: Math.max(state.version + 1, action.version ?? 0),
        updatedAt: action.at,
        error: undefined,
        failedAt: undefined,
        loads: state.loads + 1,
        failures: state.failures,
        consecutiveFailures: 0,
      }
    }
    case 'failed':
      return {
        ...state,
        error: action.error,
        failedAt: action.at,
        failures: state.failures + 1,
        consecutiveFailures: state.consecutiveFailures + 1,
      }
    case 'restored':
      if (state.hasValue || action.version <= state.version)
        return reduce(state, { type: 'seen', version: action.version })
      return {
        ...state,
        value: action.value,
        hasValue: true,
        source: 'store',
        version: action.version,
        updatedAt: action.loadedAt,
      }
    case 'synced': {
      // Another replica loaded a newer version: it is as good as a load of ours, failures included.
      if (action.version <= state.version) return state
      const same = state.hasValue && action.equals(state.value as T, action.value)
      return {
        ...state,
        value: same ? state.value : action.value,
        hasValue: true,
        source: 'fleet',
        version: action.version,
        updatedAt: action.loadedAt,
        error: undefined,
        failedAt: undefined,
        consecutiveFailures: 0,
      }
    }
    case 'seen':
      return action.version > state.version ? { ...state, version: action.version } : state
  }
}

/** Whether the last `loaded` action replaced the value (as opposed to keeping an equal one). */
export function valueChanged<T>(before: ResourceState<T>, after: ResourceState<T>): boolean {
  return !before.hasValue || !Object.is(before.value, after.value)
}

/** The status of `state` at clock time `now`. */
export function statusOf(state: ResourceState, now: number, maxStale: number): ResourceStatus {
  if (!state.hasValue) return state.error === undefined ? 'pending' : 'failed'
  if (now - (state.updatedAt ?? now) > maxStale) return 'stale'
  if (state.error !== undefined) return 'degraded'
  return state.source === 'store' ? 'restored' : 'ready'
}
