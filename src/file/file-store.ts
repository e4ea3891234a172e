import { type Duration, parseDuration } from '../core/duration.js'
import { OptionRangeError, OptionTypeError, StoreError } from '../core/errors.js'
import type { Codec } from '../stores/codec.js'
import type { Store, StoreContext, StoreEntry } from '../stores/store.js'
import { removeOrphanTemps, writeAtomic } from './atomic-write.js'
import { errorCode, type FileStoreFs, type FileStoreHandle, nodeFs } from './fs.js'
import {
  type EncodedEntry,
  encodeSnapshot,
  fromJson,
  isValidHead,
  parseSnapshot,
  SnapshotFormatError,
  toJson,
} from './snapshot.js'

/** Options of {@link fileStore}. */
export interface FileStoreOptions {
  /** Path of the snapshot file. Its directory is created when missing. Required. */
  path: string
  /**
   * Turns a value into text. A throw (or a result that is not a string) rejects that resource's
   * `set()` with a `StoreError`; the other entries are saved. Give it with `deserialize`.
   * @default JSON.stringify (and `undefined` or a function is refused)
   */
  serialize?: (value: unknown) => string
  /**
   * Turns text made by `serialize` back into a value. A throw rejects that resource's `get()`.
   * @default JSON.parse, dropping every `__proto__`, `constructor` and `prototype` key
   */
  deserialize?: (text: string) => unknown
  /**
   * Largest snapshot read or written, in bytes. A bigger file is reported and moved aside; a write
   * that would exceed it fails. Positive. @default 67108864 (64 MiB)
   */
  maxBytes?: number
  /**
   * How long a change waits before the snapshot is written; changes meanwhile join the same write.
   * A change during a write joins the next one. At least 0. @default '100ms'
   */
  writeDelay?: Duration
  /** File mode of a new snapshot file. @default 0o600 */
  mode?: number
  /** File-system operations, to simulate faults in tests. @default node:fs/promises */
  fs?: FileStoreFs
}

/** Every default of {@link FileStoreOptions} in one place. */
export const FILE_STORE_DEFAULTS = {
  maxBytes: 64 * 1024 * 1024,
  writeDelay: 100,
  mode: 0o600,
} as const

/** Unreported problems kept for the first registry that attaches; older ones are dropped. */
const MAX_UNREPORTED = 32

interface Settings {
  readonly path: string
  readonly serialize: (value: unknown) => string
  readonly deserialize: (text: string) => unknown
  readonly maxBytes: number
  readonly writeDelay: number
  readonly mode: number
  readonly fs: FileStoreFs
}

/** Someone waiting for the next snapshot write: a `set()` or `delete()` of `resource`. */
interface Waiter {
  readonly resource: string
  readonly resolve: () => void
  readonly reject: (error: StoreError) => void
}

/** A problem waiting for a registry to report it to. */
interface Problem {
  readonly error: StoreError
  readonly resource: string | undefined
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

function resolveOptions(options: unknown): Settings {
  if (typeof options !== 'object' || options === null) {
    throw new OptionTypeError('fileStore options', 'an object with a "path"', options)
  }
  const input = options as FileStoreOptions
  if (typeof input.path !== 'string' || input.path.length === 0) {
    throw new OptionTypeError('path', 'a non-empty string', input.path)
  }
  if ((input.serialize === undefined) !== (input.deserialize === undefined)) {
    throw new OptionTypeError(
      input.serialize === undefined ? 'serialize' : 'deserialize',
      'given together with its pair (serialize and deserialize)',
      undefined,
    )
  }
  for (const key of ['serialize', 'deserialize'] as const) {
    if (input[key] !== undefined && typeof input[key] !== 'function') {
      throw new OptionTypeError(key, 'a function', input[key])
    }
  }
  const maxBytes = input.maxBytes ?? FILE_STORE_DEFAULTS.maxBytes
  if (typeof maxBytes !== 'number') throw new OptionTypeError('maxBytes', 'a number', maxBytes)
  if (!(maxBytes > 0)) throw new OptionRangeError('maxBytes', 'a positive number of bytes', maxBytes)
  const writeDelay =
    input.writeDelay === undefined
      ? FILE_STORE_DEFAULTS.writeDelay
      : parseDuration(input.writeDelay, 'writeDelay')
  if (!(writeDelay >= 0 && Number.isFinite(writeDelay))) {
    throw new OptionRangeError('writeDelay', 'a finite duration of at least 0', input.writeDelay)
  }
  const mode = input.mode ?? FILE_STORE_DEFAULTS.mode
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) {
    throw new OptionRangeError('mode', 'a file mode such as 0o600', mode)
  }
  const fs = input.fs ?? nodeFs
  return {
    path: input.path,
    serialize: input.serialize ?? toJson,
    deserialize: input.deserialize ?? fromJson,
    maxBytes,
    writeDelay,
    mode,
    fs,
  }
}

