import { Counter, Gauge, Histogram, type Registry, register } from 'prom-client'
import type { Resources } from '../index.js'
import { LOAD_DURATION_BUCKETS } from '../metrics/load-duration-buckets.js'
import { observeRegistry, readGauges } from '../metrics/registry-observer.js'
import { ResourceLabels } from '../metrics/resource-labels.js'

/** Options of {@link prometheusMetrics}. */
export interface PrometheusMetricsOptions {
  /** The prom-client registry the metrics are registered in. @default prom-client's global `register` */
  registry?: Registry
  /**
   * Most resources with a `resource` label of their own; the rest are counted under `_other`.
   * A non-negative integer. @default 1000
   */
  maxLabelledResources?: number
  /** Buckets of `evergreen_load_duration_seconds`, in seconds. @default 5 ms to 30 s */
  buckets?: number[]
}

/** What {@link prometheusMetrics} returns. */
export interface PrometheusMetrics {
  readonly registry: Registry
  /** Stops counting and removes the metrics from the registry. Idempotent. */
  close(): void
}

/**
 * Exposes a registry's metrics through prom-client: loads, failures and timeouts per resource, a
 * load-duration histogram, gauges of value age, consecutive failures and staleness read at each
 * scrape, and (for stores wrapped by `traceStore`) fleet leases, refused writes and announcements.
 * Nothing is added to `get()`.
 *
 * ```ts
 * prometheusMetrics(resources)
 * app.get('/metrics', async (_req, res) => res.type(register.contentType).send(await register.metrics()))
 * ```
 */
export function prometheusMetrics(
  resources: Resources,
  options: PrometheusMetricsOptions = {},
): PrometheusMetrics {
  const registry = options.registry ?? register
  const labels = new ResourceLabels(options.maxLabelledResources)
  const registers = [registry]
  const byResource = ['resource'] as const
  const counter = (name: string, help: string) =>
    new Counter({ name, help, labelNames: byResource, registers })

  const loads = counter('evergreen_loads_total', 'Loads that settled (succeeded or failed), per resource.')
  const failures = counter(
    'evergreen_load_failures_total',
    'Loads that failed, timeouts included, per resource.',
  )
  const timeouts = counter('evergreen_load_timeouts_total', 'Loads that did not settle within their timeout.')
  const duration = new Histogram({
    name: 'evergreen_load_duration_seconds',
    help: 'Duration of successful loads, per resource.',
    labelNames: byResource,
    buckets: options.buckets ?? [...LOAD_DURATION_BUCKETS],
    registers,
  })
  const fleet = {
    'lease-taken': counter('evergreen_fleet_leases_taken_total', 'Fleet leases this replica took.'),
    'lease-refused': counter(
      'evergreen_fleet_leases_refused_total',
      'Fleet leases refused: another replica held it, or had refreshed.',
    ),
    'write-refused': counter(
      'evergreen_fleet_writes_refused_total',
      'Writes the store refused by fencing: it held a version at least as new.',
    ),
    announcement: counter('evergreen_fleet_announcements_total', 'New versions announced by other replicas.'),
  }

  let readings: ReturnType<typeof readGauges> | undefined
  // The gauges of one scrape (collected within one turn of the event loop) share one status().
  const read = () => {
    if (readings === undefined) {
      readings = readGauges(resources, labels)
      setImmediate(() => {
        readings = undefined
      })
    }
    return readings
  }
  const age = new Gauge({
    name: 'evergreen_value_age_seconds',
    help: 'Age of the value served, per resource (the oldest under _other).',
    labelNames: byResource,
    registers,
    collect() {
      age.reset()
      for (const [resource, r] of read().byResource)
        if (r.ageSeconds !== undefined) age.set({ resource }, r.ageSeconds)
    },
  })
  const consecutive = new Gauge({
    name: 'evergreen_consecutive_failures',
    help: 'Failed loads since the last success, per resource (the most under _other).',
    labelNames: byResource,
    registers,
    collect() {
      consecutive.reset()
      for (const [resource, r] of read().byResource) consecutive.set({ resource }, r.consecutiveFailures)
    },
  })
  const stale = new Gauge({
    name: 'evergreen_stale',
    help: '1 when the value is older than maxStale, per resource (how many under _other).',
    labelNames: byResource,
    registers,
    collect() {
      stale.reset()
      for (const [resource, r] of read().byResource) stale.set({ resource }, r.stale)
    },
  })
  const statuses = new Gauge({
    name: 'evergreen_resources',
    help: 'Resources by status.',
    labelNames: ['status'] as const,
    registers,
    collect() {
      for (const [status, n] of read().byStatus) statuses.set({ status }, n)
    },
  })
  const ready = new Gauge({
    name: 'evergreen_ready',
    help: '1 when every critical resource has a value within its maxStale (readiness).',
    registers,
    collect() {
      ready.set(read().ready ? 1 : 0)
    },
  })
  const lag = new Gauge({
    name: 'evergreen_scheduler_lag_seconds',
    help: 'How late the earliest due refresh is (liveness).',
    registers,
    collect() {
      lag.set(read().lagSeconds)
    },
  })

  const stop = observeRegistry(resources, labels, {
    loaded(resource, seconds) {
      loads.inc({ resource })
      duration.observe({ resource }, seconds)
    },
    failed(resource, timedOut) {
      loads.inc({ resource })
      failures.inc({ resource })
      if (timedOut) timeouts.inc({ resource })
    },
    fleet(kind, resource) {
      fleet[kind].inc({ resource })
    },
  })
  const metrics = [
    loads,
    failures,
    timeouts,
    duration,
    ...Object.values(fleet),
    age,
    consecutive,
    stale,
    statuses,
    ready,
    lag,
  ]
  let closed = false
  return {
    registry,
    close() {
      if (closed) return
      closed = true
      stop()
      for (const metric of metrics) registry.removeSingleMetric((metric as unknown as { name: string }).name)
    },
  }
}
