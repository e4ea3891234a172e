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

/**
 * Shows a value (an option given, a thrown non-Error) in an error message: briefly, without
 * throwing, and with bounded work.
 */
export function describe(value: unknown): string {
  try {
    if (typeof value === 'string') return JSON.stringify(clip(value, QUOTE))
    if (typeof value === 'function') return `a function (${clip(String(value.name), QUOTE) || 'anonymous'})`
    if (typeof value === 'bigint') return clip(`${value}n`, QUOTE)
    if (value === null || typeof value !== 'object') return String(value)
    const budget = { left: QUOTE }
    const text = quote(value, budget, 0)
    return budget.left < 0 ? `${text.slice(0, QUOTE - 3)}...` : text
  } catch {
    // A Proxy whose traps throw, a getter that throws: nothing more can be said of it safely.
    return 'an uninspectable value'
  }
}

/** Characters a quote of a received value may take. */
const QUOTE = 80

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 3)}...` : text
}

/**
 * JSON-like text of `value`, its work bounded by `budget` (characters) whatever the size of the
 * value: a two-million-row array is quoted by its first rows, never stringified whole.
 */
function quote(value: unknown, budget: { left: number }, depth: number): string {
  if (budget.left < 0) return ''
  let text: string
  if (typeof value === 'string') text = JSON.stringify(clip(value, budget.left + 2))
  else if (typeof value === 'bigint') text = `${value}n`
  else if (typeof value === 'function') text = '"[function]"'
  else if (value === undefined) text = 'null'
  else if (value === null || typeof value !== 'object') text = String(value)
  else if (depth > 4) text = '"[object]"'
  else if (typeof (value as { toJSON?: unknown }).toJSON === 'function' && depth < 4) {
    return quote((value as { toJSON: () => unknown }).toJSON(), budget, depth + 1)
  } else if (Array.isArray(value)) {
    const parts: string[] = []
    budget.left -= 2
    for (let i = 0; i < value.length && budget.left >= 0; i++) {
      const part = quote(value[i], budget, depth + 1)
      parts.push(part)
      budget.left -= 1
    }
    return `[${parts.join(',')}]`
  } else {
    const parts: string[] = []
    budget.left -= 2
    for (const key in value) {
      if (budget.left < 0) break
      if (!Object.hasOwn(value, key)) continue
      const item = (value as Record<string, unknown>)[key]
      // As JSON: keys of undefined and functions are left out.
      if (item === undefined || typeof item === 'function') continue
      const name = JSON.stringify(clip(key, QUOTE))
      budget.left -= name.length + 2
      parts.push(`${name}:${quote(item, budget, depth + 1)}`)
    }
    return `{${parts.join(',')}}`
  }
  budget.left -= text.length
  return text
}

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
   * credentials (URL user-info, `password=…`) redacted and each text cut to 300 characters.
   */
  toJSON(): ErrorJSON {
    const cause = this.cause
    const json: ErrorJSON = { code: this.code, name: this.name, message: safeText(this.message) }
    if (this.resource !== undefined) json.resource = safeText(this.resource)
    if (cause !== undefined) {
      try {
        json.cause = safeText(causeMessage(cause))
      } catch {
        json.cause = 'an uninspectable value' // a hostile Proxy: the report must not throw
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

/** `text` without credentials (URL user-info, `password=…`, `token: …`), cut to 300 characters. */
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

/**
 * `cause` as the `LoadError` of resource `name`: itself when it is one for that resource, else a
 * `LoadError` wrapping it. Never throws, whatever `cause` is (a Proxy whose traps throw included).
 */
export function toLoadError(name: string, cause: unknown): LoadError {
  let own = false
  try {
    own = cause instanceof LoadError && cause.resource === name
  } catch {
    // A Proxy whose getPrototypeOf (or get) trap throws is no LoadError of ours.
  }
  return own ? (cause as LoadError) : new LoadError(name, cause)
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

/** What a cause says about itself, bounded, and without throwing whatever it is. */
function causeMessage(cause: unknown): string {
  try {
    if (cause instanceof Error) {
      const message: unknown = cause.message
      return typeof message === 'string' ? clip(message, MESSAGE) : describe(message)
    }
  } catch {
    return 'an uninspectable value'
  }
  return describe(cause)
}

/** Characters of a cause's message kept in the message of the error that wraps it. */
const MESSAGE = 1_000
