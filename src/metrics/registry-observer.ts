import { type FleetEvent, type FleetEventKind, fleetChannel } from '../diagnostics/channels.js'
import type { ResourceStatus, Resources } from '../index.js'
import type { ResourceLabels } from './resource-labels.js'

/** What an exporter records as the registry works; `resource` is already a bounded label. */
export interface MetricsSink {
  loaded(resource: string, seconds: number): void
  failed(resource: string, timedOut: boolean): void
  fleet(kind: FleetEventKind, resource: string): void
}

/**
 * Feeds `sink` from the registry's `load` and `error` events, and from the `evergreen:fleet`
 * channel (stores wrapped by `traceStore`) for this registry's resources. Returns the unsubscribe.
 */
export function observeRegistry(resources: Resources, labels: ResourceLabels, sink: MetricsSink): () => void {
  const off = [
    resources.on('load', ({ name, duration }) => sink.loaded(labels.of(name), duration / 1_000)),
    resources.on('error', ({ name, error }) => sink.failed(labels.of(name), error.code === 'E_LOAD_TIMEOUT')),
  ]
  const onFleet = (message: unknown) => {
    const { kind, resource } = message as FleetEvent
    if (resources.has(resource)) sink.fleet(kind, labels.of(resource))
  }
  fleetChannel.subscribe(onFleet)
  return () => {
    for (const unsubscribe of off) unsubscribe()
    fleetChannel.unsubscribe(onFleet)
  }
}

/** The gauges of one label: resources past the bound are folded together (worst age, most failures). */
export interface GaugeReading {
  /** Age of the value in seconds; the oldest of the folded resources. Absent without a value. */
  ageSeconds: number | undefined
  consecutiveFailures: number
  /** How many of the resources under the label are stale (0 or 1 for a resource of its own). */
  stale: number
}

/** What the gauges read at a scrape, from one `status()`. */
export interface Readings {
  readonly byResource: Map<string, GaugeReading>
  readonly byStatus: Map<ResourceStatus, number>
  readonly ready: boolean
  readonly lagSeconds: number
}

const STATUSES: readonly ResourceStatus[] = ['pending', 'ready', 'restored', 'degraded', 'failed', 'stale']

export function readGauges(resources: Resources, labels: ResourceLabels): Readings {
  const report = resources.status()
  const byResource = new Map<string, GaugeReading>()
  const byStatus = new Map<ResourceStatus, number>(STATUSES.map((s) => [s, 0]))
  for (const r of report.resources) {
    byStatus.set(r.status, (byStatus.get(r.status) ?? 0) + 1)
    const label = labels.of(r.name)
    const age = r.age === undefined ? undefined : r.age / 1_000
    const stale = r.status === 'stale' ? 1 : 0
    const seen = byResource.get(label)
    if (seen === undefined) {
      byResource.set(label, { ageSeconds: age, consecutiveFailures: r.consecutiveFailures, stale })
    } else {
      if (age !== undefined && (seen.ageSeconds === undefined || age > seen.ageSeconds)) seen.ageSeconds = age
      seen.consecutiveFailures = Math.max(seen.consecutiveFailures, r.consecutiveFailures)
      seen.stale += stale
    }
  }
  return { byResource, byStatus, ready: report.started && report.healthy, lagSeconds: report.lag / 1_000 }
}
