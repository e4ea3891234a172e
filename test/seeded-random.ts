// Math.random made repeatable for a property run: the jitter draws from it, so a failing sequence
// replays the same when its seed is given again.
import { vi } from 'vitest'

/** A small seeded generator of numbers in [0, 1) (mulberry32). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Runs `fn` with `Math.random` drawing from `seed`, then puts it back. */
export async function withSeededRandom<T>(seed: number, fn: () => Promise<T>): Promise<T> {
  const spy = vi.spyOn(Math, 'random').mockImplementation(seededRandom(seed))
  try {
    return await fn()
  } finally {
    spy.mockRestore()
  }
}
