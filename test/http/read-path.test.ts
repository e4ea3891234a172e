// The operations parts add nothing to get(): with the handler, both exporters and both tracers
// attached (and a page's stream open), millions of reads still make no garbage. Garbage would show
// as young-generation collections during the loop; a loop that does allocate shows that they do.
import { type PerformanceEntry, PerformanceObserver } from 'node:perf_hooks'
import { MeterProvider } from '@opentelemetry/sdk-metrics'
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { traceLoads } from '../../src/diagnostics/index.js'
import { healthHandler } from '../../src/http/index.js'
import { Resources } from '../../src/index.js'
import { otelMetrics, otelTracing } from '../../src/otel/index.js'
import { prometheusMetrics } from '../../src/prometheus/index.js'
import { openStream, serve } from './helpers.js'

const READS = 5_000_000

/** How many garbage collections ran while `loop` ran. */
async function collectionsDuring(loop: () => void): Promise<number> {
  const entries: PerformanceEntry[] = []
  const observer = new PerformanceObserver((list) => entries.push(...list.getEntries()))
  observer.observe({ entryTypes: ['gc'] })
  const start = performance.now()
  loop()
  const end = performance.now()
  // Entries are delivered after the loop, on a later turn.
  await new Promise((resolve) => setTimeout(resolve, 50))
  observer.disconnect()
  return entries.filter((e) => e.startTime >= start && e.startTime <= end).length
}

let sink: unknown

describe('the read path with every operations part attached', () => {
  it('makes no garbage in get()', async () => {
    const resources = new Resources({ interval: '1h', instrument: [otelTracing(), traceLoads()] })
    const handle = resources.define('config', () => ({ feature: true }))
    resources.define('other', () => 2)
    const handler = healthHandler(resources)
    const prometheus = prometheusMetrics(resources, { registry: new Registry() })
    const provider = new MeterProvider()
    const otel = otelMetrics(resources, { meter: provider.getMeter('test') })
    const { url } = await serve(handler)
    try {
      await resources.start({ wait: true })
      const stream = await openStream(`${url}/events`)
      await stream.next((e) => e.event === 'message')

      const reads = () => {
        let n = 0
        for (let i = 0; i < READS; i++) {
          if (handle.get() !== undefined) n++
          if (resources.get('other') === 2) n++
        }
        sink = n
      }
      reads() // compiled before it is measured
      const allocating = () => {
        for (let i = 0; i < READS; i++) sink = { i, value: handle.get() }
      }
      expect(await collectionsDuring(allocating), 'a loop that allocates is seen to').toBeGreaterThanOrEqual(
        3,
      )
      expect(await collectionsDuring(reads)).toBeLessThanOrEqual(1)
      expect(sink).toBe(2 * READS) // the loop's result is used, so it is not optimised away
      stream.close()
    } finally {
      handler.close()
      prometheus.close()
      otel.close()
      await resources.stop()
      await provider.shutdown()
    }
  })
})
