// Property runs whose Math.random is seeded: the jitter draws from it, so a failing sequence replays
// the same when fast-check is given its seed and path again.
import fc from 'fast-check'
import { vi } from 'vitest'

/**
 * The async property of `run` over two arbitraries, plus a seed: during each run `Math.random` draws
 * from that seed, and is put back after.
 */
export function seededProperty<A, B>(
  first: fc.Arbitrary<A>,
  second: fc.Arbitrary<B>,
  run: (a: A, b: B) => Promise<void>,
): fc.IAsyncPropertyWithHooks<[A, B, number]> {
  return fc.asyncProperty(first, second, fc.integer(), async (a, b, seed) => {
    const spy = vi.spyOn(Math, 'random').mockImplementation(seededRandom(seed))
    try {
      await run(a, b)
    } finally {
      spy.mockRestore()
    }
  })
}

/** A small seeded generator of numbers in [0, 1) (mulberry32). */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
