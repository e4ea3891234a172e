/**
 * Seeded access traces for hit-ratio simulations: each is an `Int32Array` of key ids in
 * `0..keySpace-1`, the same for the same arguments on every machine and run.
 *
 * - `zipfTrace`: independent draws from a Zipf distribution (rank r drawn with weight 1/r^s),
 *   ranks mapped to ids through a seeded shuffle, so popular ids are spread over the key space.
 * - `loopTrace`: the same run of ids over and over (a batch job walking a table): the case that
 *   defeats LRU when the loop is longer than the cache.
 * - `mixTrace`: phases one after another: a skewed phase, the same with a one-off scan of new
 *   ids interleaved, a popularity shift (other ids become the popular ones), and a loop.
 * - `slidingTrace`: uniform reads over a set of ids that keeps moving (keys hot for a while, then
 *   never read again): recency predicts, frequency lags; the case that favours LRU.
 */

/** The number of distinct keys the traces draw from. */
export const KEY_SPACE = 1_000_000

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

/** The ids `0..n-1` in a seeded random order (Fisher-Yates). */
export function shuffledIds(n: number, seed: number): Int32Array {
  const random = seededRandom(seed)
  const ids = new Int32Array(n)
  for (let i = 0; i < n; i++) ids[i] = i
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    const t = ids[i]!
    ids[i] = ids[j]!
    ids[j] = t
  }
  return ids
}

/** Cumulative probabilities of ranks 1..n under Zipf with exponent `s` (last entry 1). */
export function zipfCdf(n: number, s: number): Float64Array {
  const cdf = new Float64Array(n)
  let sum = 0
  for (let r = 0; r < n; r++) {
    sum += 1 / (r + 1) ** s
    cdf[r] = sum
  }
  for (let r = 0; r < n; r++) cdf[r] = cdf[r]! / sum
  return cdf
}

/** The hit ratio of a cache that holds exactly the `size` most popular keys of a Zipf trace. */
export function topKeysHitRatio(cdf: Float64Array, size: number): number {
  return size <= 0 ? 0 : cdf[Math.min(size, cdf.length) - 1]!
}

/** Options of a Zipf trace. */
export interface ZipfTraceOptions {
  /** Exponent: 0.8 mild skew, 0.99 web-like, 1.2 strong. */
  readonly skew: number
  readonly length: number
  readonly seed: number
  readonly keySpace?: number
}

/** Independent Zipf draws over the key space, ranks mapped to ids through a seeded shuffle. */
export function zipfTrace(options: ZipfTraceOptions): Int32Array {
  const { skew, length, seed, keySpace = KEY_SPACE } = options
  const cdf = zipfCdf(keySpace, skew)
  const ids = shuffledIds(keySpace, seed ^ 0x5bd1e995)
  return zipfDraws(cdf, ids, length, seededRandom(seed))
}

function zipfDraws(cdf: Float64Array, ids: Int32Array, length: number, random: () => number): Int32Array {
  const trace = new Int32Array(length)
  const last = cdf.length - 1
  for (let i = 0; i < length; i++) {
    const u = random()
    // The first rank whose cumulative probability exceeds u (binary search).
    let lo = 0
    let hi = last
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (cdf[mid]! > u) hi = mid
      else lo = mid + 1
    }
    trace[i] = ids[lo]!
  }
  return trace
}

/** `length` accesses cycling through the ids `start..start+loop-1` in order. */
export function loopTrace(length: number, loop: number, start = 0): Int32Array {
  const trace = new Int32Array(length)
  for (let i = 0; i < length; i++) trace[i] = start + (i % loop)
  return trace
}

/** Options of the mixed trace. */
export interface MixTraceOptions {
  /** Accesses per phase (four phases). */
  readonly phase: number
  readonly seed: number
  /** Ids in the loop phase. */
  readonly loop: number
  readonly keySpace?: number
}

/**
 * Four phases of `phase` accesses: Zipf 0.99; Zipf 0.99 with every other access a scan of ids
 * never drawn before; Zipf 0.8 over another shuffle (the popular keys change); a loop.
 */
export function mixTrace(options: MixTraceOptions): Int32Array {
  const { phase, seed, loop, keySpace = KEY_SPACE } = options
  const random = seededRandom(seed)
  const trace = new Int32Array(phase * 4)
  const skewed = zipfCdf(keySpace, 0.99)
  const first = shuffledIds(keySpace, seed + 1)
  trace.set(zipfDraws(skewed, first, phase, random), 0)
  const second = zipfDraws(skewed, first, phase, random)
  // The scan walks the least popular half of the ids (drawn at most rarely) in order.
  for (let i = 1; i < phase; i += 2) second[i] = first[keySpace - 1 - ((i >>> 1) % (keySpace >>> 1))]!
  trace.set(second, phase)
  trace.set(zipfDraws(zipfCdf(keySpace, 0.8), shuffledIds(keySpace, seed + 2), phase, random), 2 * phase)
  trace.set(loopTrace(phase, loop, Math.floor(random() * (keySpace - loop))), 3 * phase)
  return trace
}

/** Options of the sliding trace. */
export interface SlidingTraceOptions {
  readonly length: number
  readonly seed: number
  /** Ids read at any one time, uniformly. */
  readonly hotSet: number
  /** How far the hot set moves per access (ids): each id stays hot for `hotSet / drift` accesses. */
  readonly drift: number
}

/**
 * Reads drawn uniformly from a set of ids that slides forward over time (new ids become hot, old
 * ones cold for good): recency predicts the next read, frequency lags. The case that favours LRU.
 */
export function slidingTrace(options: SlidingTraceOptions): Int32Array {
  const { length, seed, hotSet, drift } = options
  const random = seededRandom(seed)
  const ids = shuffledIds(KEY_SPACE, seed + 7)
  const trace = new Int32Array(length)
  for (let i = 0; i < length; i++) {
    const id = Math.floor(i * drift) + Math.floor(random() * hotSet)
    trace[i] = ids[id % KEY_SPACE]!
  }
  return trace
}
