// The map from each stable error code to its class, for callers that dispatch on `code`.
import {
  DuplicateResourceError,
  type ErrorCode,
  type EvergreenError,
  InvalidValueError,
  ListenerError,
  LoadAbortedError,
  LoadError,
  LoadTimeoutError,
  ResourceNotReadyError,
  ResourceStaleError,
  StoppedError,
  StoreError,
  SyncError,
  UndefinedResourceError,
  WaitTimeoutError,
} from './errors.js'

/** Every run-time error class by its stable code. */
export const errorCodes = {
  E_UNDEFINED_RESOURCE: UndefinedResourceError,
  E_DUPLICATE_RESOURCE: DuplicateResourceError,
  E_NOT_READY: ResourceNotReadyError,
  E_STALE: ResourceStaleError,
  E_LOAD_FAILED: LoadError,
  E_LOAD_TIMEOUT: LoadTimeoutError,
  E_LOAD_ABORTED: LoadAbortedError,
  E_SYNC: SyncError,
  E_STOPPED: StoppedError,
  E_LISTENER: ListenerError,
  E_STORE: StoreError,
  E_INVALID_VALUE: InvalidValueError,
  E_WAIT_TIMEOUT: WaitTimeoutError,
} as const satisfies Record<ErrorCode, abstract new (...args: never[]) => EvergreenError>
