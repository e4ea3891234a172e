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

/**
 * Where a resource stands in its refresh cycle, as one small integer (compact per-key state can hold
 * it in a typed array). It changes only through {@link step}:
 * - `IDLE`: nothing in flight, nothing scheduled (defined before `start()`, or loaded by `refresh()`
 *   while not started);
 * - `RESTORING`: only the read of its saved entry is under way;
 * - `CLAIMING`: fleet mode, asking the fleet whether to load, adopt or wait;
 * - `QUEUED`: a load waits for a slot (or for the restore);
 * - `LOADING`: the loader runs;
 * - `SCHEDULED`: the next refresh is due at a set time;
 * - `STOPPED`: the registry stopped; a `start()` reopens it;
 * - `REMOVED`: final.
 */
export const IDLE = 0
export const RESTORING = 1
export const CLAIMING = 2
export const QUEUED = 3
export const LOADING = 4
export const SCHEDULED = 5
export const STOPPED = 6
export const REMOVED = 7
export type Phase = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7

/** What moves a resource through its {@link Phase}s. */
export type LifecycleEvent =
  | 'restore'
  | 'restored'
  | 'claim'
  | 'queue'
  | 'run'
  | 'schedule'
  | 'settle'
  | 'stop'
  | 'remove'
  | 'reopen'

/**
 * The lifecycle's reducer: the phase after `event` in `phase`. A stopped resource moves only on
 * `reopen` (or `remove`); a removed one never moves again. Events that do not apply leave the phase.
 */
export function step(phase: Phase, event: LifecycleEvent): Phase {
  if (phase === REMOVED) return REMOVED
  if (event === 'remove') return REMOVED
  if (event === 'stop') return STOPPED
  if (phase === STOPPED) return event === 'reopen' ? IDLE : STOPPED
  switch (event) {
    case 'restore':
      return phase === IDLE ? RESTORING : phase
    case 'restored':
      return phase === RESTORING ? IDLE : phase
    case 'claim':
      return CLAIMING
    case 'queue':
      return QUEUED
    case 'run':
      return phase === QUEUED ? LOADING : phase
    case 'schedule':
      return SCHEDULED
    case 'settle':
      return IDLE
    case 'reopen':
      return phase
  }
}

/** Whether a resource in `phase` has a load in flight (or queued for a slot). */
export function isLoading(phase: Phase): boolean {
  return phase === QUEUED || phase === LOADING
}

/** Whether a resource in `phase` was stopped or removed: no load may start. */
export function isClosed(phase: Phase): boolean {
  return phase >= STOPPED
}

/** Where a value came from: `load` (this process), `store` (restored at start), `fleet` (another replica). */
export type ValueSource = 'load' | 'store' | 'fleet'

/** Everything known about one resource, as observers read it. */
export interface ResourceState<T = unknown> {
  readonly value: T | undefined
  readonly hasValue: boolean
  /** Where the current value came from: this process's loader, a restore, or another replica's load. */
  readonly source: ValueSource | undefined
  /** Highest version known: grows with each successful load and follows restored entries. */
  readonly version: number
  /**
   * When the current value was loaded (clock ms); for a restored value, when it was loaded
   * originally. `NaN` without a value: a number either way, so writing it never allocates.
   */
  readonly updatedAt: number
  /** The last failure, cleared by the next success. */
  readonly error: LoadError | undefined
  /** Successful loads in this process. */
  readonly loads: number
  /** Failed loads in this process. */
  readonly failures: number
  /** Failures since the last success; drives the backoff. */
  readonly consecutiveFailures: number
  /** When the first of the consecutive failures happened (clock ms); `NaN` while none. */
  readonly failingSince: number
}

/**
 * The one state record a resource owns, changed in place by {@link apply}. In place rather than a
 * new object per change: a state lives a whole interval, so a copy per load would be promoted to
 * the old generation and collected there, 100,000 times a second at scale.
 */