/** A compact UTC timestamp for file names: `20240102T030405678Z`. */
function fileStamp(): string {
  return new Date().toISOString().replace(/[-:.]/g, '')
}

/**
 * A store that keeps every entry in one snapshot file, for warm restarts of a single process.
 * The file is read once, on first use; changes are written in batches, atomically and durably.
 * Problems with the file are reported through the registry's `onError`, never thrown at start.
 */
class FileStore implements Store {
  readonly #settings: Settings
  /** How values are written and read back (see `Store.codec`). */
  readonly codec: Codec
  #entries = new Map<string, EncodedEntry>()
  #loading: Promise<void> | undefined
  #loaded = false
  readonly #contexts: StoreContext[] = []
  readonly #unreported: Problem[] = []
  /** Waiting for the next write. */
  #waiting: Waiter[] = []
  /** The delay before the next write. */
  #timer: ReturnType<typeof setTimeout> | undefined
  /** The write in progress; resolves (never rejects) with its error, if any. */
  #writing: Promise<unknown> | undefined
  #closing: Promise<void> | undefined
  /** Whether the last write failed: entries in memory that the file lacks, until a write succeeds. */
  #unsaved = false
  /** Whether {@link #closing} has settled. */
  #closed = false

  constructor(settings: Settings) {
    this.#settings = settings
    this.codec = { encode: settings.serialize, decode: settings.deserialize }
  }

