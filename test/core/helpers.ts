// Builders shared by the core specification tests. Every registry made here is stopped after its
// test, and every test runs under fake timers.
import { afterEach, beforeEach, vi } from 'vitest'
import { type Clock, Resources, type ResourcesOptions } from '../../src/index.js'

const made: Resources[] = []

/** Installs fake timers around each test and stops, after it, every registry made by {@link registry}. */
export function useFakeTime(): void {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(async () => {
    for (const resources of made.splice(0)) {
      const stopped = resources.stop()
      // Loaders that ignore their signal are abandoned after the stop grace.
      await vi.advanceTimersByTimeAsync(1_000)
      await stopped
    }
    vi.restoreAllMocks()
    vi.useRealTimers()
  })
}

/** A registry stopped after the test. `jitter: 0` unless given, so delays are exact. */
export function registry(options: ResourcesOptions = {}): Resources {
  const resources = new Resources({ jitter: 0, ...options })
  made.push(resources)
  return resources
}

/** Lets pending promise callbacks (and timers due now) run. */
export async function flush(): Promise<void> {
  await vi.advanceTimersByTimeAsync(0)
}

export interface Deferred<T> {
  readonly promise: Promise<T>
  resolve(value: T): void
  reject(error: unknown): void
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void
  let reject!: (error: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

/** A promise that never settles: a loader that hangs forever. */
export const never = <T>(): Promise<T> => new Promise<T>(() => {})

/** Resolves with `value` after `ms` of (fake) time, ignoring any signal. */
export function resolveAfter<T>(ms: number, value: T): Promise<T> {
  return new Promise((resolve) => setTimeout(() => resolve(value), ms))
}

/**
 * A {@link Clock} over the (fake) global timers that counts the platform timers it arms: how many
 * are pending now, and the most ever pending at once.
 */
export interface CountingClock extends Clock {
  readonly pending: number
  readonly maxPending: number
  /** Timers armed so far. */
  readonly armed: number
}

export function countingClock(): CountingClock {
  const live = new Set<unknown>()
  let maxPending = 0
  let armed = 0
  return {
    now: () => Date.now(),
    setTimeout(callback, ms) {
      armed++
      const handle: unknown = setTimeout(() => {
        live.delete(handle)
        callback()
      }, ms)
      live.add(handle)
      maxPending = Math.max(maxPending, live.size)
      return handle
    },
    clearTimeout(handle) {
      live.delete(handle)
      clearTimeout(handle as ReturnType<typeof setTimeout>)
    },
    get pending() {
      return live.size
    },
    get maxPending() {
      return maxPending
    },
    get armed() {
      return armed
    },
  }
}

/** Runs `fn` and returns what it threw (failing if it did not throw). */
export function thrown(fn: () => unknown): unknown {
  try {
    fn()
  } catch (error) {
    return error
  }
  throw new Error('expected the call to throw')
}

/** What `promise` rejected with (failing if it resolved). */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error('expected the promise to reject')
}
