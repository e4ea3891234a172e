/** Longest text quoted whole in a message: a longer name or value is cut, and its length said. */
const QUOTE_MAX = 100

/**
 * `text` as quoted in a message: whole up to 100 characters, else its start and its length, so a
 * 1 MB resource name does not go whole into every message (nor a lone surrogate split in two).
 */
export function shorten(text: string): string {
  if (text.length <= QUOTE_MAX) return text
  let end = QUOTE_MAX - 3
  const code = text.charCodeAt(end - 1)
  if (code >= 0xd800 && code <= 0xdbff) end--
  return `${text.slice(0, end)}... (${text.length} characters)`
}

/** How many parts of an object {@link describe} looks at before it gives up on showing it as JSON. */
const DESCRIBE_BUDGET = 200

/**
 * Shows a value (an option given, a thrown non-Error) in an error message: briefly, without
 * throwing, and with bounded work. An object of two million rows is not stringified whole to keep
 * 80 characters of it; a Proxy whose traps throw is shown as `[object]`.
 */
export function describe(value: unknown): string {
  try {
    if (typeof value === 'string') return JSON.stringify(shorten(value))
    if (typeof value === 'function') return `a function (${shorten(String(value.name)) || 'anonymous'})`
    if (typeof value === 'bigint') return `${value}n`
    if (value === null || typeof value !== 'object') return String(value)
    let parts = 0
    const json = JSON.stringify(value, (_key, v: unknown) => {
      if (++parts > DESCRIBE_BUDGET) throw OVER_BUDGET
      return v
    })
    if (typeof json !== 'string') return Object.prototype.toString.call(value)
    return json.length > 80 ? `${json.slice(0, 77)}...` : json
  } catch {
    try {
      return Object.prototype.toString.call(value)
    } catch {
      return '[object]'
    }
  }
}

const OVER_BUDGET: unique symbol = Symbol('over budget')

/** Stable codes carried by every evergreen error. */
export type ErrorCode =
  | 'E_UNDEFINED_RESOURCE'
  | 'E_DUPLICATE_RESOURCE'
  | 'E_NOT_READY'
  | 'E_STALE'
  | 'E_LOAD_FAILED'
  | 'E_LOAD_TIMEOUT'
  | 'E_LOAD_ABORTED'
  | 'E_SYNC'
  | 'E_STOPPED'
  | 'E_LISTENER'
  | 'E_STORE'

/** Options of an {@link EvergreenError}: its cause and the resource it concerns. */
export interface EvergreenErrorOptions {
  resource?: string | undefined
  cause?: unknown
}

/** Base class of every error evergreen raises at run time. `code` is stable across versions. */
export class EvergreenError extends Error {
  override name = 'EvergreenError'
  /** A stable, machine-readable code. */
  readonly code: ErrorCode
  /** The resource the error is about, when there is one. */
  readonly resource: string | undefined

  constructor(code: ErrorCode, message: string, options: EvergreenErrorOptions = {}) {
    super(message, 'cause' in options ? { cause: options.cause } : undefined)
    this.code = code
    this.resource = options.resource
  }

  /**
   * What `JSON.stringify` writes: code, name, message, resource and the cause's message, with
   * credentials (URL user-info, `password=…`) redacted and each text cut to {@link JSON_TEXT_MAX}.
   */
  toJSON(): ErrorJSON {
    const cause = this.cause
    const json: ErrorJSON = { code: this.code, name: this.name, message: safeText(this.message) }
    if (this.resource !== undefined) json.resource = safeText(this.resource)
    if (cause !== undefined) {
      try {
        json.cause = safeText(causeMessage(cause))
      } catch {
        json.cause = 'a cause that could not be read' // a hostile Proxy: the report must not throw
      }
    }
    return json
  }
}

/** The JSON form of an {@link EvergreenError}: safe for an endpoint without authentication. */
export interface ErrorJSON {
  code: ErrorCode
  name: string
  message: string
  resource?: string
  /** The cause's message (its own message for an `Error`, a short quote otherwise). */
  cause?: string
}

/** Longest text an error's JSON carries, in characters. */
export const JSON_TEXT_MAX = 300

/** `text` without credentials (URL user-info, `password=…`, `token: …`), cut to {@link JSON_TEXT_MAX}. */
export function safeText(text: string): string {
  const redacted = String(text)
    .replace(/(\/\/)[^\s/@]*@/g, '$1***@')
    .replace(/:[^\s/@:]+@/g, ':***@')
    .replace(
      /\b(pass(?:word|wd)?|pwd|secret|token|api[-_]?key|auth)(\s*[=:]\s*)("[^"]*"|[^\s&;,]+)/gi,
      '$1$2***',
    )
  return redacted.length > JSON_TEXT_MAX ? `${redacted.slice(0, JSON_TEXT_MAX - 1)}…` : redacted
}

/** `get(name)` or `remove(name)` was called with a name never defined. */
export class UndefinedResourceError extends EvergreenError {
  override name = 'UndefinedResourceError'
  constructor(resource: string) {
    super('E_UNDEFINED_RESOURCE', `resource "${shorten(resource)}" is not defined`, { resource })
  }
}

/** `define(name)` was called with a name already defined. */
export class DuplicateResourceError extends EvergreenError {
  override name = 'DuplicateResourceError'
  constructor(resource: string) {
    super('E_DUPLICATE_RESOURCE', `resource "${shorten(resource)}" is already defined`, { resource })
  }
}

/** `get()` was called before the first successful load. `cause` is the last load error, if any. */
export class ResourceNotReadyError extends EvergreenError {
  override name = 'ResourceNotReadyError'
  constructor(resource: string, cause?: unknown) {
    const why = cause === undefined ? 'its first load has not completed' : 'its loads have failed so far'
    super('E_NOT_READY', `resource "${shorten(resource)}" has no value yet: ${why}`, {
      resource,
      ...(cause === undefined ? {} : { cause }),
    })
  }
}