  attach(context: StoreContext): void {
    this.#contexts.push(context)
    for (const problem of this.#unreported.splice(0)) this.#tell(context, problem)
  }

  async get(name: string): Promise<StoreEntry | undefined> {
    if (!this.#loaded) await this.#load()
    const entry = this.#entries.get(name)
    if (entry === undefined) return undefined
    let value: unknown
    try {
      value = this.#settings.deserialize(entry.data)
    } catch (error) {
      throw new StoreError(
        `could not decode the saved value of resource "${name}" from ${this.#settings.path}: ${message(error)}`,
        { resource: name, cause: error },
      )
    }
    return { value, version: entry.version, loadedAt: entry.loadedAt }
  }

  set(name: string, entry: StoreEntry): Promise<boolean> {
    if (this.#closing !== undefined) return Promise.reject(this.#closedError(name))
    if (this.#loaded) return this.#setNow(name, entry)
    return this.#load().then(() => this.#setNow(name, entry))
  }

  delete(name: string): Promise<void> {
    if (this.#closing !== undefined) return Promise.reject(this.#closedError(name))
    if (this.#loaded) return this.#deleteNow(name)
    return this.#load().then(() => this.#deleteNow(name))
  }

  async list(): Promise<string[]> {
    if (!this.#loaded) await this.#load()
    return [...this.#entries.keys()]
  }

  close(): Promise<void> {
    this.#closing ??= this.#shutdown()
    return this.#closing
  }

  /**
   * Takes writes again after {@link close}. The entries stay in memory, so nothing is read again:
   * this process is the file's one writer. Called before the close settled, it waits for it.
   */
  reopen(): void {
    const closing = this.#closing
    if (closing === undefined) return
    if (this.#closed) {
      this.#closing = undefined
      this.#closed = false
      return
    }
    const open = () => this.reopen()
    closing.then(open, open)
  }

  // ---- writing --------------------------------------------------------------------------------

  #setNow(name: string, entry: StoreEntry): Promise<boolean> {
    if (typeof entry !== 'object' || entry === null || !isValidHead(entry.version, entry.loadedAt)) {
      return Promise.reject(
        new StoreError(
          `could not save resource "${name}": an entry needs a positive integer version and a numeric loadedAt`,
          { resource: name },
        ),
      )
    }
    const current = this.#entries.get(name)
    if (current !== undefined && current.version >= entry.version) return Promise.resolve(false)
    let data: unknown
    try {
      data = this.#settings.serialize(entry.value)
      if (typeof data !== 'string') throw new TypeError(`serialize returned ${typeof data}, not a string`)
    } catch (error) {
      return Promise.reject(
        new StoreError(`could not serialise the value of resource "${name}": ${message(error)}`, {
          resource: name,
          cause: error,
        }),
      )
    }
    this.#entries.set(name, { version: entry.version, loadedAt: entry.loadedAt, data })
    return this.#nextWrite(name).then(() => true)
  }

  #deleteNow(name: string): Promise<void> {
    if (!this.#entries.delete(name)) return Promise.resolve()
    return this.#nextWrite(name)
  }

  /** Resolves once a snapshot holding the current entries is durably written. */
  #nextWrite(resource: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#waiting.push({ resource, resolve, reject })
      this.#arm()
    })
  }

  /**
   * Arms the write delay unless a write is already due or running (that one re-arms when done).
   * The timer is not unref'd: it is short, and lets a process that is exiting save its last values.
   */
  #arm(): void {
    if (this.#timer !== undefined || this.#writing !== undefined || this.#closing !== undefined) return
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      this.#write()
    }, this.#settings.writeDelay)
  }

  #disarm(): void {
    if (this.#timer === undefined) return
    clearTimeout(this.#timer)
    this.#timer = undefined
  }

  /** Writes a snapshot for everyone waiting; the next batch is armed when it ends. */
  #write(): Promise<unknown> {
    const waiters = this.#waiting
    this.#waiting = []
    const { path, fs, mode, maxBytes } = this.#settings
    const text = encodeSnapshot(this.#entries, Date.now())
    const size = Buffer.byteLength(text)
    const attempt =
      size > maxBytes
        ? Promise.reject(new Error(`the snapshot would be ${size} bytes, over maxBytes (${maxBytes})`))
        : writeAtomic(fs, path, text, mode)
    const writing = attempt.then(
      () => {
        this.#unsaved = false
        for (const waiter of waiters) waiter.resolve()
        return undefined
      },
      (error: unknown) => {
        this.#unsaved = true
        for (const waiter of waiters) {
          waiter.reject(
            new StoreError(`could not save resource "${waiter.resource}" to ${path}: ${message(error)}`, {
              resource: waiter.resource,
              cause: error,
            }),
          )
        }
        return error
      },
    )
    this.#writing = writing.then((result) => {
      this.#writing = undefined
      if (this.#waiting.length > 0) this.#arm()
      return result
    })
    return this.#writing
  }

  async #shutdown(): Promise<void> {
    try {
      await this.#flushAll()
    } finally {
      this.#closed = true
    }
  }

  async #flushAll(): Promise<void> {
    this.#disarm()
    // A set() called before close() may still be waiting for the first read.
    if (this.#loading !== undefined) await this.#loading
    let failure: unknown
    while (this.#writing !== undefined || this.#waiting.length > 0) {
      failure = await (this.#writing ?? this.#write())
    }
    // A write that failed earlier left changes only in memory, and no set() since has written them:
    // one more try, whose outcome close() reports.
    if (failure === undefined && this.#unsaved) failure = await this.#write()
    if (failure !== undefined) {
      throw new StoreError(`could not save the last changes to ${this.#settings.path}: ${message(failure)}`, {
        cause: failure,
      })
    }
  }

  #closedError(resource: string): StoreError {
    return new StoreError(`could not save resource "${resource}": the file store is closed`, { resource })
  }

  // ---- reading --------------------------------------------------------------------------------

  #load(): Promise<void> {
    this.#loading ??= this.#read().then((entries) => {
      // Changes cannot have been made meanwhile: set() and delete() wait for this.
      this.#entries = entries
      this.#loaded = true
    })
    return this.#loading
  }

