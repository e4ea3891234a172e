import { describe, expect, it, vi } from 'vitest'
import type { Resources } from '../../src/index.js'
import { registry, useFakeTime } from './helpers.js'

useFakeTime()

const INTERVAL = 10_000

/** Defines `n` resources whose loaders record when each load began, relative to the start. */
function herd(resources: Resources, n: number) {
  const start = Date.now()
  const starts: number[][] = Array.from({ length: n }, () => [])
  for (let i = 0; i < n; i++) resources.define(`r${i}`, () => starts[i]!.push(Date.now() - start))
  return starts
}

describe('splay: the first refresh after the first load', () => {
  it('spreads the first refreshes of resources started together evenly over the interval, in definition order', async () => {
    const resources = registry({ interval: INTERVAL, jitter: 0, splay: 1 })
    const starts = herd(resources, 200)
    await resources.start({ wait: true })
    await vi.advanceTimersByTimeAsync(3 * INTERVAL)
    const firsts = starts.map((s) => s[1]!)
    for (const t of firsts) {
      expect(t).toBeGreaterThanOrEqual(1)
      expect(t).toBeLessThanOrEqual(INTERVAL)
    }
    // Evenly, in the order they were defined: the k-th of n in the k-th n-th of the interval.
    const n = firsts.length
    firsts.forEach((t, k) => {
      expect(t).toBeGreaterThanOrEqual(Math.floor((INTERVAL * k) / n))
      expect(t).toBeLessThanOrEqual(Math.ceil((INTERVAL * (k + 1)) / n))
    })
    // Only the first delay changes: from then on each resource keeps its own phase, an interval
    // apart (within the scheduler's millisecond).
    for (const s of starts) {
      expect(Math.abs(s[2]! - s[1]! - INTERVAL)).toBeLessThanOrEqual(1)
      expect(Math.abs(s[3]! - s[2]! - INTERVAL)).toBeLessThanOrEqual(1)
    }
  })

  it('shortens the first delay to interval × (1 − splay × (1 − phase)), and jitter applies on top', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.75)
    const resources = registry({ interval: INTERVAL, jitter: 0.2, splay: 0.5 })
    const [times] = herd(resources, 1)
    await resources.start({ wait: true })
    await vi.advanceTimersByTimeAsync(3 * INTERVAL)
    // One resource started alone: its phase is the draw itself.
    const first = INTERVAL * (1 - 0.5 * (1 - 0.75)) * (1 + 0.2 * (2 * 0.75 - 1))
    // Within the millisecond: the scheduler runs a task in the millisecond it is due in.
    expect(Math.abs(times![1]! - first)).toBeLessThanOrEqual(1)
    // Later delays: the interval with its jitter only.
    expect(Math.abs(times![2]! - times![1]! - INTERVAL * (1 + 0.2 * 0.5))).toBeLessThanOrEqual(1)
  })

  it('follows jitter by default: spread with jitter, exactly one interval without', async () => {
    const jittered = registry({ interval: INTERVAL, jitter: 0.1 })
    const spread = herd(jittered, 100)
    const exact = registry({ interval: INTERVAL, jitter: 0 })
    const lockStep = herd(exact, 100)
    await Promise.all([jittered.start({ wait: true }), exact.start({ wait: true })])
    await vi.advanceTimersByTimeAsync(INTERVAL * 1.2)
    // With jitter alone the first refreshes would all fall within interval ± 10%.
    expect(Math.min(...spread.map((s) => s[1]!))).toBeLessThan(INTERVAL / 2)
    expect(lockStep.map((s) => s[1])).toEqual(lockStep.map(() => INTERVAL))
  })

  it('is set per resource: splay 0 keeps one resource on the plain interval', async () => {
    const resources = registry({ interval: INTERVAL, jitter: 0, splay: 1 })
    vi.spyOn(Math, 'random').mockReturnValue(0.5)
    const start = Date.now()
    const times: Record<string, number[]> = { spread: [], plain: [] }
    resources.define('spread', () => times.spread!.push(Date.now() - start))
    resources.define('plain', () => times.plain!.push(Date.now() - start), { splay: 0 })
    await resources.start({ wait: true })
    await vi.advanceTimersByTimeAsync(INTERVAL)
    // The first of two started together: phase (0 + 0.5) / 2.
    expect(times.spread).toEqual([0, INTERVAL * 0.25])
    expect(times.plain).toEqual([0, INTERVAL])
  })

  it('never makes the first refresh an immediate reload: a phase drawn at 0 still waits 1 ms', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0)
    const resources = registry({ interval: INTERVAL, jitter: 0, splay: 1 })
    const [times] = herd(resources, 1)
    await resources.start({ wait: true })
    await vi.advanceTimersByTimeAsync(INTERVAL + 1)
    expect(times).toEqual([0, 1, 1 + INTERVAL])
  })

  it('gives a resource defined after start a phase of its own', async () => {
    const resources = registry({ interval: INTERVAL, jitter: 0, splay: 1 })
    await resources.start()
    vi.spyOn(Math, 'random').mockReturnValue(0.4)
    const start = Date.now()
    const times: number[] = []
    resources.define('late', () => times.push(Date.now() - start))
    await vi.advanceTimersByTimeAsync(INTERVAL)
    expect(times).toEqual([0, INTERVAL * 0.4])
  })

  it('does not apply after a failed first load: the first refresh follows the first success', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5)
    const resources = registry({ interval: INTERVAL, jitter: 0, splay: 1, retry: { initial: 1_000 } })
    const start = Date.now()
    const times: number[] = []
    resources.define('flaky', () => {
      times.push(Date.now() - start)
      if (times.length === 1) throw new Error('down')
      return times.length
    })
    void resources.start()
    await vi.advanceTimersByTimeAsync(2 * INTERVAL)
    // Failure at 0, retry after 1 s succeeds, then the splayed refresh half an interval later.
    expect(times.slice(0, 3)).toEqual([0, 1_000, 1_000 + INTERVAL / 2])
  })
})