/** `get()` was called on a value older than the resource's `maxStale`. `cause` is the last load error. */
export class ResourceStaleError extends EvergreenError {
  override name = 'ResourceStaleError'
  /** Age of the value in ms when the error was raised. */
  readonly age: number
  constructor(resource: string, age: number, maxStale: number, cause?: unknown) {
    super(
      'E_STALE',
      `resource "${shorten(resource)}" is stale: its value is ${age} ms old (maxStale ${maxStale} ms)`,
      {
        resource,
        ...(cause === undefined ? {} : { cause }),
      },
    )
    this.age = age
  }
}

/**
 * A load failed. `cause` is what the loader threw or rejected with.
 *
 * Made by the background loop, so its own stack would show only evergreen's scheduler: it is not
 * captured (the loader's error in `cause` keeps its stack). Capturing it was most of the cost of a
 * failure, about 6 µs each: at 100,000 resources, a backend outage or a `stop()` with every load in
 * flight makes that many at once.
 */
export class LoadError extends EvergreenError {
  override name = 'LoadError'
  constructor(resource: string, cause: unknown, code: ErrorCode = 'E_LOAD_FAILED', message?: string) {
    // `stackTraceLimit` is V8's (and others'); where it does not exist, nothing is changed.
    const errors = Error as { stackTraceLimit?: unknown }
    const limit = errors.stackTraceLimit
    if (typeof limit === 'number') errors.stackTraceLimit = 0
    try {
      super(code, message ?? `resource "${shorten(resource)}" failed to load: ${causeMessage(cause)}`, {
        resource,
        cause,
      })
    } finally {
      if (typeof limit === 'number') errors.stackTraceLimit = limit
    }
  }
}

/** A load did not settle within the resource's `timeout`; its signal was aborted. */
export class LoadTimeoutError extends LoadError {
  override name = 'LoadTimeoutError'
  /** The timeout that elapsed, in ms. */
  readonly timeout: number
  constructor(resource: string, timeout: number) {
    super(
      resource,
      undefined,
      'E_LOAD_TIMEOUT',
      `resource "${shorten(resource)}" did not load within ${timeout} ms`,
    )
    this.timeout = timeout
  }
}

/** A load was aborted by `stop()` or `remove()`. */
export class LoadAbortedError extends LoadError {
  override name = 'LoadAbortedError'
  constructor(resource: string, why: string) {
    super(resource, undefined, 'E_LOAD_ABORTED', `resource "${shorten(resource)}" load aborted: ${why}`)
  }
}

/** `start({ wait: true })` found failed first loads. `errors` holds one {@link LoadError} per failed resource. */
export class SyncError extends EvergreenError {
  override name = 'SyncError'
  readonly errors: readonly LoadError[]
  constructor(errors: readonly LoadError[]) {
    const names = errors.map((e) => `"${shorten(e.resource ?? '')}"`).join(', ')
    super('E_SYNC', `${errors.length} resource(s) failed their first load: ${names}`, {
      cause: errors[0],
    })
    this.errors = errors
  }
}

/** `ready()` can no longer resolve: the resource was removed or the registry stopped first. */
export class StoppedError extends EvergreenError {
  override name = 'StoppedError'
  constructor(resource: string, why: string) {
    super('E_STOPPED', `resource "${shorten(resource)}" ${why}`, { resource })
  }
}

/** An event listener or subscriber threw; reported to `onError`, never to the refresh loop. */
export class ListenerError extends EvergreenError {
  override name = 'ListenerError'
  constructor(event: string, cause: unknown, resource?: string) {
    super('E_LISTENER', `a "${event}" listener threw: ${causeMessage(cause)}`, { resource, cause })
  }
}

/** A store failed to read, write or decode an entry. The value in memory is unaffected. */
export class StoreError extends EvergreenError {
  override name = 'StoreError'
  constructor(message: string, options: EvergreenErrorOptions = {}) {
    super('E_STORE', message, options)
  }

  /** `cause` itself if it is a `StoreError`, else one that says `what` went wrong and wraps it. */
  static wrap(cause: unknown, what: string, resource?: string): StoreError {
    if (cause instanceof StoreError) return cause
    const message = cause instanceof Error ? cause.message : String(cause)
    return new StoreError(`${what}: ${message}`, { resource, cause })
  }
}

/** An option had the wrong type. Thrown at once by the constructor or `define`. */
export class OptionTypeError extends TypeError {
  override name = 'OptionTypeError'
  readonly code = 'E_INVALID_OPTION'
  constructor(
    readonly option: string,
    expected: string,
    readonly received: unknown,
  ) {
    super(`option "${shorten(option)}" must be ${expected}; received ${describe(received)}`)
  }
}

/** An option was out of its range. Thrown at once by the constructor or `define`. */
export class OptionRangeError extends RangeError {
  override name = 'OptionRangeError'
  readonly code = 'E_INVALID_OPTION'
  constructor(
    readonly option: string,
    expected: string,
    readonly received: unknown,
  ) {
    super(`option "${shorten(option)}" must be ${expected}; received ${describe(received)}`)
  }
}

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
} as const satisfies Record<ErrorCode, abstract new (...args: never[]) => EvergreenError>

function causeMessage(cause: unknown): string {
  // Anything may be thrown: a Proxy whose getPrototypeOf trap throws, an Error whose message getter
  // throws. Describing it must not throw in turn (the failure path would then fail).
  try {
    if (cause instanceof Error) return String(cause.message)
  } catch {
    return 'a cause that could not be read'
  }
  return describe(cause)
}
