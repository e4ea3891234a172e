// The Prometheus exporter read as Prometheus reads it: the real prom-client registry's exposition text.
import { Registry } from 'prom-client'
import { afterEach, describe, expect, it } from 'vitest'
import { traceStore } from '../../src/diagnostics/index.js'
import { OptionRangeError, Resources } from '../../src/index.js'
import { prometheusMetrics } from '../../src/prometheus/index.js'
import { replicaStore, sharedMemory } from '../fleet/shared-memory.js'
import { manualClock } from '../http/helpers.js'

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup()
})

function setup(options: Parameters<typeof prometheusMetrics>[1] = {}) {
  const clock = manualClock()
  const resources = new Resources({ jitter: 0, interval: 10_000, retry: false, clock })
  const registry = new Registry()
  const metrics = prometheusMetrics(resources, { registry, ...options })
  cleanups.push(async () => {
    metrics.close()
    await resources.stop()
  })
  const text = () => registry.metrics()
  return { resources, clock, registry, metrics, text }
}

/** The sample lines of `text` whose metric name is `name`. */
function samples(text: string, name: string): string[] {
  return text.split('\n').filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
}

describe('prometheusMetrics', () => {
  it('counts loads, failures and timeouts per resource, and times the loads', async () => {
    const { resources, clock, text } = setup()
    resources.define('rates', () => ({ EUR: 1.08 }))
    resources.define('flags', () => Promise.reject(new Error('flags down')))
    resources.define('slow', () => new Promise(() => {}), { timeout: 100 })
    void resources.start()
    await clock.advance(100)
    await resources.resource('rates').refresh()

    const exposition = await text()
    expect(samples(exposition, 'evergreen_loads_total')).toEqual([
      'evergreen_loads_total{resource="rates"} 2',
      'evergreen_loads_total{resource="flags"} 1',
      'evergreen_loads_total{resource="slow"} 1',
    ])
    expect(samples(exposition, 'evergreen_load_failures_total')).toEqual([
      'evergreen_load_failures_total{resource="flags"} 1',
      'evergreen_load_failures_total{resource="slow"} 1',
    ])
    expect(samples(exposition, 'evergreen_load_timeouts_total')).toEqual([
      'evergreen_load_timeouts_total{resource="slow"} 1',
    ])
    expect(exposition).toContain('# TYPE evergreen_load_duration_seconds histogram')
    expect(exposition).toContain('evergreen_load_duration_seconds_count{resource="rates"} 2')
    expect(exposition).toContain('evergreen_load_duration_seconds_bucket{le="0.005",resource="rates"} 2')
  })

  it('reads value age, consecutive failures, staleness and readiness at each scrape', async () => {
    const { resources, clock, text } = setup()
    let up = true
    resources.define('pods', () => (up ? 'v' : Promise.reject(new Error('down'))), { maxStale: 15_000 })
    resources.define('ads', () => 'a', { critical: false })
    await resources.start({ wait: true })
    await clock.advance(2_500)
    let exposition = await text()
    expect(samples(exposition, 'evergreen_value_age_seconds')).toEqual([
      'evergreen_value_age_seconds{resource="pods"} 2.5',
      'evergreen_value_age_seconds{resource="ads"} 2.5',
    ])
    expect(exposition).toContain('evergreen_ready 1')
    expect(exposition).toContain('evergreen_resources{status="ready"} 2')

    up = false
    await clock.advance(20_000) // two failed refreshes; the value is 22.5 s old, past maxStale
    exposition = await text()
    expect(samples(exposition, 'evergreen_consecutive_failures')).toEqual([
      'evergreen_consecutive_failures{resource="pods"} 2',
      'evergreen_consecutive_failures{resource="ads"} 0',
    ])
    expect(samples(exposition, 'evergreen_stale')).toEqual([
      'evergreen_stale{resource="pods"} 1',
      'evergreen_stale{resource="ads"} 0',
    ])
    expect(exposition).toContain('evergreen_value_age_seconds{resource="pods"} 22.5')
    expect(exposition).toContain('evergreen_resources{status="stale"} 1')
    expect(exposition).toContain('evergreen_ready 0')
    expect(exposition).toContain('evergreen_scheduler_lag_seconds 0')
  })

  it('labels at most maxLabelledResources resources, the rest together under _other', async () => {
    const { resources, clock, text } = setup({ maxLabelledResources: 2 })
    for (let i = 0; i < 5; i++) resources.define(`r${i}`, () => i)
    await resources.start({ wait: true })
    await clock.advance(1_000)
    const exposition = await text()
    expect(samples(exposition, 'evergreen_loads_total')).toEqual([
      'evergreen_loads_total{resource="r0"} 1',
      'evergreen_loads_total{resource="r1"} 1',
      'evergreen_loads_total{resource="_other"} 3',
    ])
    expect(samples(exposition, 'evergreen_value_age_seconds')).toHaveLength(3)
    expect(() =>
      prometheusMetrics(resources, { registry: new Registry(), maxLabelledResources: -1 }),
    ).toThrow(OptionRangeError)
  })

  it('counts fleet leases, refused writes and announcements of stores wrapped by traceStore', async () => {
    const { resources, text } = setup()
    resources.define('shared', () => 1)
    const shared = sharedMemory()
    const mine = traceStore(replicaStore(shared))
    const theirs = traceStore(replicaStore(shared))
    const unwatch = mine.fleet.watch(() => {})
    const lease = await theirs.fleet.acquire('shared', 0)
    expect(lease).toBeDefined()
    expect(await mine.fleet.acquire('shared', 0)).toBeUndefined()
    expect(await theirs.set('shared', { value: 2, version: lease!.token, loadedAt: Date.now() })).toBe(true)
    expect(await mine.set('shared', { value: 1, version: 1, loadedAt: Date.now() })).toBe(false)
    await theirs.fleet.acquire('not-ours', 0) // another registry's resource: not counted here
    unwatch()

    const exposition = await text()
    expect(exposition).toContain('evergreen_fleet_leases_taken_total{resource="shared"} 1')
    expect(exposition).toContain('evergreen_fleet_leases_refused_total{resource="shared"} 1')
    expect(exposition).toContain('evergreen_fleet_writes_refused_total{resource="shared"} 1')
    expect(exposition).toContain('evergreen_fleet_announcements_total{resource="shared"} 1')
    expect(exposition).not.toContain('not-ours')
  })

  it('names every metric evergreen_*, and close() removes them all and stops counting', async () => {
    const { resources, registry, metrics, text } = setup()
    resources.define('a', () => 1)
    await resources.start({ wait: true })
    const names = (await registry.getMetricsAsJSON()).map((m) => m.name)
    expect(names.length).toBe(14)
    for (const name of names) expect(name).toMatch(/^evergreen_[a-z_]+$/)
    metrics.close()
    metrics.close()
    expect((await text()).trim()).toBe('')
    await resources.resource('a').refresh()
    expect(await registry.getMetricsAsJSON()).toEqual([])
  })
})
