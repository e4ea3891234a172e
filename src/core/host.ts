import type { DeadlineEntry, Deadlines } from '../scheduling/deadlines.js'
import type { Limiter } from '../scheduling/limiter.js'
import type { Scheduler } from '../scheduling/scheduler.js'
import type { Timeline } from '../scheduling/timeline.js'
import type { EvergreenError } from './errors.js'
import type { Emitter, ResourcesEvents } from './events.js'
import type { Load, LoadInstrument } from './load.js'
import type { LoadTable } from './load-table.js'
import type { Settings } from './options.js'

/** An entry of the registry's load timeouts: the resource whose load runs. */
export interface TimedEntry extends DeadlineEntry {
  /** The running load has run for its timeout. */
  timedOut(): void
}

/** What a resource's refresh machine needs from the registry that owns it. */
export interface EngineHost {
  readonly time: Timeline
  readonly scheduler: Scheduler
  /** Timeouts of the loads in flight. */
  readonly deadlines: Deadlines<TimedEntry>
  readonly limiter: Limiter
  /** The loads in flight, by index (see {@link LoadTable} for why not a field of the engine). */
  // biome-ignore lint/suspicious/noExplicitAny: loads of any value type
  readonly loads: LoadTable<Load<any>>
  readonly events: Emitter<ResourcesEvents>
  /** The registry's one source of randomness (the clock's, or `Math.random`). */
  readonly random: () => number
  /** Whether the registry is started: refreshes are scheduled only then. */
  readonly started: boolean
  /** Wraps each loader call (the registry's `instrument` option), or `undefined`. */
  readonly instrument: LoadInstrument | undefined
  /**
   * Reports a background failure. A store error is rate-limited per resource and `operation` (its
   * message when none is given); the operation `'close'` is never limited.
   */
  report(error: EvergreenError, resource: string | undefined, operation?: string): void
  /** A resource's first load settled (or it had a value without one, or it stopped). */
  firstSettled(entry: object): void
}

/**
 * A registry and one set of resolved settings: what every resource defined with those settings
 * shares (one object for all of them, rather than two pointers in each).
 */
export interface Profile {
  readonly settings: Settings
  readonly host: EngineHost
}
