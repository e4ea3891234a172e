import type { Clock, TimerHandle } from './clock.js'
import { type HeapEntry, MinHeap } from './heap.js'

/**
 * Real elapsed milliseconds, to bound how long one pass runs. Deliberately not the injected clock:
 * a slice is about how long the event loop is held, which a simulated clock does not measure.
 */
const realElapsed: () => number =
  typeof globalThis.performance?.now === 'function' ? () => globalThis.performance.now() : () => Date.now()

/** Passes in a row that may go on through an immediate before one waits on a timer. */
const MAX_STREAK = 1000

/** The longest delay a platform timer accepts; longer delays are reached in chunks. */
export const MAX_TIMER_DELAY = 2 ** 31 - 1

/**
 * A unit of work the {@link Scheduler} runs when it is due. Reusable: schedule it again after it ran.
 * `run` is called as a method, with the task as `this`, so one function can serve many tasks.
 */
export class Task implements HeapEntry {
  at = 0
  seq = 0
  slot = -1
  constructor(readonly run: () => void) {}

  /** Whether the task is waiting to run. */
  get scheduled(): boolean {
    return this.slot !== -1
  }
}

export interface SchedulerOptions {
  /** Longest stretch, in ms, of due tasks run before yielding to the event loop. */
  sliceMs?: number
  /** Where an exception thrown by a task goes; the loop goes on regardless. */
  onError?: (error: unknown) => void
  /** Real elapsed ms, for slicing (`performance.now()` by default); a test may simulate it. */
  elapsed?: () => number
}

/**
 * Runs every timed task of a registry from one platform timer: a min-heap ordered by due time,
 * and one timer armed for its earliest entry. The number of platform timers is therefore constant,
 * whatever the number of resources, and a burst of due tasks is run in slices so the event loop
 * is never blocked for long.
 */
export class Scheduler {
  readonly #clock: Clock
  readonly #heap = new MinHeap<Task>()
  readonly #sliceMs: number
  readonly #onError: (error: unknown) => void
  readonly #elapsed: () => number
  #seq = 0
  #timer: TimerHandle | undefined
  /** Whether {@link #timer} was queued with `clock.setImmediate` rather than `clock.setTimeout`. */
  #immediate = false
  /** Passes in a row that went on through an immediate. */
  #streak = 0
  #armedAt = Number.POSITIVE_INFINITY
  #running = false

  constructor(clock: Clock, options: SchedulerOptions = {}) {
    this.#clock = clock
    this.#sliceMs = options.sliceMs ?? 1
    this.#onError = options.onError ?? (() => {})
    this.#elapsed = options.elapsed ?? realElapsed
  }

  /** Number of tasks waiting. */
  get size(): number {
    return this.#heap.size
  }

  /**
   * Schedules `task` to run `delay` ms from now, moving it if it was already scheduled. `now` may be
   * passed by a caller that has just read the clock.
   */
  schedule(task: Task, delay: number, now: number = this.#clock.now()): void {
    this.scheduleAt(task, now + Math.max(0, delay))
  }

  /** Schedules `task` to run at the absolute clock time `at`. */
  scheduleAt(task: Task, at: number): void {
    task.at = at
    task.seq = this.#seq++
    // A task already waiting is moved in place: one sift instead of a removal and an insertion.
    if (task.slot === -1) this.#heap.push(task)
    else this.#heap.update(task)
    if (!this.#running && at < this.#armedAt) this.#arm()
  }

  cancel(task: Task): void {
    if (task.slot === -1) return
    this.#heap.remove(task)
    if (this.#heap.size === 0) this.#disarm()
  }

  /** Drops every task and the platform timer. */
  clear(): void {
    this.#heap.clear()
    this.#disarm()
  }

  #disarm(): void {
    const timer = this.#timer
    if (timer !== undefined) {
      this.#timer = undefined
      if (this.#immediate) this.#clock.clearImmediate?.(timer)
      else this.#clock.clearTimeout(timer)
    }
    this.#armedAt = Number.POSITIVE_INFINITY
  }

  #arm(): void {
    this.#disarm()
    const top = this.#heap.peek()
    if (top === undefined) return
    const clock = this.#clock
    const delay = Math.min(Math.max(0, Math.ceil(top.at - clock.now())), MAX_TIMER_DELAY)
    this.#armedAt = top.at
    // Work already due goes on as soon as pending I/O is served: a zero-delay timer would wait for
    // the next timers phase (at least a millisecond in Node), which caps how fast a backlog drains.
    // An immediate keeps the process alive, so after a streak of them one pass waits on an (unref'd)
    // timer: a process whose refreshes can never catch up still exits by itself.
    this.#immediate = delay === 0 && clock.setImmediate !== undefined && this.#streak < MAX_STREAK
    this.#streak = this.#immediate ? this.#streak + 1 : 0
    this.#timer = this.#immediate ? clock.setImmediate!(this.#fire) : clock.setTimeout(this.#fire, delay)
  }

  readonly #fire = (): void => {
    this.#timer = undefined
    this.#armedAt = Number.POSITIVE_INFINITY
    this.#running = true
    const clock = this.#clock
    const heap = this.#heap
    const now = clock.now()
    const elapsed = this.#elapsed
    const sliceEnd = elapsed() + this.#sliceMs
    // Tasks (re)scheduled while this pass runs wait for the next one, even when already due: a task
    // that reschedules itself a millisecond ahead must not run again and again within one pass.
    const barrier = this.#seq
    let ran = 0
    try {
      for (;;) {
        const top = heap.peek()
        // A platform timer may fire a fraction of a millisecond early; treat that as due.
        if (top === undefined || top.at > now + 1 || top.seq >= barrier) break
        heap.remove(top)
        try {
          top.run()
        } catch (error) {
          this.#onError(error)
        }
        if (++ran % 16 === 0 && elapsed() >= sliceEnd) break
      }
    } finally {
      this.#running = false
      this.#arm()
    }
  }
}
