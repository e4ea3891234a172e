import { type BatchObservableResult, type Meter, metrics } from '@opentelemetry/api'
import type { Resources } from '../index.js'
import { LOAD_DURATION_BUCKETS } from '../metrics/load-duration-buckets.js'
import { observeRegistry, readGauges } from '../metrics/registry-observer.js'
import { ResourceLabels } from '../metrics/resource-labels.js'

/** The attribute naming the resource on every per-resource metric and on load spans. */
export const RESOURCE_ATTRIBUTE = 'evergreen.resource'

/** Options of {@link otelMetrics}. */
export interface OtelMetricsOptions {
  /** The meter the instruments are made on. @default the global meter provider's `evergreen-cache` meter */
  meter?: Meter
  /**
   * Most resources with an `evergreen.resource` attribute of their own; the rest are counted under
   * `_other`. A non-negative integer. @default 1000
   */
  maxLabelledResources?: number
  /** Bucket boundaries advised for `evergreen_load_duration`, in seconds. @default 5 ms to 30 s */
  buckets?: number[]
}

/** What {@link otelMetrics} returns. */
export interface OtelMetrics {
  /** Stops recording and observing. Idempotent. */
  close(): void
}

/**
 * Records a registry's metrics as OpenTelemetry instruments, named as the Prometheus ones without
 * their `_total` and unit suffixes (`evergreen_loads`, `evergreen_load_duration` in seconds,
 * `evergreen_value_age`...): counters and a histogram fed by the registry's events, gauges observed
 * at each collection from one `status()`. Nothing is added to `get()`.
 */
export function otelMetrics(resources: Resources, options: OtelMetricsOptions = {}): OtelMetrics {
  const meter = options.meter ?? metrics.getMeter('evergreen-cache')
  const labels = new ResourceLabels(options.maxLabelledResources)
  const by = (resource: string) => ({ [RESOURCE_ATTRIBUTE]: resource })
  const counter = (name: string, description: string) =>
    meter.createCounter(name, { description, unit: '{load}' })

  const loads = counter('evergreen_loads', 'Loads that settled (succeeded or failed), per resource.')
  const failures = counter('evergreen_load_failures', 'Loads that failed, timeouts included, per resource.')
  const timeouts = counter('evergreen_load_timeouts', 'Loads that did not settle within their timeout.')
  const duration = meter.createHistogram('evergreen_load_duration', {
    description: 'Duration of successful loads, per resource.',
    unit: 's',
    advice: { explicitBucketBoundaries: options.buckets ?? [...LOAD_DURATION_BUCKETS] },
  })
  const fleetCounter = (name: string, description: string) =>
    meter.createCounter(name, { description, unit: '{event}' })
  const fleet = {
    'lease-taken': fleetCounter('evergreen_fleet_leases_taken', 'Fleet leases this replica took.'),
    'lease-refused': fleetCounter('evergreen_fleet_leases_refused', 'Fleet leases refused to this replica.'),
    'write-refused': fleetCounter('evergreen_fleet_writes_refused', 'Writes the store refused by fencing.'),
    announcement: fleetCounter('evergreen_fleet_announcements', 'New versions announced by other replicas.'),
  }

  const age = meter.createObservableGauge('evergreen_value_age', {
    description: 'Age of the value served, per resource (the oldest under _other).',
    unit: 's',
  })
  const consecutive = meter.createObservableGauge('evergreen_consecutive_failures', {
    description: 'Failed loads since the last success, per resource (the most under _other).',
  })
  const stale = meter.createObservableGauge('evergreen_stale', {
    description: '1 when the value is older than maxStale, per resource (how many under _other).',
  })
  const statuses = meter.createObservableGauge('evergreen_resources', { description: 'Resources by status.' })
  const ready = meter.createObservableGauge('evergreen_ready', {
    description: '1 when every critical resource has a value within its maxStale (readiness).',
  })
  const lag = meter.createObservableGauge('evergreen_scheduler_lag', {
    description: 'How late the earliest due refresh is (liveness).',
    unit: 's',
  })
  const observe = (result: BatchObservableResult) => {
    const readings = readGauges(resources, labels)
    for (const [resource, r] of readings.byResource) {
      if (r.ageSeconds !== undefined) result.observe(age, r.ageSeconds, by(resource))
      result.observe(consecutive, r.consecutiveFailures, by(resource))
      result.observe(stale, r.stale, by(resource))
    }
    for (const [status, n] of readings.byStatus) result.observe(statuses, n, { 'evergreen.status': status })
    result.observe(ready, readings.ready ? 1 : 0)
    result.observe(lag, readings.lagSeconds)
  }
  const gauges = [age, consecutive, stale, statuses, ready, lag]
  meter.addBatchObservableCallback(observe, gauges)

  const stop = observeRegistry(resources, labels, {
    loaded(resource, seconds) {
      loads.add(1, by(resource))
      duration.record(seconds, by(resource))
    },
    failed(resource, timedOut) {
      loads.add(1, by(resource))
      failures.add(1, by(resource))
      if (timedOut) timeouts.add(1, by(resource))
    },
    fleet(kind, resource) {
      fleet[kind].add(1, by(resource))
    },
  })
  let closed = false
  return {
    close() {
      if (closed) return
      closed = true
      stop()
      meter.removeBatchObservableCallback(observe, gauges)
    },
  }
}
