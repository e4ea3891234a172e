import { describe, expect, it } from 'vitest'
import {
  CLAIMING,
  IDLE,
  isClosed,
  isLoading,
  type LifecycleEvent,
  LOADING,
  type Phase,
  QUEUED,
  REMOVED,
  RESTORING,
  SCHEDULED,
  STOPPED,
  step,
} from '../../src/core/state.js'
import {
  delayAfterLoad,
  firstDelay,
  jittered,
  PHASES,
  retryDelay,
  splayPhase,
} from '../../src/core/timing.js'

const ALL: Phase[] = [IDLE, RESTORING, CLAIMING, QUEUED, LOADING, SCHEDULED, STOPPED, REMOVED]
const EVENTS: LifecycleEvent[] = [
  'restore',
  'restored',
  'claim',
  'queue',
  'run',
  'schedule',
  'settle',
  'stop',
  'remove',
  'reopen',
]

describe('the lifecycle reducer', () => {
  it.each<[string, Phase, LifecycleEvent, Phase]>([
    ['a restore begins only from idle', IDLE, 'restore', RESTORING],
    ['a restore ending goes back to idle', RESTORING, 'restored', IDLE],
    ['a restore ending does not undo a load queued behind it', QUEUED, 'restored', QUEUED],
    ['a first load queues behind a restore', RESTORING, 'queue', QUEUED],
    ['a due refresh asks the fleet', SCHEDULED, 'claim', CLAIMING],
    ['a claim that loads queues the load', CLAIMING, 'queue', QUEUED],
    ['a claim that waits schedules the next check', CLAIMING, 'schedule', SCHEDULED],
    ['a queued load runs when it has a slot', QUEUED, 'run', LOADING],
    ['only a queued load starts running', SCHEDULED, 'run', SCHEDULED],
    ['a settled load schedules the next', LOADING, 'schedule', SCHEDULED],
    ['a settled load with nothing scheduled is idle', LOADING, 'settle', IDLE],
    ['stop stops a running load', LOADING, 'stop', STOPPED],
    ['a stopped resource ignores loads and schedules', STOPPED, 'schedule', STOPPED],
    ['a stopped resource reopens idle', STOPPED, 'reopen', IDLE],
    ['reopen does nothing to a resource that was not stopped', SCHEDULED, 'reopen', SCHEDULED],
    ['remove is final from anywhere', SCHEDULED, 'remove', REMOVED],
  ])('%s', (_, phase, event, expected) => {
    expect(step(phase, event)).toBe(expected)
  })

  it('never leaves removed, and leaves stopped only by reopen or remove', () => {
    for (const event of EVENTS) {
      expect(step(REMOVED, event)).toBe(REMOVED)
      const after = step(STOPPED, event)
      expect(after).toBe(event === 'reopen' ? IDLE : event === 'remove' ? REMOVED : STOPPED)
    }
  })

  it('derives loading and closed from the phase alone', () => {
    expect(ALL.filter(isLoading)).toEqual([QUEUED, LOADING])
    expect(ALL.filter(isClosed)).toEqual([STOPPED, REMOVED])
  })
})

describe('the timing policy, over plain numbers', () => {
  const settings = { interval: 1_000, jitter: 0.1, splay: 1, retry: { initial: 100, factor: 2, max: 1_000 } }

  it('splays the first refresh by the phase, and never below 1 ms', () => {
    expect(firstDelay(settings, PHASES / 4)).toBe(250)
    expect(firstDelay(settings, 0)).toBe(1)
    expect(firstDelay({ ...settings, splay: 0 }, 0)).toBe(1_000)
    expect(delayAfterLoad(settings, 1, PHASES / 2)).toBe(500)
    expect(delayAfterLoad(settings, 2, PHASES / 2)).toBe(1_000)
  })

  it('draws a phase only with splay on, spreading the k-th of n over the interval', () => {
    expect(splayPhase(settings, 1, 4, () => 0.5)).toBe(Math.floor(PHASES * 0.375))
    const never = () => {
      throw new Error('no draw without splay')
    }
    expect(splayPhase({ ...settings, splay: 0 }, 1, 4, never)).toBe(-1)
  })

  it('backs off exponentially up to its max, and jitters within bounds', () => {
    expect([1, 2, 3, 4, 5].map((n) => retryDelay(settings, n))).toEqual([100, 200, 400, 800, 1_000])
    expect(retryDelay({ ...settings, retry: undefined }, 3)).toBe(1_000)
    expect(jittered(settings, 1_000, () => 0)).toBe(900)
    expect(jittered(settings, 1_000, () => 0.5)).toBe(1_000)
    expect(jittered({ ...settings, jitter: 1 }, 1_000, () => 0)).toBe(1)
  })
})
