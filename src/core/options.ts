import type { Clock } from '../scheduling/clock.js'
import { systemClock } from '../scheduling/clock.js'
import type { Store } from '../stores/store.js'
import { type Duration, positiveDuration } from './duration.js'
import type { EvergreenError } from './errors.js'
import { OptionRangeError, OptionTypeError, shorten } from './errors.js'
import type { LoadInstrument } from './load.js'

/** How failed loads are retried: exponential backoff, capped at the interval, with the same jitter. */
export interface RetryOptions {
  /** Delay before the first retry. Positive. @default '1s' (never more than `max`) */
  initial?: Duration
  /** Growth of the delay per consecutive failure. At least 1. @default 2 */
  factor?: number
  /** Longest delay between retries; capped at `interval`. Positive. @default the interval */
  max?: Duration
}

/** Options that may be set on the registry (as defaults) and overridden per resource in `define`. */
export interface ResourceOptions<T = unknown> {
  /**
   * Time between a load settling and the next load starting (fixed delay, so loads never overlap).
   * Positive and finite. @default '1m'
   */
  interval?: Duration
  /**
   * Fraction of each delay added or removed at random, so resources and replicas drift apart
   * instead of refreshing in lock-step. Between 0 and 1. @default 0.1
   */
  jitter?: number
  /**
   * Spreads a resource's first refresh over the interval: it comes `interval × (1 − splay × (1 − p))`
   * after the first successful load, and jitter applies on top. The phase `p` of the k-th of n
   * resources started together by `start()` is `(k + u) / n`, `u` uniform in [0, 1): evenly spread,
   * in the order they were defined; a resource defined later gets `u`. A herd that loads together at
   * start then refreshes spread out from the first interval on, instead of together for many
   * intervals while jitter slowly pulls it apart. Only that one delay changes, and only ever
   * shorter (but never below 1 ms). Between 0 and 1.
   * @default 1, or 0 when `jitter` is 0 (without jitter a registry has no randomness at all)
   */
  splay?: number
  /**
   * A load not settled by then fails with `LoadTimeoutError`, its signal is aborted, its slot freed
   * and its late result discarded. Positive; `Infinity` disables it. @default '30s'
   */
  timeout?: Duration
  /**
   * Backoff after failures, or `false` to wait a full `interval` after a failure too.
   * @default { initial: '1s', factor: 2, max: interval }
   */
  retry?: RetryOptions | false
  /**
   * Opt-in bound on age: `get()` throws `ResourceStaleError` when the last successful load is older.
   * Positive; `Infinity` means no bound. @default Infinity (the last good value is served forever)
   */
  maxStale?: Duration
  /**
   * Decides whether a new value differs from the previous one. When equal, the previous object is
   * kept (its identity is stable) and no `'change'` is emitted. @default Object.is
   */
  equals?: (a: T, b: T) => boolean
  /** Where last good values are saved and restored from (warm restarts). @default none */
  store?: Store | undefined
  /** Whether this resource's values are saved to the store. @default true */
  persist?: boolean
  /**
   * Restored values older than this (by their load time) are ignored. Positive; `Infinity` for no bound.
   * @default Infinity
   */
  maxRestoredAge?: Duration
  /**
   * Whether readiness (`status().healthy`) depends on this resource. A resource marked `false`
   * still shows as failing in `status()`, but does not make the registry unready. @default true
   */
  critical?: boolean
}

/** Options of a `Resources` registry. */
export interface ResourcesOptions extends Omit<ResourceOptions, 'equals'> {
  /**
   * Most loads in flight at once across the registry; further loads queue in order. A positive
   * integer or `Infinity`. @default 64
   */
  concurrency?: number
  /**
   * Called with every background failure (a failed load, a throwing listener, a store problem)
   * and the resource it concerns. Never called for errors of an explicit `await refresh()`
   * other than the load failure itself. @default none (failures are still in events and `status()`)
   */
  onError?: (error: EvergreenError, resource: string | undefined) => void
  /** The clock and timer seam, for tests and simulations. @default the global timers, unref'd */
  clock?: Clock
  /**
   * Wraps every loader call (tracing spans, diagnostics channels); several nest, the first outermost.
   * @default none
   */
  instrument?: LoadInstrument | readonly LoadInstrument[]
}

