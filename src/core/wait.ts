import type { Clock } from '../scheduling/clock.js'
import { type Duration, positiveDuration } from './duration.js'
import { OptionRangeError, OptionTypeError } from './errors.js'

/** How long a caller waits: options of `ready()` and `refresh()`. */
export interface WaitOptions {
  /**
   * Gives up the wait when aborted: the promise rejects with the signal's reason. Only this caller's
   * wait ends; a load in flight goes on for everyone else. @default none
   */
  signal?: AbortSignal | undefined
  /**
   * Gives up the wait after this long, rejecting with `WaitTimeoutError`; a load in flight goes on.
   * Positive; `Infinity` for none. @default Infinity
   */
  timeout?: Duration | undefined
}

/** Checked wait options: the signal, and the timeout in ms (`Infinity` for none). */
export interface Wait {
  readonly signal: AbortSignal | undefined
  readonly timeout: number
}

const MAX_TIMER_MS = 2 ** 31 - 1

const NO_WAIT_LIMIT: Wait = { signal: undefined, timeout: Number.POSITIVE_INFINITY }

function isSignal(value: unknown): value is AbortSignal {
  const s = value as { aborted?: unknown; addEventListener?: unknown; removeEventListener?: unknown } | null
  return (
    typeof s === 'object' &&
    s !== null &&
    typeof s.aborted === 'boolean' &&
    typeof s.addEventListener === 'function' &&
    typeof s.removeEventListener === 'function'
  )
}

/** Checks the options of a wait; `label` names the call in errors (`ready options`). */
export function waitOptions(raw: unknown, label: string, timeoutAllowed: boolean): Wait {
  if (raw === undefined) return NO_WAIT_LIMIT
  if (typeof raw !== 'object' || raw === null) throw new OptionTypeError(label, 'an object', raw)
  const { signal, timeout } = raw as WaitOptions
  for (const key of Object.keys(raw)) {
    if (key !== 'signal' && (key !== 'timeout' || !timeoutAllowed))
      throw new OptionTypeError(`${label}.${key}`, 'a known option (it is not one)', key)
  }
  if (signal !== undefined && !isSignal(signal))
    throw new OptionTypeError(`${label}.signal`, 'an AbortSignal', signal)
  return {
    signal,
    timeout:
      timeout === undefined ? Number.POSITIVE_INFINITY : positiveDuration(timeout, `${label}.timeout`, true),
  }
}

/**
 * `promise`, unless the caller gives up first: the signal aborts (rejects with its reason) or the
 * timeout passes (rejects with `timedOut()`). `gaveUp` is told, so a waiter can be forgotten. The
 * listener and the timer are removed as soon as either side settles, so none accumulate.
 */
export function abandonable<T>(
  promise: Promise<T>,
  wait: Wait,
  clock: Clock,
  timedOut: () => unknown,
  gaveUp?: () => void,
): Promise<T> {
  const { signal, timeout } = wait
  if (signal === undefined && timeout === Number.POSITIVE_INFINITY) return promise
  return new Promise<T>((resolve, reject) => {
    let timer: unknown
    const done = () => {
      signal?.removeEventListener('abort', onAbort)
      if (timer !== undefined) clock.clearTimeout(timer)
    }
    const giveUp = (reason: unknown) => {
      done()
      gaveUp?.()
      reject(reason)
    }
    const onAbort = () => giveUp(signal?.reason)
    if (signal?.aborted === true) return giveUp(signal.reason)
    signal?.addEventListener('abort', onAbort, { once: true })
    // A platform timer beyond 2^31-1 ms would fire at once: such a wait has no practical limit.
    if (timeout <= MAX_TIMER_MS) timer = clock.setTimeout(() => giveUp(timedOut()), timeout)
    promise.then(
      (value) => {
        done()
        resolve(value)
      },
      (error: unknown) => {
        done()
        reject(error)
      },
    )
  })
}

