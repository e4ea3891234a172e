import type { LoadContext, LoadInstrument } from '../index.js'
import { type LoadTraceContext, loadChannel } from './channels.js'

/**
 * An instrument (the registry's `instrument` option) that publishes every load on the
 * `evergreen:load` tracing channel. With no subscriber, it calls the loader and nothing else.
 *
 * ```ts
 * new Resources({ instrument: traceLoads() })
 * ```
 */
export function traceLoads(): LoadInstrument {
  return {
    load<T>(context: LoadContext<T>, run: () => T | Promise<T>): T | Promise<T> {
      if (!loadChannel.hasSubscribers) return run()
      const trace: LoadTraceContext = { resource: context.name, attempt: context.attempt }
      // tracePromise needs a promise: a loader that returns its value synchronously is wrapped.
      return loadChannel.tracePromise(async () => run(), trace)
    },
  }
}
