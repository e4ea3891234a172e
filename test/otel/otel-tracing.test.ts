// A span per load through a real tracer provider and the SDK's in-memory span exporter; the
// loader's own spans nest under it (async context carried by AsyncLocalStorage).

import { context, SpanStatusCode } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { Resources } from '../../src/index.js'
import { otelTracing } from '../../src/otel/index.js'
import { manualClock } from '../http/helpers.js'

const exporter = new InMemorySpanExporter()
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
const tracer = provider.getTracer('test')
const contextManager = new AsyncLocalStorageContextManager()

beforeAll(() => {
  context.setGlobalContextManager(contextManager.enable())
})
afterAll(async () => {
  context.disable()
  await provider.shutdown()
})

const registries: Resources[] = []
afterEach(async () => {
  for (const resources of registries.splice(0)) await resources.stop()
  exporter.reset()
})

function registry() {
  const clock = manualClock()
  const resources = new Resources({
    jitter: 0,
    interval: 10_000,
    retry: false,
    clock,
    instrument: otelTracing({ tracer }),
  })
  registries.push(resources)
  return { resources, clock }
}

const spans = () => exporter.getFinishedSpans()

describe('otelTracing', () => {
  it('opens a span per load with the resource, attempt and outcome; the loader’s spans nest under it', async () => {
    const { resources } = registry()
    resources.define('rates', async () => {
      await new Promise((resolve) => setTimeout(resolve, 5))
      return tracer.startActiveSpan('GET /rates', async (span) => {
        await new Promise((resolve) => setTimeout(resolve, 5))
        span.end()
        return { EUR: 1.08 }
      })
    })
    await resources.start({ wait: true })
    const load = spans().find((s) => s.name === 'evergreen.load')
    const child = spans().find((s) => s.name === 'GET /rates')
    expect(load?.attributes).toEqual({
      'evergreen.resource': 'rates',
      'evergreen.attempt': 1,
      'evergreen.outcome': 'success',
    })
    expect(child?.parentSpanContext?.spanId).toBe(load?.spanContext().spanId)
    expect(child?.spanContext().traceId).toBe(load?.spanContext().traceId)
  })

  it('marks failures as errors, with credentials redacted, and counts the attempt', async () => {
    const { resources } = registry()
    resources.define('db', () => Promise.reject(new Error('connect postgres://app:s3cret@db/app refused')))
    await resources.start({ wait: true }).catch(() => {})
    await resources
      .resource('db')
      .refresh()
      .catch(() => {})
    const [first, second] = spans()
    expect(first?.attributes).toMatchObject({ 'evergreen.attempt': 1, 'evergreen.outcome': 'failure' })
    expect(second?.attributes).toMatchObject({ 'evergreen.attempt': 2, 'evergreen.outcome': 'failure' })
    expect(first?.status.code).toBe(SpanStatusCode.ERROR)
    expect(JSON.stringify([first?.events, first?.status])).not.toContain('s3cret')
    expect(first?.events[0]?.attributes?.['exception.message']).toBe('connect postgres://***@db/app refused')
  })

  it('ends the span of a load that times out, though its loader never settles', async () => {
    const { resources, clock } = registry()
    resources.define('hung', () => new Promise(() => {}), { timeout: 1_000 })
    void resources.start()
    await clock.advance(1_000)
    expect(spans().map((s) => s.attributes['evergreen.outcome'])).toEqual(['timeout'])
  })

  it('ends the span of a load aborted by stop() as aborted, and of a synchronous throw as failure', async () => {
    const { resources, clock } = registry()
    resources.define('sync', () => {
      throw new Error('bad config')
    })
    resources.define('hung', () => new Promise(() => {}))
    await resources.start()
    await new Promise((resolve) => setImmediate(resolve))
    const stopping = resources.stop()
    await clock.advance(1_000) // the stop grace, for the loader that ignores its signal
    await stopping
    const outcomes = Object.fromEntries(
      spans().map((s) => [s.attributes['evergreen.resource'], s.attributes['evergreen.outcome']]),
    )
    expect(outcomes).toEqual({ sync: 'failure', hung: 'aborted' })
  })
})