  /** Reads the snapshot. Never rejects: a problem is reported and the store starts empty. */
  async #read(): Promise<Map<string, EncodedEntry>> {
    const { path, fs } = this.#settings
    await removeOrphanTemps(fs, path)
    const outcome = await this.#readText()
    if ('missing' in outcome) return new Map()
    if ('unreadable' in outcome) {
      const options = 'cause' in outcome ? { cause: outcome.cause } : {}
      this.#report(new StoreError(`could not read ${path}: ${outcome.unreadable}; starting empty`, options))
      return new Map()
    }
    if ('unusable' in outcome) return this.#setAside(outcome.unusable, outcome.cause)
    try {
      return parseSnapshot(outcome.text)
    } catch (error) {
      const why =
        error instanceof SnapshotFormatError ? error.message : `it is not valid JSON (${message(error)})`
      return this.#setAside(why, error)
    }
  }

  /** The file's text, or why there is none. The file is closed when this resolves. */
  async #readText(): Promise<
    | { text: string }
    | { missing: true }
    | { unreadable: string; cause?: unknown }
    | { unusable: string; cause?: unknown }
  > {
    const { path, fs, maxBytes } = this.#settings
    let handle: FileStoreHandle
    try {
      handle = await fs.open(path, 'r')
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return { missing: true }
      return { unreadable: message(error), cause: error }
    }
    try {
      const stat = await handle.stat()
      if (!stat.isFile()) return { unreadable: 'it is not a regular file' }
      // Checked before reading, so a huge file is never loaded into memory.
      if (stat.size > maxBytes) return { unusable: `it is ${stat.size} bytes, over maxBytes (${maxBytes})` }
      const bytes = await handle.readFile()
      if (bytes.byteLength > maxBytes) {
        return { unusable: `it is ${bytes.byteLength} bytes, over maxBytes (${maxBytes})` }
      }
      try {
        return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes) }
      } catch (error) {
        return { unusable: 'it is not UTF-8 text', cause: error }
      }
    } catch (error) {
      return { unreadable: message(error), cause: error }
    } finally {
      await handle.close().catch(() => {})
    }
  }

  /** Moves an unusable file aside, so a later write cannot destroy it, and reports it. */
  async #setAside(why: string, cause?: unknown): Promise<Map<string, EncodedEntry>> {
    const { path, fs } = this.#settings
    const aside = `${path}.corrupt-${fileStamp()}`
    const options = cause === undefined ? {} : { cause }
    try {
      await fs.rename(path, aside)
      this.#report(new StoreError(`ignored ${path}: ${why}; moved it to ${aside}, starting empty`, options))
    } catch (error) {
      this.#report(
        new StoreError(
          `ignored ${path}: ${why}; could not move it aside (${message(error)}), starting empty`,
          options,
        ),
      )
    }
    return new Map()
  }

  // ---- reporting ------------------------------------------------------------------------------

  #report(error: StoreError, resource?: string): void {
    const problem = { error, resource }
    if (this.#contexts.length === 0) {
      if (this.#unreported.push(problem) > MAX_UNREPORTED) this.#unreported.shift()
      return
    }
    for (const context of this.#contexts) this.#tell(context, problem)
  }

  #tell(context: StoreContext, problem: Problem): void {
    try {
      context.reportError(problem.error, problem.resource)
    } catch {
      // A reporter that throws has nowhere left to report to.
    }
  }
}

/**
 * A store that saves every resource's last good value in one snapshot file, so a restarted process
 * serves them at once (warm restart).
 *
 * ```ts
 * import { Resources } from 'evergreen-cache'
 * import { fileStore } from 'evergreen-cache/file'
 * const resources = new Resources({ store: fileStore({ path: '/var/cache/app/evergreen.json' }) })
 * ```
 *
 * Use one store per file, in one process: two writers of the same file overwrite each other's snapshots.
 */
export function fileStore(options: FileStoreOptions): Store {
  return new FileStore(resolveOptions(options))
}