/** Resolved, validated per-resource settings, in milliseconds. */
export interface Settings {
  readonly interval: number
  readonly jitter: number
  /** The splay in effect: as given, or following `jitter` (1 with jitter, 0 without). */
  readonly splay: number
  /** Whether `splay` was given (on the registry or the resource) rather than following `jitter`. */
  readonly splayGiven: boolean
  readonly timeout: number
  readonly retry: { readonly initial: number; readonly factor: number; readonly max: number } | undefined
  readonly maxStale: number
  readonly equals: (a: unknown, b: unknown) => boolean
  readonly store: Store | undefined
  readonly persist: boolean
  readonly maxRestoredAge: number
  readonly critical: boolean
}

/** Resolved registry-wide settings. */
export interface RegistrySettings {
  readonly defaults: Settings
  readonly concurrency: number
  readonly onError: ((error: EvergreenError, resource: string | undefined) => void) | undefined
  readonly clock: Clock
  readonly instrument: LoadInstrument | undefined
}

/** Every default in one place. */
export const DEFAULTS = {
  interval: 60_000,
  jitter: 0.1,
  timeout: 30_000,
  retryInitial: 1_000,
  retryFactor: 2,
  maxStale: Number.POSITIVE_INFINITY,
  concurrency: 64,
  maxRestoredAge: Number.POSITIVE_INFINITY,
} as const

const RESOURCE_KEYS = new Set([
  'interval',
  'jitter',
  'splay',
  'timeout',
  'retry',
  'maxStale',
  'equals',
  'store',
  'persist',
  'maxRestoredAge',
  'critical',
])
const REGISTRY_KEYS = new Set([...RESOURCE_KEYS, 'concurrency', 'onError', 'clock', 'instrument'])
REGISTRY_KEYS.delete('equals')

function fraction(value: unknown, option: string): number {
  // NaN is not a number here, as for every duration (`interval: NaN`).
  if (typeof value !== 'number' || Number.isNaN(value)) throw new OptionTypeError(option, 'a number', value)
  if (!(value >= 0 && value <= 1)) throw new OptionRangeError(option, 'a fraction between 0 and 1', value)
  return value
}

export function checkOptionKeys(input: object, allowed: Set<string>, label: (key: string) => string): void {
  for (const key of Object.keys(input)) {
    if (!allowed.has(key)) throw new OptionTypeError(label(key), 'a known option (it is not one)', key)
  }
}

function checkObject(input: unknown, option: string): void {
  if (input !== undefined && (typeof input !== 'object' || input === null)) {
    throw new OptionTypeError(option, 'an object', input)
  }
}

/**
 * Validates `input` over `base` and returns complete settings. Errors name the option (prefixed
 * with the resource, when there is one), what was expected and what was given.
 */
