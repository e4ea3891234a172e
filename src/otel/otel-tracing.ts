import { SpanKind, SpanStatusCode, type Tracer, trace } from '@opentelemetry/api'
import { EvergreenError, type LoadContext, LoadError, type LoadInstrument } from '../index.js'
import { RESOURCE_ATTRIBUTE } from './otel-metrics.js'

/** Options of {@link otelTracing}. */
export interface OtelTracingOptions {
  /** The tracer spans are started on. @default the global tracer provider's `evergreen-cache` tracer */
  tracer?: Tracer
}

/** How a load ended, as the `evergreen.outcome` attribute says. */
export type LoadOutcome = 'success' | 'failure' | 'timeout' | 'aborted'

/**
 * An instrument (the registry's `instrument` option) that opens a span `evergreen.load` per load,
 * active while the loader runs, so the loader's own spans (HTTP clients, database drivers) nest
 * under it. Attributes: `evergreen.resource`, `evergreen.attempt`, `evergreen.outcome`. A failed
 * load records its error with credentials redacted.
 *
 * ```ts
 * new Resources({ instrument: otelTracing() })
 * ```
 */
export function otelTracing(options: OtelTracingOptions = {}): LoadInstrument {
  const tracer = options.tracer ?? trace.getTracer('evergreen-cache')
  return {
    load<T>(context: LoadContext<T>, run: () => T | Promise<T>): T | Promise<T> {
      const attributes = { [RESOURCE_ATTRIBUTE]: context.name, 'evergreen.attempt': context.attempt }
      return tracer.startActiveSpan('evergreen.load', { kind: SpanKind.INTERNAL, attributes }, (span) => {
        let ended = false
        const signal = context.signal
        const end = (outcome: LoadOutcome, error?: unknown) => {
          if (ended) return
          ended = true
          signal.removeEventListener('abort', aborted)
          span.setAttribute('evergreen.outcome', outcome)
          if (outcome !== 'success') {
            const json =
              error instanceof EvergreenError ? error.toJSON() : new LoadError(context.name, error).toJSON()
            span.recordException({ name: json.name, message: json.cause ?? json.message })
            span.setStatus({ code: SpanStatusCode.ERROR, message: json.message })
          }
          span.end()
        }
        // A timeout or a stop aborts the signal: the span ends then, even if the loader never settles.
        const aborted = () => {
          const reason: unknown = signal.reason
          const timedOut = reason instanceof EvergreenError && reason.code === 'E_LOAD_TIMEOUT'
          end(timedOut ? 'timeout' : 'aborted', reason)
        }
        signal.addEventListener('abort', aborted, { once: true })
        let result: T | Promise<T>
        try {
          result = run()
        } catch (error) {
          end('failure', error)
          throw error
        }
        if (typeof (result as PromiseLike<T> | null)?.then !== 'function') {
          end('success')
          return result
        }
        return Promise.resolve(result).then(
          (value) => {
            end('success')
            return value
          },
          (error: unknown) => {
            end('failure', error)
            throw error
          },
        )
      })
    },
  }
}