export type MutableState<T = unknown> = { -readonly [K in keyof ResourceState<T>]: ResourceState<T>[K] }

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
  | {
      readonly type: 'failed'
      readonly error: LoadError
      /** When it failed (clock ms): starts `failingSince` on a first failure. Unknown (`NaN`) if absent. */
      readonly at?: number
    }
  | { readonly type: 'restored'; readonly value: T; readonly version: number; readonly loadedAt: number }
  | {
      readonly type: 'synced'
      readonly value: T
      readonly version: number
      readonly loadedAt: number
      readonly equals: (a: T, b: T) => boolean
      /** Also take an entry of the version already held: the store refused our write of it. */
      readonly sameVersion?: boolean
    }
  | { readonly type: 'seen'; readonly version: number }

/** A new state record: no value, nothing happened yet. */
export function createState<T>(): MutableState<T> {
  return {
    value: undefined,
    hasValue: false,
    source: undefined,
    version: 0,
    updatedAt: Number.NaN,
    error: undefined,
    loads: 0,
    failures: 0,
    consecutiveFailures: 0,
    failingSince: Number.NaN,
  }
}

/**
 * The only place a resource's state changes: applies `action` to `state` in place. A failure never
 * touches the value; a restored entry applies only while nothing newer is known; an equal loaded
 * value keeps the previous object. Returns whether the value was replaced (the first value counts).
 */
export function apply<T>(state: MutableState<T>, action: ResourceAction<T>): boolean {
  switch (action.type) {
    case 'loaded':
      return applyLoaded(state, action.value, action.at, action.equals, action.version)
    case 'failed':
      state.error = action.error
      if (state.consecutiveFailures === 0) state.failingSince = action.at ?? Number.NaN
      state.failures++
      state.consecutiveFailures++
      return false
    case 'restored':
      if (state.hasValue || action.version <= state.version) {
        if (action.version > state.version) state.version = action.version
        return false
      }
      state.value = action.value
      state.hasValue = true
      state.source = 'store'
      state.version = action.version
      state.updatedAt = action.loadedAt
      return true
    case 'synced': {
      // Another replica loaded a newer version (or the same one, whose write won over ours): it is as
      // good as a load of ours, failures included.
      if (!takesShared(state, action.version, action.sameVersion === true)) return false
      const replaced = !state.hasValue || !action.equals(state.value as T, action.value)
      if (replaced) state.value = action.value
      state.hasValue = true
      state.source = 'fleet'
      state.version = action.version
      state.updatedAt = action.loadedAt
      state.error = undefined
      state.consecutiveFailures = 0
      state.failingSince = Number.NaN
      return replaced
    }
    case 'seen':
      if (action.version > state.version) state.version = action.version
      return false
  }
}

/**
 * Whether a shared entry of `version` is to be taken: a newer one always, one of the version already
 * held only when the store refused our write of it (`sameVersion`).
 */
export function takesShared(state: ResourceState, version: number, sameVersion: boolean): boolean {
  return version > state.version || (version === state.version && sameVersion)
}

/**
 * {@link apply} of a `loaded` action, taking its fields as arguments: a successful load is the one
 * change made 100,000 times a second at scale, and this way it builds no action object.
 */
export function applyLoaded<T>(
  state: MutableState<T>,
  value: T,
  at: number,
  equals: (a: T, b: T) => boolean,
  version: number | undefined,
): boolean {
  const replaced = !state.hasValue || !equals(state.value as T, value)
  applyLoadedAs(state, value, at, replaced, version)
  return replaced
}

/**
 * {@link applyLoaded} with the comparison already made (`replaced`: the value differs, or there was
 * none): the caller ran the user's `equals` itself, so a throw from it can fail the load instead.
 */
export function applyLoadedAs<T>(
  state: MutableState<T>,
  value: T,
  at: number,
  replaced: boolean,
  version: number | undefined,
): void {
  if (replaced) state.value = value
  state.hasValue = true
  state.source = 'load'
  state.version = Math.max(state.version + 1, version ?? 0)
  state.updatedAt = at
  state.error = undefined
  state.loads++
  state.consecutiveFailures = 0
  state.failingSince = Number.NaN
}

/** The status of `state` at (monotonic) clock time `now`. */
export function statusOf(state: ResourceState, now: number, maxStale: number): ResourceStatus {
  if (!state.hasValue) return state.error === undefined ? 'pending' : 'failed'
  if (now - state.updatedAt > maxStale) return 'stale'
  if (state.error !== undefined) return 'degraded'
  return state.source === 'store' ? 'restored' : 'ready'
}