export function resolveSettings(base: Settings, raw: unknown, resource?: string): Settings {
  const shown = resource === undefined ? undefined : shorten(resource)
  const label = (key: string) => (shown === undefined ? key : `${key}" of resource "${shown}`)
  checkObject(raw, shown === undefined ? 'options' : `options" of resource "${shown}`)
  const input = raw as ResourceOptions<unknown> | undefined
  if (input === undefined) return base
  checkOptionKeys(input, resource === undefined ? REGISTRY_KEYS : RESOURCE_KEYS, label)

  const interval =
    input.interval === undefined ? base.interval : positiveDuration(input.interval, label('interval'), false)

  const jitter = input.jitter === undefined ? base.jitter : fraction(input.jitter, label('jitter'))
  // The splay default is decided here, once: it follows the jitter in effect unless given.
  const splayGiven = input.splay !== undefined || base.splayGiven
  const splay =
    input.splay !== undefined
      ? fraction(input.splay, label('splay'))
      : base.splayGiven
        ? base.splay
        : jitter > 0
          ? 1
          : 0

  const timeout =
    input.timeout === undefined ? base.timeout : positiveDuration(input.timeout, label('timeout'), true)
  const maxStale =
    input.maxStale === undefined ? base.maxStale : positiveDuration(input.maxStale, label('maxStale'), true)
  const maxRestoredAge =
    input.maxRestoredAge === undefined
      ? base.maxRestoredAge
      : positiveDuration(input.maxRestoredAge, label('maxRestoredAge'), true)

  let retry = base.retry
  if (input.retry === false) retry = undefined
  else if (input.retry === null) throw new OptionTypeError(label('retry'), 'an object or false', null)
  else if (input.retry !== undefined || (input.interval !== undefined && base.retry !== undefined)) {
    // A new interval re-derives the cap; other retry settings are inherited unless given.
    const given: RetryOptions = input.retry ?? {}
    checkObject(given, label('retry'))
    checkOptionKeys(given, new Set(['initial', 'factor', 'max']), (k) => label(`retry.${k}`))
    const max = Math.min(
      given.max === undefined ? interval : positiveDuration(given.max, label('retry.max'), false),
      interval,
    )
    const initial = Math.min(
      given.initial === undefined
        ? (base.retry?.initial ?? DEFAULTS.retryInitial)
        : positiveDuration(given.initial, label('retry.initial'), false),
      max,
    )
    let factor = base.retry?.factor ?? DEFAULTS.retryFactor
    if (given.factor !== undefined) {
      if (typeof given.factor !== 'number')
        throw new OptionTypeError(label('retry.factor'), 'a number', given.factor)
      if (!(given.factor >= 1 && Number.isFinite(given.factor))) {
        throw new OptionRangeError(label('retry.factor'), 'a finite number of at least 1', given.factor)
      }
      factor = given.factor
    }
    retry = { initial, factor, max }
  }

  const equals = input.equals
  if (equals !== undefined && typeof equals !== 'function') {
    throw new OptionTypeError(label('equals'), 'a function (a, b) => boolean', equals)
  }
  const store = input.store
  if (store !== undefined && !isStore(store)) {
    throw new OptionTypeError(
      label('store'),
      'a store with get, set, delete, list and close methods (and attach and reopen, if given, methods too)',
      store,
    )
  }
  if (store?.fleet !== undefined && !isFleet(store.fleet)) {
    throw new OptionTypeError(
      label('store.fleet'),
      'a coordinator with head, acquire and watch methods and a positive finite leaseTtl',
      store.fleet,
    )
  }
  if (input.persist !== undefined && typeof input.persist !== 'boolean') {
    throw new OptionTypeError(label('persist'), 'a boolean', input.persist)
  }
  if (input.critical !== undefined && typeof input.critical !== 'boolean') {
    throw new OptionTypeError(label('critical'), 'a boolean', input.critical)
  }

  return {
    interval,
    jitter,
    splay,
    splayGiven,
    timeout,
    retry,
    maxStale,
    maxRestoredAge,
    equals: (equals as Settings['equals'] | undefined) ?? base.equals,
    store: 'store' in input ? store : base.store,
    persist: input.persist ?? base.persist,
    critical: input.critical ?? base.critical,
  }
}

function isStore(value: unknown): value is Store {
  if (typeof value !== 'object' || value === null) return false
  const s = value as Record<string, unknown>
  return (
    ['get', 'set', 'delete', 'list', 'close'].every((m) => typeof s[m] === 'function') &&
    ['attach', 'reopen'].every((m) => s[m] === undefined || typeof s[m] === 'function')
  )
}

