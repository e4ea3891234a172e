import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Clock } from '../../src/scheduling/clock.js'
import { MAX_TIMER_DELAY, Scheduler, Task } from '../../src/scheduling/scheduler.js'
import { manualClock } from './manual-clock.js'

describe('the scheduler', () => {
  it('runs a task when it is due, not before', () => {
    const clock = manualClock()
    const scheduler = new Scheduler(clock)
    const runs: number[] = []
    scheduler.schedule(new Task(() => runs.push(clock.time)), 100)
    clock.advance(98)
    expect(runs).toEqual([])
    clock.advance(2)
    expect(runs).toEqual([clock.time])
  })

  it('arms at most one platform timer, whatever the number of tasks', () => {
    const clock = manualClock()
    const scheduler = new Scheduler(clock)
    let runs = 0
    for (let i = 0; i < 10_000; i++) scheduler.schedule(new Task(() => runs++), 1 + (i % 997))
    expect(clock.pending).toBe(1)
    clock.advance(1_000)
    expect(runs).toBe(10_000)
    expect(clock.pending).toBe(0)
  })

  it('reaches delays beyond 2^31-1 ms in chunks instead of firing at once', () => {
    const clock = manualClock()
    const scheduler = new Scheduler(clock)
    let ran = false
    const thirtyDays = 30 * 24 * 3_600_000
    scheduler.schedule(new Task(() => (ran = true)), thirtyDays)
    clock.advance(1)
    clock.advance(MAX_TIMER_DELAY)
    expect(ran).toBe(false)
    clock.advance(thirtyDays - MAX_TIMER_DELAY - 1)
    expect(ran).toBe(true)
  })

  it('moves a task scheduled again, and forgets a cancelled one', () => {
    const clock = manualClock()
    const scheduler = new Scheduler(clock)
    const runs: string[] = []
    const a = new Task(() => runs.push('a'))
    const b = new Task(() => runs.push('b'))
    scheduler.schedule(a, 10)
    scheduler.schedule(b, 20)
    scheduler.schedule(a, 30)
    scheduler.cancel(b)
    clock.advance(25)
    expect(runs).toEqual([])
    clock.advance(5)
    expect(runs).toEqual(['a'])
    expect(scheduler.size).toBe(0)
    expect(clock.pending).toBe(0)
  })

  it('leaves nothing armed after clear()', () => {
    const clock = manualClock()
    const scheduler = new Scheduler(clock)
    for (let i = 0; i < 100; i++) scheduler.schedule(new Task(() => {}), i * 3)
    scheduler.clear()
    expect(scheduler.size).toBe(0)
    expect(clock.pending).toBe(0)
  })

  it('yields between slices of a large burst instead of running it in one go', () => {
    const callbacks: { fn: () => void; ms: number }[] = []
    const clock: Clock = {
      now: () => 0,
      setTimeout: (fn, ms) => callbacks.push({ fn, ms }),
      clearTimeout: () => {},
    }
    // Each task holds the event loop for 0.1 ms of (simulated) real time.
    let elapsed = 0
    const scheduler = new Scheduler(clock, { sliceMs: 5, elapsed: () => elapsed })
    let runs = 0
    const work = () => {
      runs++
      elapsed += 0.1
    }
    for (let i = 0; i < 1_000; i++) scheduler.schedule(new Task(work), 0)
    callbacks.shift()!.fn()
    // About 5 ms of work, rounded up to the next check (every 16 tasks), then a zero-delay yield.
    expect(runs).toBeGreaterThanOrEqual(50)
    expect(runs).toBeLessThanOrEqual(64)
    expect(callbacks.map((c) => c.ms)).toEqual([0])
    callbacks.shift()!.fn()
    expect(runs).toBeGreaterThanOrEqual(100)
    expect(runs).toBeLessThanOrEqual(128)
  })

  it('goes on with a backlog through setImmediate when the clock has it, not a timer', () => {
    const timers: (() => void)[] = []
    const immediates: (() => void)[] = []
    const clock: Clock = {
      now: () => 0,
      setTimeout: (fn) => timers.push(fn),
      clearTimeout: () => {},
      setImmediate: (fn) => immediates.push(fn),
      clearImmediate: () => {},
    }
    let elapsed = 0
    const scheduler = new Scheduler(clock, { sliceMs: 1, elapsed: () => elapsed })
    let runs = 0
    for (let i = 0; i < 100; i++) {
      scheduler.schedule(
        new Task(() => {
          runs++
          elapsed += 0.1
        }),
        0,
      )
    }
    // Due at once: the first pass is queued as an immediate too.
    expect(timers).toHaveLength(0)
    expect(immediates).toHaveLength(1)
    immediates.shift()!()
    expect(runs).toBe(16)
    expect(immediates).toHaveLength(1)
    while (immediates.length > 0) immediates.shift()!()
    expect(runs).toBe(100)
    expect(timers).toHaveLength(0)
    // Nothing is left queued once the backlog is done.
    scheduler.schedule(new Task(() => {}), 50)
    expect(timers).toHaveLength(1)
  })

  it('cancels a queued immediate with clearImmediate when the work goes away', () => {
    const cleared: unknown[] = []
    const clock: Clock = {
      now: () => 0,
      setTimeout: () => 'timer',
      clearTimeout: (h) => cleared.push(h),
      setImmediate: () => 'immediate',
      clearImmediate: (h) => cleared.push(h),
    }
    const scheduler = new Scheduler(clock)
    const task = new Task(() => {})
    scheduler.schedule(task, 0)
    scheduler.cancel(task)
    expect(cleared).toEqual(['immediate'])
  })

  it('runs a task moved between near and far due times once, at its last time', () => {
    const clock = manualClock()
    const scheduler = new Scheduler(clock)
    const ran: number[] = []
    const task = new Task(() => ran.push(clock.time))
    const start = clock.time
    scheduler.schedule(task, 100) // near: the wheel
    scheduler.schedule(task, 60_000) // far: the heap
    scheduler.schedule(task, 2_000) // near again
    scheduler.schedule(task, 3_000)
    clock.advance(70_000)
    expect(ran).toEqual([start + 3_000])
    expect(scheduler.size).toBe(0)
  })

  it('runs a task scheduled at a time already past on its next pass, not a lap of the wheel later', () => {
    const clock = manualClock()
    const scheduler = new Scheduler(clock)
    const ran: number[] = []
    const mover = new Task(() => {})
    scheduler.schedule(mover, 100)
    clock.advance(200) // the wheel has moved on past the time below
    const now = clock.time
    scheduler.scheduleAt(new Task(() => ran.push(clock.time)), now - 150)
    clock.advance(1)
    expect(ran).toEqual([now])
  })

  it('after a stall longer than the near range, runs each due task once, in due order', () => {
    const clock = manualClock()
    const scheduler = new Scheduler(clock)
    const ran: string[] = []
    const task = (name: string) => new Task(() => ran.push(name))
    const [a, b, c, d] = [task('a'), task('b'), task('c'), task('d')]
    scheduler.schedule(c, 4_000)
    scheduler.schedule(a, 10)
    scheduler.schedule(d, 9_000)
    scheduler.schedule(b, 2_500)
    clock.stall(30_000)
    clock.advance(0)
    expect(ran).toEqual(['a', 'b', 'c', 'd'])
    // The near range starts again from now: a task due soon is not mistaken for one long past.
    scheduler.schedule(a, 50)
    clock.advance(49)
    expect(ran).toHaveLength(4)
    clock.advance(2)
    expect(ran).toEqual(['a', 'b', 'c', 'd', 'a'])
  })

  it('runs every task once, in due order, never early and never more than a tick late (property)', () => {
    type Op =
      | { kind: 'schedule'; id: number; delay: number }
      | { kind: 'cancel'; id: number }
      | { kind: 'advance'; ms: number }
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('schedule' as const),
        id: fc.integer({ min: 0, max: 15 }),
        // Near (the wheel) and far (the heap) delays, so tasks also move from one to the other.
        delay: fc.oneof(
          fc.double({ min: 0, max: 500, noNaN: true }),
          fc.double({ min: 0, max: 12_000, noNaN: true }),
        ),
      }),
      fc.record({ kind: fc.constant('cancel' as const), id: fc.integer({ min: 0, max: 15 }) }),
      fc.record({
        kind: fc.constant('advance' as const),
        ms: fc.oneof(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 5_000 })),
      }),
    )
    fc.assert(
      fc.property(fc.array(op, { minLength: 10, maxLength: 80, size: 'max' }), (ops: Op[]) => {
        const clock = manualClock()
        const scheduler = new Scheduler(clock)
        const due = new Map<number, number>() // id -> due time while scheduled
        const ran: { id: number; at: number; due: number }[] = []
        const tasks = Array.from(
          { length: 16 },
          (_, id) =>
            new Task(() => {
              ran.push({ id, at: clock.time, due: due.get(id)! })
              due.delete(id)
            }),
        )
        for (const o of ops) {
          if (o.kind === 'schedule') {
            scheduler.schedule(tasks[o.id]!, o.delay)
            due.set(o.id, clock.time + Math.round(o.delay))
          } else if (o.kind === 'cancel') {
            scheduler.cancel(tasks[o.id]!)
            due.delete(o.id)
          } else clock.advance(o.ms)
          expect(scheduler.size).toBe(due.size)
          expect(clock.pending).toBeLessThanOrEqual(1)
        }
        clock.advance(15_000)
        expect(due.size).toBe(0)
        for (const r of ran) {
          expect(r.at).toBeGreaterThanOrEqual(r.due - 1)
          expect(r.at).toBeLessThanOrEqual(r.due + 1)
        }
      }),
      { numRuns: 300 },
    )
  })
})
