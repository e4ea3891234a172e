import type { LoadError } from './errors.js'
import type { ResourceSnapshot } from './resource.js'
import type { ResourceStatus, ValueSource } from './state.js'

/**
 * Health of one resource, as reported by `Resources.status`. JSON-safe: times in whole
 * milliseconds, wall-clock instants as ISO strings, `lastError` through its `toJSON()`.
 */
export interface ResourceHealth {
  readonly name: string
  readonly status: ResourceStatus
  /** Whether readiness depends on it (the `critical` option). */
  readonly critical: boolean
  /** Where the value came from: `load`, `store` (restored) or `fleet`; `undefined` without a value. */
  readonly source: ValueSource | undefined
  /** Age of the value in ms, or `undefined` without a value. */
  readonly age: number | undefined
  /** When the value was loaded (ISO, by the wall clock), or `undefined` without a value. */
  readonly updatedAt: string | undefined
  readonly lastError: LoadError | undefined
  /** When the current run of failures began (ISO), or `undefined` while the last load succeeded. */
  readonly failingSince: string | undefined
  readonly loads: number
  readonly failures: number
  readonly consecutiveFailures: number
  readonly version: number
  readonly loading: boolean
  /** Ms until the next scheduled load, or `undefined` while loading or stopped. */
  readonly nextRefreshIn: number | undefined
  /** The refresh interval in ms. */
  readonly interval: number
  /** The `maxStale` bound in ms, or `undefined` when there is none. */
  readonly maxStale: number | undefined
}

/** A health report, for a readiness probe. */
export interface HealthReport {
  /** Readiness: true when every critical resource has a value within its `maxStale`. */
  readonly healthy: boolean
  readonly started: boolean
  /** Ms by which the earliest scheduled task is overdue (0 when none is): a liveness probe's measure. */
  readonly lag: number
  readonly resources: readonly ResourceHealth[]
  /** One summary row per family (not one per key). */
  readonly families: readonly FamilyHealth[]
}

/** Summary of one family, as reported by `Resources.status`. */
export interface FamilyHealth {
  readonly name: string
  /** Keys held. */
  readonly size: number
  readonly hits: number
  readonly misses: number
  /** hits / (hits + misses), or 0 before any read. */
  readonly hitRatio: number
  /** Loader calls. */
  readonly loads: number
  /** Failed loads. */
  readonly failures: number
  /** Keys dropped to keep the bounds or for being idle. */
  readonly evictions: number
  /** Keys whose last load failed. */
  readonly failing: number
}

/** Whether a resource of `status` counts against the registry's readiness. */
export function isUnhealthy(status: ResourceStatus): boolean {
  return status === 'pending' || status === 'failed' || status === 'stale'
}

/** `at` (wall-clock ms) as an ISO string, or `undefined` for none. */
export function isoTime(at: number | undefined): string | undefined {
  return at === undefined || !Number.isFinite(at) ? undefined : new Date(at).toISOString()
}

/** The status row of a resource: its snapshot `s`, its settings, its next due time `at`, at `now` (monotonic ms). */
export function resourceHealth(
  s: ResourceSnapshot<unknown>,
  settings: { readonly critical: boolean; readonly interval: number; readonly maxStale: number },
  at: number,
  now: number,
): ResourceHealth {
  const { critical, interval, maxStale } = settings
  return {
    name: s.name,
    status: s.status,
    critical,
    source: s.source,
    age: s.age === undefined ? undefined : Math.round(s.age),
    updatedAt: isoTime(s.updatedAt),
    lastError: s.error,
    failingSince: isoTime(s.failingSince),
    loads: s.loads,
    failures: s.failures,
    consecutiveFailures: s.consecutiveFailures,
    version: s.version,
    loading: s.loading,
    nextRefreshIn: s.nextRefreshAt === undefined ? undefined : Math.max(0, Math.round(at - now)),
    interval: Math.round(interval),
    maxStale: Number.isFinite(maxStale) ? Math.round(maxStale) : undefined,
  }
}
