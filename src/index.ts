export type { Duration, DurationUnit } from './core/duration.js'
export { parseDuration } from './core/duration.js'
export { errorCodes } from './core/error-codes.js'
export type { ErrorCode, ErrorJSON, EvergreenErrorOptions, ValueIssue } from './core/errors.js'
export {
  DuplicateResourceError,
  EvergreenError,
  InvalidValueError,
  ListenerError,
  LoadAbortedError,
  LoadError,
  LoadTimeoutError,
  OptionRangeError,
  OptionTypeError,
  ResourceNotReadyError,
  ResourceStaleError,
  StoppedError,
  StoreError,
  SyncError,
  UndefinedResourceError,
  WaitTimeoutError,
} from './core/errors.js'
export type {
  ChangeEvent,
  ErrorEvent,
  LoadEvent,
  ResourcesEvents,
  RestoreEvent,
  StoreErrorEvent,
  Unsubscribe,
} from './core/events.js'
export type { FamilyHealth, HealthReport, ResourceHealth } from './core/health.js'
export type { LoadInstrument } from './core/load.js'
export type { ResourceOptions, ResourcesOptions, RetryOptions } from './core/options.js'
export type { RemoveOptions, StartOptions } from './core/registry.js'
export { Resources } from './core/registry.js'
export type { LoadContext, Loader, ResourceSnapshot, Subscriber, WaitOptions } from './core/resource.js'
export { Resource } from './core/resource.js'
export type { ResourceStatus, ValueSource } from './core/state.js'
export type { StandardIssue, StandardResult, StandardSchema, Validate } from './core/validation.js'
export type { FamilyKeySnapshot, FamilyStats, FetchOptions } from './families/family.js'
export { Family } from './families/family.js'
export { FamilyNameError } from './families/family-name-error.js'
export type { FamilyOptions } from './families/family-options.js'
export type { KeyLoader } from './families/key-flight.js'
export type { SizeOf } from './families/weigh.js'
export type { Clock, TimerHandle } from './scheduling/clock.js'
export type { Codec } from './stores/codec.js'
export type { EntryHead, FleetCoordinator, Lease } from './stores/fleet.js'
export { layeredStore } from './stores/layered-store.js'
export { memoryStore } from './stores/memory-store.js'
export type { FleetStore, Store, StoreContext, StoreEntry } from './stores/store.js'
