import { channel, tracingChannel } from 'node:diagnostics_channel'

/** The context published on `evergreen:load` for one load, from its start to its outcome. */
export interface LoadTraceContext {
  readonly resource: string
  /** 1 for a load after a success, n for the n-th consecutive attempt after failures. */
  readonly attempt: number
  /** Set by the channel: the value on `asyncEnd`, the error on `error`. */
  result?: unknown
  error?: unknown
}

/** Operations of a store traced on `evergreen:store`. */
export type StoreOperation = 'get' | 'set' | 'delete' | 'list' | 'close' | 'head' | 'acquire'

/** The context published on `evergreen:store` for one store operation. */
export interface StoreTraceContext {
  readonly operation: StoreOperation
  /** The resource concerned, when there is one (`list` and `close` have none). */
  readonly resource: string | undefined
  result?: unknown
  error?: unknown
}

/** What happened in fleet mode, published on `evergreen:fleet`. */
export type FleetEventKind =
  /** The replica took a resource's lease: it loads for the fleet. */
  | 'lease-taken'
  /** The lease was held by another replica (or the shared value was newer): no load here. */
  | 'lease-refused'
  /** A write was refused by fencing: the store holds a version at least as new. */
  | 'write-refused'
  /** Another replica announced a new version. */
  | 'announcement'

/** A message on `evergreen:fleet`. */
export interface FleetEvent {
  readonly kind: FleetEventKind
  readonly resource: string
}

/** Names of the channels, stable across versions. */
export const channelNames = {
  load: 'evergreen:load',
  store: 'evergreen:store',
  fleet: 'evergreen:fleet',
} as const

/** A tracing channel (`start`, `end`, `asyncStart`, `asyncEnd`, `error`) for every load. */
export const loadChannel = tracingChannel<unknown, LoadTraceContext & object>(channelNames.load)

/** A tracing channel for every operation of a store wrapped by `traceStore`. */
export const storeChannel = tracingChannel<unknown, StoreTraceContext & object>(channelNames.store)

/** A plain channel of {@link FleetEvent}s from stores wrapped by `traceStore`. */
export const fleetChannel = channel(channelNames.fleet)
