import type { Clock } from '../../src/scheduling/clock.js'

/** A manual clock whose timers fire exactly when due; counts the armed platform timers. */
export function manualClock() {
  let now = 1_000_000
  let nextId = 0
  const timers = new Map<number, { due: number; fn: () => void }>()
  const clock: Clock & {
    advance(ms: number): void
    /** Moves time without firing anything: the process was stalled. */
    stall(ms: number): void
    readonly pending: number
    readonly time: number
  } = {
    now: () => now,
    setTimeout(fn, ms) {
      const id = ++nextId
      timers.set(id, { due: now + ms, fn })
      return id
    },
    clearTimeout(id) {
      timers.delete(id as number)
    },
    advance(ms) {
      const end = now + ms
      for (;;) {
        let first: [number, { due: number; fn: () => void }] | undefined
        for (const entry of timers) if (first === undefined || entry[1].due < first[1].due) first = entry
        if (first === undefined || first[1].due > end) break
        timers.delete(first[0])
        now = Math.max(now, first[1].due)
        first[1].fn()
      }
      now = end
    },
    stall(ms) {
      now += ms
    },
    get pending() {
      return timers.size
    },
    get time() {
      return now
    },
  }
  return clock
}
