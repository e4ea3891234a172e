/** An opaque handle returned by {@link Clock.setTimeout}. */
export type TimerHandle = unknown

/**
 * The seam through which evergreen reads time and arms its (single) platform timer.
 * Inject one to drive a registry from a simulated clock; the default wraps the globals.
 */
export interface Clock {
  /**
   * Wall-clock milliseconds since the epoch: used only for timestamps that leave the process (the
   * `loadedAt` of saved entries) and those shown to users. It may step back or forth.
   */
  now(): number
  /**
   * Optional. Milliseconds since an arbitrary origin that never step: delays, deadlines and ages are
   * measured on it, so a wall-clock step changes no refresh time and no age. Without it, `now()`
   * serves for both (a simulated clock stays simulated). The default clock uses `performance.now()`.
   */
  monotonic?(): number
  /**
   * Optional. A number uniform in [0, 1): the one source of randomness (jitter, splay), so a
   * simulation can seed it. @default Math.random
   */
  random?(): number
  /** Arms a one-shot timer. The timer must not keep the process alive. */
  setTimeout(callback: () => void, ms: number): TimerHandle
  /** Cancels a timer armed by {@link Clock.setTimeout}; unknown handles are ignored. */
  clearTimeout(handle: TimerHandle): void
  /**
   * Optional. Runs `callback` once pending I/O has been served, sooner than `setTimeout(callback, 0)`
   * (which waits at least a millisecond in Node). The scheduler uses it to go on with tasks that are
   * already due after yielding; without it, it uses `setTimeout(callback, 0)`. It may keep the
   * process alive while queued: the scheduler queues at most 250 in a row before it waits twice on
   * `setTimeout`, whose timers must not keep the process alive.
   */
  setImmediate?(callback: () => void): TimerHandle
  /** Cancels a callback queued by {@link Clock.setImmediate}. Required with it. */
  clearImmediate?(handle: TimerHandle): void
}

interface Unrefable {
  unref?: () => unknown
}

/**
 * The default clock. It looks the globals up on every call, not once at import, so that fake
 * timers installed by a test runner after evergreen was imported still take effect.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () =>
    typeof globalThis.performance?.now === 'function' ? globalThis.performance.now() : Date.now(),
  random: () => Math.random(),
  setTimeout(callback, ms) {
    const handle = globalThis.setTimeout(callback, ms) as unknown
    // Node and Bun return objects with unref(); browsers and Deno return numbers.
    if (typeof handle === 'object' && handle !== null) (handle as Unrefable).unref?.()
    return handle
  },
  clearTimeout(handle) {
    globalThis.clearTimeout(handle as Parameters<typeof globalThis.clearTimeout>[0])
  },
  setImmediate(callback) {
    // Node and Bun have setImmediate; elsewhere a zero-delay timer is the closest thing.
    const queue = (globalThis as { setImmediate?: (callback: () => void) => unknown }).setImmediate
    return queue === undefined ? globalThis.setTimeout(callback, 0) : queue(callback)
  },
  clearImmediate(handle) {
    const clear = (globalThis as { clearImmediate?: (handle: unknown) => void }).clearImmediate
    if (clear === undefined) globalThis.clearTimeout(handle as Parameters<typeof globalThis.clearTimeout>[0])
    else clear(handle)
  },
}
