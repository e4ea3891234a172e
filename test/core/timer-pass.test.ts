import { describe, expect, it } from 'vitest'
import type { Clock } from '../../src/index.js'
import { Scheduler, Task } from '../../src/scheduling/scheduler.js'

/** A clock whose time moves only when told to, and that records the timers armed on it. */
function manualClock() {
  let now = 1_000
  let next = 0
  const timers = new Map<number, { at: number; ms: number; callback: () => void }>()
  const clock: Clock & {
    advance(ms: number): void
    fireNext(until?: number): boolean
    timers: typeof timers
  } = {
    now: () => now,
    setTimeout(callback, ms) {
      const id = next++
      timers.set(id, { at: now + ms, ms, callback })
      return id
    },
    clearTimeout(handle) {
      timers.delete(handle as number)
    },
    /** Moves time forward, firing the timers that come due on the way, in order. */
    advance(ms) {
      const end = now + ms
      while (clock.fireNext(end)) {}
      now = end
    },
    /** Fires the earliest timer due by `until`, moving time to it; false if there is none. */
    fireNext(until = Number.POSITIVE_INFINITY) {
      const due = [...timers.entries()].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at)[0]
      if (due === undefined) return false
      timers.delete(due[0])
      now = Math.max(now, due[1].at)
      due[1].callback()
      return true
    },
    timers,
  }
  return clock
}

// Complements test/scheduling/scheduler.test.ts with the cases the resources rely on.
describe('one pass of the scheduler', () => {
  it.each([0, 1])(
    'runs a task that reschedules itself %i ms ahead once per pass, not in a loop within the pass',
    (delay) => {
      const clock = manualClock()
      const scheduler = new Scheduler(clock)
      let runs = 0
      const task: Task = new Task(() => {
        runs++
        // Bounded, so that a regression fails instead of hanging.
        if (runs < 100) scheduler.schedule(task, delay)
      })
      scheduler.schedule(task, 10)
      expect(clock.fireNext()).toBe(true)
      expect(runs).toBe(1)
      // The next pass is another platform timer, so the event loop gets its turn in between.
      expect(clock.timers.size).toBe(1)
      expect(clock.fireNext()).toBe(true)
      expect(runs).toBe(2)
    },
  )

  it('runs the other due tasks when one throws, and reports the error', () => {
    const clock = manualClock()
    const errors: unknown[] = []
    const scheduler = new Scheduler(clock, { onError: (e) => errors.push(e) })
    const ran: string[] = []
    scheduler.schedule(new Task(() => ran.push('a')), 5)
    scheduler.schedule(
      new Task(() => {
        throw new Error('task broke')
      }),
      5,
    )
    scheduler.schedule(new Task(() => ran.push('c')), 5)
    scheduler.schedule(new Task(() => ran.push('later')), 50)
    clock.advance(5)
    expect(ran).toEqual(['a', 'c'])
    expect(errors).toHaveLength(1)
    clock.advance(45)
    expect(ran).toEqual(['a', 'c', 'later'])
  })
})
