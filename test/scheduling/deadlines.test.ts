import { describe, expect, it } from 'vitest'
import { type DeadlineEntry, Deadlines } from '../../src/scheduling/deadlines.js'
import { Scheduler } from '../../src/scheduling/scheduler.js'
import { manualClock } from './manual-clock.js'

interface Entry extends DeadlineEntry {
  readonly name: string
}

/** A manual clock, a scheduler that keeps the errors of its tasks, and deadlines on them. */
function setup(onExpired: (entry: Entry) => void = () => {}) {
  const clock = manualClock()
  const errors: unknown[] = []
  const scheduler = new Scheduler(clock, { onError: (error) => errors.push(error) })
  const expired: { name: string; at: number }[] = []
  const deadlines = new Deadlines<Entry>(scheduler, clock.now, (e) => {
    expired.push({ name: e.name, at: clock.time })
    onExpired(e)
  })
  const start = clock.time
  const entry = (name: string): Entry => ({
    name,
    startedAt: clock.time,
    deadlinePrev: undefined,
    deadlineNext: undefined,
  })
  return { clock, scheduler, errors, deadlines, expired, start, entry }
}

describe('deadlines', () => {
  it('expires each entry at its start plus its duration, whatever the mix of durations', () => {
    const { clock, deadlines, expired, start, entry } = setup()
    deadlines.add(entry('a'), 30_000)
    clock.advance(1_000)
    deadlines.add(entry('b'), 5_000)
    deadlines.add(entry('c'), 30_000)
    clock.advance(40_000)
    expect(expired).toEqual([
      { name: 'b', at: start + 6_000 },
      { name: 'a', at: start + 30_000 },
      { name: 'c', at: start + 31_000 },
    ])
  })

  it('never expires a removed entry, wherever it was in its lane', () => {
    const { clock, deadlines, expired, start, entry } = setup()
    const entries = ['a', 'b', 'c', 'd'].map((name) => {
      const e = entry(name)
      deadlines.add(e, 1_000)
      clock.advance(10)
      return e
    })
    deadlines.remove(entries[0]!, 1_000) // the first
    deadlines.remove(entries[2]!, 1_000) // one in the middle
    deadlines.remove(entries[2]!, 1_000) // twice: nothing happens
    clock.advance(5_000)
    expect(expired).toEqual([
      { name: 'b', at: start + 1_010 },
      { name: 'd', at: start + 1_030 },
    ])
  })

  it('keeps one scheduler task per duration, however many entries are in flight', () => {
    const { clock, scheduler, deadlines, entry } = setup()
    for (let i = 0; i < 1_000; i++) {
      const e = entry(`e${i}`)
      deadlines.add(e, 30_000)
      clock.advance(1)
      deadlines.remove(e, 30_000)
    }
    expect(scheduler.size).toBe(1)
    deadlines.add(entry('late'), 5_000)
    expect(scheduler.size).toBe(2)
  })

  it('after its first entries were removed, moves on to the next one when its task fires', () => {
    const { clock, deadlines, expired, start, entry } = setup()
    const first = entry('first')
    deadlines.add(first, 1_000)
    clock.advance(500)
    deadlines.add(entry('second'), 1_000)
    deadlines.remove(first, 1_000)
    clock.advance(999) // the lane's task fires at 1,000 for nothing, then waits for the second
    expect(expired).toEqual([])
    clock.advance(2)
    expect(expired).toEqual([{ name: 'second', at: start + 1_500 }])
  })

  it('keeps the deadlines of the other entries when an expiry callback throws', () => {
    const { clock, errors, deadlines, expired, entry } = setup((e) => {
      if (e.name === 'a') throw new Error('listener failed')
    })
    deadlines.add(entry('a'), 1_000)
    deadlines.add(entry('b'), 1_000)
    clock.advance(10)
    deadlines.add(entry('c'), 1_000)
    clock.advance(2_000)
    expect(expired.map((e) => e.name)).toEqual(['a', 'b', 'c'])
    expect(errors).toHaveLength(1)
  })

  it('can be used again after the scheduler was cleared (a registry stopped and started)', () => {
    const { clock, scheduler, deadlines, expired, start, entry } = setup()
    const e = entry('a')
    deadlines.add(e, 1_000)
    scheduler.clear()
    deadlines.remove(e, 1_000)
    deadlines.add(entry('b'), 1_000)
    clock.advance(1_000)
    expect(expired).toEqual([{ name: 'b', at: start + 1_000 }])
  })
})