/** Options of `Resources.start`. */
export interface StartOptions {
  /**
   * Resolve once every resource defined so far has a value or has settled its first load, and
   * reject with `SyncError` if any has no value then. The background loop runs either way.
   * @default false
   */
  wait?: boolean
  /**
   * Waits (`wait` implied) until every resource defined so far has a value, failed first loads
   * being retried with each resource's backoff meanwhile, for at most this long; then rejects with
   * `SyncError` naming those still without one. Positive; `Infinity` waits for ever. `wait: false`
   * with it is refused. @default none (`wait` settles on the first outcome of each first load)
   */
  within?: Duration
  /**
   * Gives up the wait when aborted: the promise rejects with the signal's reason. The registry stays
   * started and its loads go on. @default none
   */
  signal?: AbortSignal
}

/** What `start()` was asked: whether to wait, for how long at most, and the caller's signal. */
export interface StartWait {
  readonly wait: boolean
  readonly within: number | undefined
  readonly caller: Wait
}

/** Checks the options of `start()`; throws an `OptionTypeError`/`OptionRangeError` for a bad call. */
export function startWait(options: unknown): StartWait {
  if (options === undefined) return { wait: false, within: undefined, caller: NO_WAIT_LIMIT }
  if (typeof options !== 'object' || options === null || Array.isArray(options))
    throw new OptionTypeError('start options', 'an object', options)
  const { wait, within: given, ...rest } = options as StartOptions
  if (wait !== undefined && typeof wait !== 'boolean')
    throw new OptionTypeError('start options.wait', 'a boolean', wait)
  const within = given === undefined ? undefined : positiveDuration(given, 'start options.within', true)
  if (within !== undefined && wait === false)
    throw new OptionRangeError('start options.within', 'absent when wait is false', given)
  return {
    wait: wait === true || within !== undefined,
    within,
    caller: waitOptions(rest, 'start options', false),
  }
}

/** What a call of `start({ wait })` waits on: a resource, by whether it has a value or was stopped. */
export interface Awaited {
  readonly hasValue: boolean
  readonly closed: boolean
}

interface StartWaitEntry {
  readonly pending: Set<Awaited>
  /** `within` was given: a resource is done once it has a value (or stopped), not once it failed. */
  readonly needValue: boolean
  resolve: () => void
}

/**
 * The calls of `start({ wait })` still waiting, each with the resources it waits for: one set per
 * call, rather than a promise per resource.
 */
export class StartWaits {
  readonly #waits = new Set<StartWaitEntry>()

  /** `entry`'s first load settled, or it got a value, or it was stopped. */
  settled(entry: Awaited): void {
    if (this.#waits.size === 0) return
    for (const wait of this.#waits) {
      if (wait.needValue && !entry.hasValue && !entry.closed) continue
      if (wait.pending.delete(entry) && wait.pending.size === 0) {
        this.#waits.delete(wait)
        wait.resolve()
      }
    }
  }

  /**
   * Resolves once none of `pending` is waited for any more, or (`within`, ms) at that deadline;
   * rejects when the caller gives up. `hold` wraps the wait (the registry keeps the process alive
   * meanwhile). The wait is forgotten after, however it ended.
   */
  async wait(
    pending: Set<Awaited>,
    within: number | undefined,
    caller: Wait,
    clock: Clock,
    hold: (all: Promise<void>) => Promise<void>,
  ): Promise<void> {
    if (pending.size === 0) return
    const entry: StartWaitEntry = { pending, needValue: within !== undefined, resolve: noop }
    let timer: unknown
    const done = new Promise<void>((resolve) => {
      entry.resolve = resolve
      this.#waits.add(entry)
      if (within !== undefined && within <= MAX_TIMER_MS) timer = clock.setTimeout(resolve, within)
    })
    try {
      await hold(abandonable(done, caller, clock, noop))
    } finally {
      if (timer !== undefined) clock.clearTimeout(timer)
      this.#waits.delete(entry)
    }
  }
}

const noop = (): undefined => undefined
