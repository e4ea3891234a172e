import { type Scheduler, Task } from './scheduler.js'

/** An entry {@link Deadlines} can hold: the links are the deadlines' own, kept on the entry itself. */
export interface DeadlineEntry {
  /** When the entry's time started (clock ms): its deadline is that plus the duration it was added with. */
  startedAt: number
  deadlinePrev: DeadlineEntry | undefined
  deadlineNext: DeadlineEntry | undefined
}

/** The entries of one duration, in the order they were added: by deadline, as time only moves on. */
class Lane<E extends DeadlineEntry> {
  head: E | undefined = undefined
  tail: E | undefined = undefined
  constructor(
    readonly duration: number,
    readonly task: Task,
  ) {}
}

/**
 * Deadlines that are nearly always cancelled before they come due, such as load timeouts: each
 * is added when a load begins and removed when it settles, a few milliseconds later. Entries of
 * one duration form a list in the order they were added, which is also the order of their
 * deadlines, so adding and removing are O(1) and only each list's first entry is scheduled — as
 * one task, which after a removal is left where it is and moves on when it fires. Compared with a
 * heap entry per deadline, this takes two scheduler operations per load out of the hot path.
 *
 * If the clock steps back, an entry added after the step may expire late by up to the step.
 */
export class Deadlines<E extends DeadlineEntry> {
  readonly #scheduler: Scheduler
  readonly #now: () => number
  readonly #expired: (entry: E) => void
  readonly #lanes = new Map<number, Lane<E>>()

  constructor(scheduler: Scheduler, now: () => number, expired: (entry: E) => void) {
    this.#scheduler = scheduler
    this.#now = now
    this.#expired = expired
  }

  /** Adds `entry`, due `duration` ms after its `startedAt`. It must not be in the deadlines already. */
  add(entry: E, duration: number): void {
    const lane = this.#lanes.get(duration) ?? this.#lane(duration)
    entry.deadlineNext = undefined
    entry.deadlinePrev = lane.tail
    if (lane.tail === undefined) lane.head = entry
    else lane.tail.deadlineNext = entry
    lane.tail = entry
    if (!lane.task.scheduled) this.#scheduler.scheduleAt(lane.task, entry.startedAt + duration)
  }

  // Apart from `add`, so `add` has no closure: V8 would make a closure context on each call.
  #lane(duration: number): Lane<E> {
    const lane: Lane<E> = new Lane(duration, new Task(() => this.#sweep(lane)))
    this.#lanes.set(duration, lane)
    return lane
  }

  /** Removes `entry`, added with `duration`; does nothing if it is not in the deadlines. */
  remove(entry: E, duration: number): void {
    const lane = this.#lanes.get(duration)
    if (lane !== undefined && (entry.deadlinePrev !== undefined || lane.head === entry)) unlink(lane, entry)
  }

  /** Expires the lane's entries that are due, then schedules its task for the first one left. */
  #sweep(lane: Lane<E>): void {
    // Within a millisecond, like the scheduler: a task may run that much early.
    const due = this.#now() + 1 - lane.duration
    try {
      for (let head = lane.head; head !== undefined && head.startedAt <= due; head = lane.head) {
        unlink(lane, head)
        this.#expired(head)
      }
    } finally {
      // Even if a callback threw (the scheduler reports it), the entries left keep their deadline.
      const head = lane.head
      if (head !== undefined) this.#scheduler.scheduleAt(lane.task, head.startedAt + lane.duration)
    }
  }
}

function unlink<E extends DeadlineEntry>(lane: Lane<E>, entry: E): void {
  const prev = entry.deadlinePrev as E | undefined
  const next = entry.deadlineNext as E | undefined
  if (prev === undefined) lane.head = next
  else prev.deadlineNext = next
  if (next === undefined) lane.tail = prev
  else next.deadlinePrev = prev
  entry.deadlinePrev = undefined
  entry.deadlineNext = undefined
}
