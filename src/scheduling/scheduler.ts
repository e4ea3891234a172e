import type { Clock, TimerHandle } from './clock.js'
import { type HeapEntry, MinHeap } from './heap.js'
import { monotonicOf } from './timeline.js'
import { inWheel, TimingWheel, type WheelEntry } from './wheel.js'

/**
 * Real elapsed milliseconds, to bound how long one pass runs. Deliberately not the injected clock:
 * a slice is about how long the event loop is held, which a simulated clock does not measure.
 */
const realElapsed: () => number =
  typeof globalThis.performance?.now === 'function' ? () => globalThis.performance.now() : () => Date.now()

/** Passes that may go on through an immediate before two in a row wait on a timer. */
const MAX_STREAK = 250

/** The longest delay a platform timer accepts; longer delays are reached in chunks. */
export const MAX_TIMER_DELAY = 2 ** 31 - 1

/**
 * What the {@link Scheduler} runs when it is due. Reusable: schedule it again after it ran. A
 * subclass implements `run` as a method, so a task carries no function of its own.
 */
export abstract class TimedTask implements HeapEntry, WheelEntry {
  at = 0
  seq = 0
  /** -1 while not scheduled, the wheel's mark of its bucket in the wheel, the heap's slot in the heap. */
  slot = -1
  /** Its neighbours in its wheel bucket; kept by the wheel. */
  wheelPrev: WheelEntry | undefined = undefined
  wheelNext: WheelEntry | undefined = undefined

  abstract run(): void

  /** Whether the task is waiting to run. */
  get scheduled(): boolean {
    return this.slot !== -1
  }
}

/** A task that runs a function. */
export class Task extends TimedTask {
  constructor(readonly run: () => void) {
    super()
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
 * Runs every timed task of a registry from one platform timer, armed for the earliest task. Tasks
 * due within a few seconds wait in a timing wheel of one-millisecond buckets, later ones in a
 * min-heap ordered by due time. The number of platform timers is therefore constant, whatever the
 * number of resources, and a burst of due tasks is run in slices so the event loop is never
 * blocked for long.
 */
export class Scheduler {
  readonly #clock: Clock
  /** The clock's monotonic reading: due times are on that timeline. */
  readonly #now: () => number
  readonly #heap = new MinHeap<TimedTask>()
  readonly #wheel: TimingWheel<TimedTask>
  readonly #sliceMs: number
  readonly #onError: (error: unknown) => void
  readonly #elapsed: () => number
  #seq = 0
  #timer: TimerHandle | undefined
  /** Whether {@link #timer} was queued with `clock.setImmediate` rather than `clock.setTimeout`. */
  #immediate = false
  /** Passes run from an immediate since the streak was last ended. */
  #streak = 0
  /** Passes in a row run from a timer. */
  #timerPasses = 0
  #armedAt = Number.POSITIVE_INFINITY
  #running = false

  constructor(clock: Clock, options: SchedulerOptions = {}) {
    this.#clock = clock
    this.#now = monotonicOf(clock)
    this.#wheel = new TimingWheel(this.#now())
    this.#sliceMs = options.sliceMs ?? 1
    this.#onError = options.onError ?? (() => {})
    this.#elapsed = options.elapsed ?? realElapsed
  }

  /** Number of tasks waiting. */
  get size(): number {
    return this.#heap.size + this.#wheel.size
  }

  /** When the earliest waiting task is due (clock ms), or `Infinity`: a liveness probe compares it with now. */
  get nextAt(): number {
    return Math.min(this.#heap.peek()?.at ?? Number.POSITIVE_INFINITY, this.#wheel.next())
  }

  /**
   * Schedules `task` to run `delay` ms from now, moving it if it was already scheduled. `now` may be
   * passed by a caller that has just read the clock.
   */
  schedule(task: TimedTask, delay: number, now: number = this.#now()): void {
    this.scheduleAt(task, now + Math.max(0, delay))
  }

  /** Schedules `task` to run at the absolute (monotonic) clock time `at`. */
  scheduleAt(task: TimedTask, at: number): void {
    task.at = at
    task.seq = this.#seq++
    const wheel = this.#wheel
    if (inWheel(task.slot)) wheel.remove(task)
    // An empty wheel left behind by a long wait moves up to now, so a near task can go in it.
    if (wheel.size === 0 && !wheel.covers(at)) wheel.rebase(this.#now())
    if (wheel.covers(at)) {
      if (task.slot >= 0) this.#heap.remove(task)
      wheel.add(task, at)
    } else if (task.slot >= 0) {
      // A task already in the heap is moved in place: one sift instead of a removal and an insertion.
      this.#heap.update(task)
    } else this.#heap.push(task)
    if (!this.#running && at < this.#armedAt) this.#arm()
  }

  cancel(task: TimedTask): void {
    if (task.slot === -1) return
    if (inWheel(task.slot)) this.#wheel.remove(task)
    else this.#heap.remove(task)
    if (this.size === 0) this.#disarm()
  }

  /** Drops every task and the platform timer. */
  clear(): void {
    this.#heap.clear()
    this.#wheel.clear()
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
    const at = Math.min(this.#heap.peek()?.at ?? Number.POSITIVE_INFINITY, this.#wheel.next())
    if (at === Number.POSITIVE_INFINITY) return
    const clock = this.#clock
    const delay = Math.min(Math.max(0, Math.ceil(at - this.#now())), MAX_TIMER_DELAY)
    this.#armedAt = at
    // Work already due goes on as soon as pending I/O is served: a zero-delay timer would wait for
    // the next timers phase (at least a millisecond in Node), which caps how fast a backlog drains.
    // An immediate keeps the process alive, so after a streak of them two passes in a row run from
    // the (unref'd) timer, and a process whose refreshes can never catch up still exits by itself.
    // Two, because the first may fire at the end of the very loop iteration that armed it (its loads
    // settling may outlast a millisecond); the timer it arms is what the loop's liveness check sees.
    // Re-arms between passes (loads settling) follow the same rule, so they cannot break the wait.
    this.#immediate = delay === 0 && clock.setImmediate !== undefined && this.#streak < MAX_STREAK
    this.#timer = this.#immediate ? clock.setImmediate!(this.#fire) : clock.setTimeout(this.#fire, delay)
  }

  readonly #fire = (): void => {
    if (this.#immediate) {
      this.#streak++
      this.#timerPasses = 0
    } else if (++this.#timerPasses === 2) this.#streak = 0
    this.#timer = undefined
    this.#armedAt = Number.POSITIVE_INFINITY
    this.#running = true
    const heap = this.#heap
    const wheel = this.#wheel
    const now = this.#now()
    const elapsed = this.#elapsed
    const sliceEnd = elapsed() + this.#sliceMs
    // Tasks (re)scheduled while this pass runs wait for the next one, even when already due: a task
    // that reschedules itself a millisecond ahead must not run again and again within one pass.
    const barrier = this.#seq
    let ran = 0
    try {
      for (;;) {
        // The wheel's bucket of `now` is due: its tasks are due within the millisecond. So is a
        // heap task a fraction of a millisecond ahead: a platform timer may fire that early.
        const bucket = wheel.due(now, barrier)
        let task = heap.peek()
        if (task !== undefined && task.at <= now + 1 && task.seq < barrier && task.at < bucket + 1) {
          heap.remove(task)
        } else if (bucket !== Number.POSITIVE_INFINITY) task = wheel.take()
        else break
        try {
          task.run()
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