function isFleet(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false
  const f = value as Record<string, unknown> & { leaseTtl?: unknown }
  const ttl = f.leaseTtl
  return (
    ['head', 'acquire', 'watch'].every((m) => typeof f[m] === 'function') &&
    typeof ttl === 'number' &&
    Number.isFinite(ttl) &&
    ttl > 0
  )
}

const BASE_SETTINGS: Settings = {
  interval: DEFAULTS.interval,
  jitter: DEFAULTS.jitter,
  splay: 1,
  splayGiven: false,
  timeout: DEFAULTS.timeout,
  retry: { initial: DEFAULTS.retryInitial, factor: DEFAULTS.retryFactor, max: DEFAULTS.interval },
  maxStale: DEFAULTS.maxStale,
  equals: Object.is,
  store: undefined,
  persist: true,
  maxRestoredAge: DEFAULTS.maxRestoredAge,
  critical: true,
}

/** Validates the options of a registry. */
export function resolveRegistrySettings(raw: unknown): RegistrySettings {
  checkObject(raw, 'options')
  if (Array.isArray(raw)) throw new OptionTypeError('options', 'an object', raw)
  const input = raw as ResourcesOptions | undefined
  const defaults = resolveSettings(BASE_SETTINGS, input)
  let concurrency: number = DEFAULTS.concurrency
  if (input?.concurrency !== undefined) {
    const c = input.concurrency
    if (typeof c !== 'number') throw new OptionTypeError('concurrency', 'a number', c)
    if (!(c === Number.POSITIVE_INFINITY || (Number.isInteger(c) && c >= 1))) {
      throw new OptionRangeError('concurrency', 'a positive integer or Infinity', c)
    }
    concurrency = c
  }
  const onError = input?.onError
  if (onError !== undefined && typeof onError !== 'function') {
    throw new OptionTypeError('onError', 'a function (error, resource) => void', onError)
  }
  const clock = input?.clock === undefined ? systemClock : input.clock
  if (typeof clock !== 'object' || clock === null || Array.isArray(clock)) {
    throw new OptionTypeError('clock', 'an object with now, setTimeout and clearTimeout', clock)
  }
  const missing = (['now', 'setTimeout', 'clearTimeout'] as const).filter(
    (k) => typeof clock[k] !== 'function',
  )
  if (missing.length > 0) {
    throw new OptionTypeError(
      'clock',
      `an object with now, setTimeout and clearTimeout (missing: ${missing.join(', ')})`,
      clock,
    )
  }
  // Optional, but as a pair: the scheduler cancels what it queued.
  const immediate = clock.setImmediate
  const clearImmediate = clock.clearImmediate
  if (
    (immediate !== undefined || clearImmediate !== undefined) &&
    (typeof immediate !== 'function' || typeof clearImmediate !== 'function')
  ) {
    throw new OptionTypeError('clock', 'setImmediate and clearImmediate both functions, or neither', clock)
  }
  for (const optional of ['monotonic', 'random'] as const) {
    if (clock[optional] !== undefined && typeof clock[optional] !== 'function') {
      throw new OptionTypeError(`clock.${optional}`, 'a function, if given', clock[optional])
    }
  }
  return { defaults, concurrency, onError, clock, instrument: resolveInstrument(input?.instrument) }
}

/** One instrument for `instrument` (one, several nested with the first outermost, or none). */
function resolveInstrument(raw: unknown): LoadInstrument | undefined {
  if (raw === undefined) return undefined
  const list: unknown[] = Array.isArray(raw) ? raw : [raw]
  for (const one of list) {
    if (typeof (one as LoadInstrument | null)?.load !== 'function')
      throw new OptionTypeError(
        'instrument',
        'an object with a load(context, run) method, or a list of them',
        raw,
      )
  }
  return (list as LoadInstrument[]).reduceRight<LoadInstrument | undefined>(
    (inner, outer) =>
      inner === undefined
        ? outer
        : { load: (context, run) => outer.load(context, () => inner.load(context, run)) },
    undefined,
  )
}
