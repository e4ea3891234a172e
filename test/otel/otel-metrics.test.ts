// The OpenTelemetry metrics read through a real SDK: a MeterProvider whose reader exports to the
// SDK's in-memory exporter.
import {
  AggregationTemporality,
  type DataPoint,
  type Histogram,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics'
import { afterEach, describe, expect, it } from 'vitest'
import { Resources } from '../../src/index.js'
import { otelMetrics } from '../../src/otel/index.js'
import { manualClock } from '../http/helpers.js'

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup()
})

function setup(options: Parameters<typeof otelMetrics>[1] = {}) {
  const clock = manualClock()
  const resources = new Resources({ jitter: 0, interval: 10_000, retry: false, clock })
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE)
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 })
  const provider = new MeterProvider({ readers: [reader] })
  const metrics = otelMetrics(resources, { meter: provider.getMeter('test'), ...options })
  cleanups.push(async () => {
    metrics.close()
    await resources.stop()
    await provider.shutdown()
  })
  /** Collects now; returns each metric's points by name. */
  const collect = async () => {
    exporter.reset()
    await reader.forceFlush()
    const points = new Map<string, DataPoint<unknown>[]>()
    for (const batch of exporter.getMetrics())
      for (const scope of batch.scopeMetrics)
        for (const metric of scope.metrics)
          points.set(metric.descriptor.name, metric.dataPoints as DataPoint<unknown>[])
    return points
  }
  return { resources, clock, collect, metrics }
}

const byResource = (points: DataPoint<unknown>[] | undefined) =>
  Object.fromEntries((points ?? []).map((p) => [p.attributes['evergreen.resource'], p.value]))

describe('otelMetrics', () => {
  it('counts loads, failures and timeouts and records load durations in seconds', async () => {
    const { resources, clock, collect } = setup()
    resources.define('rates', () => 1)
    resources.define('flags', () => Promise.reject(new Error('down')))
    resources.define('slow', () => new Promise(() => {}), { timeout: 100 })
    void resources.start()
    await clock.advance(100)
    const points = await collect()
    expect(byResource(points.get('evergreen_loads'))).toEqual({ rates: 1, flags: 1, slow: 1 })
    expect(byResource(points.get('evergreen_load_failures'))).toEqual({ flags: 1, slow: 1 })
    expect(byResource(points.get('evergreen_load_timeouts'))).toEqual({ slow: 1 })
    const [histogram] = points.get('evergreen_load_duration') ?? []
    if (histogram === undefined) throw new Error('no load-duration histogram')
    expect(histogram.attributes).toEqual({ 'evergreen.resource': 'rates' })
    expect((histogram.value as Histogram).count).toBe(1)
    expect((histogram.value as Histogram).buckets.boundaries).toContain(0.005)
  })

  it('observes age, consecutive failures, staleness, statuses, readiness and lag', async () => {
    const { resources, clock, collect } = setup()
    let up = true
    resources.define('pods', () => (up ? 'v' : Promise.reject(new Error('down'))), { maxStale: 15_000 })
    await resources.start({ wait: true })
    up = false
    await clock.advance(20_000)
    const points = await collect()
    expect(byResource(points.get('evergreen_value_age'))).toEqual({ pods: 20 })
    expect(byResource(points.get('evergreen_consecutive_failures'))).toEqual({ pods: 2 })
    expect(byResource(points.get('evergreen_stale'))).toEqual({ pods: 1 })
    const statuses = Object.fromEntries(
      (points.get('evergreen_resources') ?? []).map((p) => [p.attributes['evergreen.status'], p.value]),
    )
    expect(statuses).toMatchObject({ stale: 1, ready: 0 })
    expect(points.get('evergreen_ready')?.[0]?.value).toBe(0)
    expect(points.get('evergreen_scheduler_lag')?.[0]?.value).toBe(0)
  })

  it('bounds the resource attribute: past maxLabelledResources, resources count under _other', async () => {
    const { resources, collect } = setup({ maxLabelledResources: 1 })
    for (let i = 0; i < 4; i++) resources.define(`r${i}`, () => i)
    await resources.start({ wait: true })
    const points = await collect()
    expect(byResource(points.get('evergreen_loads'))).toEqual({ r0: 1, _other: 3 })
    expect(Object.keys(byResource(points.get('evergreen_value_age')))).toEqual(['r0', '_other'])
  })

  it('stops observing at close()', async () => {
    const { resources, collect, metrics } = setup()
    resources.define('a', () => 1)
    await resources.start({ wait: true })
    metrics.close()
    await resources.resource('a').refresh()
    const points = await collect()
    expect(points.has('evergreen_value_age')).toBe(false)
    expect(byResource(points.get('evergreen_loads'))).toEqual({ a: 1 })
  })
})
