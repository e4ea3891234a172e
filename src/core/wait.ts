import type { Clock } from '../scheduling/clock.js'
import { type Duration, positiveDuration } from './duration.js'
import { OptionTypeError } from './errors.js'

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
