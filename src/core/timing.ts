// The timing policy: when a resource (or a family's key) loads next. Pure functions of numbers and
// of the resolved settings, so the same policy serves a resource object and compact per-key state.

/** The settings the policy reads; every default in them was decided by `resolveSettings`. */
export interface TimingSettings {
  readonly interval: number
  readonly jitter: number
  readonly splay: number
  readonly retry: { readonly initial: number; readonly factor: number; readonly max: number } | undefined
}

/** Resolution of a splay phase: a phase is an integer in [0, PHASES], held without a number box. */
export const PHASES = 2 ** 30

/** The phase before one is drawn: the first refresh then comes a full interval after the first load. */
export const NO_PHASE = -1

/**
 * The phase of the `index`-th of `count` resources started together: `(index + u) / count` of the
 * interval, `u` drawn from `random`. Drawn only with splay on, so a registry without it never draws.
 */
export function splayPhase(
  settings: TimingSettings,
  index: number,
  count: number,
  random: () => number,
): number {
  return settings.splay > 0 ? Math.floor(((index + random()) / count) * PHASES) : NO_PHASE
}

/**
 * The delay after the first successful load: spread over the interval by splay. At least 1 ms, so
 * a phase drawn near 0 never turns the first refresh into an immediate reload. Rounded to the
 * microsecond: a phase stands for its fraction of the interval to within 2^-30, and without the
 * rounding a phase of exactly 0.4 would come a billionth of a millisecond early, in the millisecond before.
 */
export function firstDelay(settings: TimingSettings, phase: number): number {
  const { interval, splay } = settings
  if (splay === 0 || phase < 0) return interval
  return Math.max(1, Math.round(interval * (1 - splay * (1 - phase / PHASES)) * 1e3) / 1e3)
}

/** The delay after a successful load: the first is splayed, later ones are the interval. */
export function delayAfterLoad(settings: TimingSettings, loads: number, phase: number): number {
  return loads === 1 ? firstDelay(settings, phase) : settings.interval
}

/** The delay after the `consecutiveFailures`-th failure in a row: the backoff, or the interval without retry. */
export function retryDelay(settings: TimingSettings, consecutiveFailures: number): number {
  const { retry, interval } = settings
  if (retry === undefined) return interval
  return Math.min(retry.initial * retry.factor ** (consecutiveFailures - 1), retry.max)
}

/** `base` give or take the jitter. At least 1 ms, so a full jitter never turns a delay into an immediate reload. */
export function jittered(settings: TimingSettings, base: number, random: () => number): number {
  const jitter = settings.jitter
  return jitter === 0 ? base : Math.max(1, base * (1 + jitter * (2 * random() - 1)))
}

/**
 * Fleet mode: whether a shared value loaded at `loadedAt` is fresh at `now`, so no replica needs to
 * load it again yet (younger than the shortest jittered interval).
 */
export function isFresh(settings: TimingSettings, loadedAt: number, now: number): boolean {
  return now - loadedAt < settings.interval * (1 - settings.jitter)
}

/** Fleet mode: how long to wait before checking again when another replica holds the lease. */
export function leaseRecheckDelay(settings: TimingSettings, leaseTtl: number): number {
  return Math.min(settings.interval, leaseTtl / 3)
}
