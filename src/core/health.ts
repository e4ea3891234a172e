import type { LoadError } from './errors.js'
import type { ResourceStatus } from './state.js'

/** Health of one resource, as reported by `Resources.status`. */
export interface ResourceHealth {
  readonly name: string
  readonly status: ResourceStatus
  /** Age of the value in ms, or `undefined` without a value. */
  readonly age: number | undefined
  readonly lastError: LoadError | undefined
  readonly loads: number
  readonly failures: number
  readonly consecutiveFailures: number
  readonly version: number
  readonly loading: boolean
  /** Ms until the next scheduled load, or `undefined` while loading or stopped. */
  readonly nextRefreshIn: number | undefined
}

/** A health report, for a readiness probe. */
export interface HealthReport {
  /** True when every resource has a value within its `maxStale`. */
  readonly healthy: boolean
  readonly started: boolean
  readonly resources: readonly ResourceHealth[]
}

/** Whether a resource of `status` counts against the registry's health. */
export function isUnhealthy(status: ResourceStatus): boolean {
  return status === 'pending' || status === 'failed' || status === 'stale'
}
