import { StoreError } from '../core/errors.js'
import type { Codec } from '../stores/codec.js'
import type { Store, StoreContext, StoreEntry } from '../stores/store.js'
import { writeAtomic } from './atomic-write.js'
import { FileLock } from './file-lock.js'
import { FileLockError } from './file-lock-error.js'
import { claimPath, releasePath } from './open-paths.js'
import { type FileStoreOptions, type FileStoreSettings, resolveFileStoreOptions } from './options.js'
import { messageOf, quoteName, Reporter } from './reporter.js'
import { type EncodedEntry, encodeEntry, entryData, isValidHead, SNAPSHOT_OVERHEAD } from './snapshot.js'
import { readSnapshotFile } from './snapshot-file.js'
import { type Waiter, WriteBatcher } from './write-batcher.js'
import { planWrite } from './write-plan.js'

/**
 * A store that keeps every entry in one snapshot file, for warm restarts of a single process.
 * The file is read once, on first use, under the file's lock; changes are written in batches,
 * atomically and durably, only while this store holds that lock. Problems with the file are
 * reported through the registry's `onError`, never thrown at start.
 */
class FileStore implements Store {
  readonly #settings: FileStoreSettings
  /** How values are written and read back (see `Store.codec`). */
  readonly codec: Codec
  readonly #reporter = new Reporter()
  readonly #lock: FileLock
  readonly #batcher: WriteBatcher
  #entries = new Map<string, EncodedEntry>()
  /** The entry of each name changed since the last write, as it was before (undefined: none). */
  readonly #previous = new Map<string, EncodedEntry | undefined>()
  /** Names deleted since the last write, so a merge with the file does not bring them back. */
  readonly #deleted = new Set<string>()
  #loading: Promise<void> | undefined
  #loaded = false
  /** The file may hold entries written by another process since it was read: merge before writing. */
  #stale = false
  /** Why another process's lock refuses our writes, while it does. */
  #refusal: FileLockError | undefined
  #closing: Promise<void> | undefined
  /** Whether {@link #closing} has settled. */
  #closed = false
  /** reopen() was called while closing, and no close() since: reopen once the close settles. */
  #reopenWanted = false

  constructor(settings: FileStoreSettings) {
    this.#settings = settings
    this.codec = settings.codec
    claimPath(settings.path, this)
    const clock = () => this.#reporter.clock
    this.#batcher = new WriteBatcher(settings.writeDelay, clock, (batch) => this.#write(batch))
    this.#lock = new FileLock(
      settings.path,
      settings.fs,
      { timeout: settings.lockTimeout, mode: settings.mode, clock },
      {
        acquired: (before) => {
          this.#refusal = undefined
          if (before) this.#stale = true
          this.#batcher.unpark()
          if (this.#unsaved && this.#closing === undefined) void this.#batcher.writeNow()
        },
        refused: (error) => {
          this.#refusal = error
          this.#reporter.report(error)
          this.#batcher.rejectParked((resource) => this.#lockError(resource))
        },
        report: (error) => this.#reporter.report(error),
      },
    )
  }

  attach(context: StoreContext): void {
    this.#reporter.attach(context)
  }

  async get(name: string): Promise<StoreEntry | undefined> {
    if (!this.#loaded) await this.#load()
    const entry = this.#entries.get(name)
    if (entry === undefined) return undefined
    entry.used = true
    let value: unknown
    try {
      value = this.#settings.codec.decode(entryData(entry))
    } catch (error) {
      throw new StoreError(
        `could not decode the saved value of resource ${quoteName(name)} from ${this.#settings.path}: ${messageOf(error)}`,
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
    this.#reopenWanted = false
    this.#closing ??= this.#shutdown()
    return this.#closing
  }

  /**
   * Takes writes again after {@link close}, with the entries in memory; the file is read again
   * (and merged, the newer version of each entry winning) before the next write, in case another
   * process wrote it meanwhile. Called before the close settled, it waits for it (a close() called
   * after it cancels it). Throws a
   * {@link FileLockError} if another store of this process opened the file meanwhile.
   */
  reopen(): void {
    const closing = this.#closing
    if (closing === undefined) return
    if (this.#closed) {
      claimPath(this.#settings.path, this)
      this.#closing = undefined
      this.#closed = false
      this.#stale = true
      this.#batcher.resume()
      return
    }
    if (this.#reopenWanted) return
    this.#reopenWanted = true
    const open = () => {
      if (!this.#reopenWanted) return
      this.#reopenWanted = false
      this.reopen()
    }
    closing.then(open, open)
  }

  // ---- changes --------------------------------------------------------------------------------

  #setNow(name: string, entry: StoreEntry): Promise<boolean> {
    if (typeof entry !== 'object' || entry === null || !isValidHead(entry.version, entry.loadedAt)) {
      return Promise.reject(
        new StoreError(
          `could not save resource ${quoteName(name)}: an entry needs a positive integer version and a numeric loadedAt`,
          { resource: name },
        ),
      )
    }
    const current = this.#entries.get(name)
    if (current !== undefined && current.version >= entry.version) {
      current.used = true
      return Promise.resolve(false)
    }
    let encoded: EncodedEntry
    try {
      encoded = encodeEntry(
        name,
        entry.version,
        entry.loadedAt,
        this.#settings.codec.encode(entry.value),
        true,
      )
    } catch (error) {
      return Promise.reject(
        new StoreError(`could not serialise the value of resource ${quoteName(name)}: ${messageOf(error)}`, {
          resource: name,
          cause: error,
        }),
      )
    }
    const size = Buffer.byteLength(encoded.line)
    const { maxBytes, path } = this.#settings
    if (size + SNAPSHOT_OVERHEAD > maxBytes) {
      return Promise.reject(
        new StoreError(
          `could not save resource ${quoteName(name)} to ${path}: its entry is ${size} bytes, over maxBytes (${maxBytes}); the other entries are saved`,
          { resource: name },
        ),
      )
    }
    this.#change(name, encoded)
    if (this.#refusal !== undefined) {
      return Promise.reject(this.#lockError(name))
    }
    return this.#batcher.request(name).then(() => true)
  }

  #deleteNow(name: string): Promise<void> {
    if (!this.#entries.has(name)) return Promise.resolve()
    this.#change(name, undefined)
    if (this.#refusal !== undefined) return Promise.reject(this.#lockError(name))
    return this.#batcher.request(name)
  }

  /** Whether memory holds changes the file lacks (a write failed or was refused since). */
  get #unsaved(): boolean {
    return this.#previous.size > 0
  }

  #change(name: string, entry: EncodedEntry | undefined): void {
    if (!this.#previous.has(name)) this.#previous.set(name, this.#entries.get(name))
    if (entry === undefined) {
      this.#entries.delete(name)
      this.#deleted.add(name)
    } else {
      this.#entries.set(name, entry)
      this.#deleted.delete(name)
    }
  }

  // ---- writing --------------------------------------------------------------------------------

  /** Writes a snapshot for `batch` if this store holds the file's lock; settles every waiter. */
  async #write(batch: Waiter[]): Promise<unknown> {
    const lock = this.#lock
    try {
      if (lock.state === 'owner') await lock.confirm()
      else await lock.acquire()
    } catch {
      // The lock file could not be read: the write below meets the same problem and says so.
    }
    if (lock.state === 'waiting') {
      this.#batcher.park(batch)
      return undefined
    }
    if (lock.state === 'other' || lock.state === 'none') {
      const error = this.#refusal ?? this.#lockError(undefined)
      for (const waiter of batch) waiter.reject(this.#lockError(waiter.resource))
      return error
    }
    if (this.#stale) await this.#merge()
    const { path, fs, mode, maxBytes, orphanAge } = this.#settings
    const now = Date.now()
    const plan = planWrite(this.#entries, this.#previous, maxBytes, now - orphanAge, now)
    const size = Buffer.byteLength(plan.text)
    let failure: unknown
    try {
      if (size > maxBytes) throw new Error(`the snapshot would be ${size} bytes, over maxBytes (${maxBytes})`)
      await writeAtomic(fs, path, plan.text, mode, lock.token)
    } catch (error) {
      failure = error
    }
    this.#settle(batch, plan.refused, plan.wanted, failure)
    return failure
  }

  #settle(batch: Waiter[], refused: ReadonlyMap<string, number>, wanted: number, failure: unknown): void {
    const { path, maxBytes } = this.#settings
    if (failure === undefined) {
      this.#previous.clear()
      this.#deleted.clear()
    } else if (batch.length === 0 && this.#closing === undefined) {
      // A write of changes kept in memory (after the lock came back) that nobody waits for: the
      // store is the only one that can tell. At close, close() itself rejects with it.
      this.#reporter.report(
        new StoreError(`could not save the changes held in memory to ${path}: ${messageOf(failure)}`, {
          cause: failure,
        }),
      )
    }
    for (const waiter of batch) {
      const name = quoteName(waiter.resource)
      const size = refused.get(waiter.resource)
      if (size !== undefined) {
        waiter.reject(
          new StoreError(
            `could not save resource ${name} to ${path}: its entry of ${size} bytes would make the snapshot ${wanted} bytes, over maxBytes (${maxBytes}); the other entries are saved`,
            { resource: waiter.resource },
          ),
        )
      } else if (failure === undefined) waiter.resolve()
      else {
        waiter.reject(
          new StoreError(`could not save resource ${name} to ${path}: ${messageOf(failure)}`, {
            resource: waiter.resource,
            cause: failure,
          }),
        )
      }
    }
  }

  /** Reads the file again and keeps, per name, the newer of its entry and ours. */
  async #merge(): Promise<void> {
    this.#stale = false
    const report = (error: StoreError) => this.#reporter.report(error)
    const theirs = await readSnapshotFile(this.#settings, report)
    for (const [name, entry] of theirs) {
      if (this.#deleted.has(name)) continue
      const ours = this.#entries.get(name)
      if (ours !== undefined && ours.version >= entry.version) continue
      entry.used = ours?.used ?? false
      this.#entries.set(name, entry)
    }
  }

  async #shutdown(): Promise<void> {
    this.#batcher.pause()
    let failure: unknown
    try {
      // A set() called before close() may still be waiting for the first read.
      if (this.#loading !== undefined) await this.#loading
      failure = await this.#batcher.drain()
      // A write that failed earlier left changes only in memory, and no set() since has written
      // them: one more try, whose outcome close() reports.
      if (failure === undefined && this.#unsaved) failure = await this.#batcher.writeNow()
      this.#batcher.rejectParked((resource) => this.#closedError(resource))
      await this.#lock.release()
    } finally {
      this.#closed = true
      releasePath(this.#settings.path, this)
    }
    if (failure !== undefined) {
      throw new StoreError(
        `could not save the last changes to ${this.#settings.path}: ${messageOf(failure)}`,
        { cause: failure },
      )
    }
  }

  #closedError(resource: string): StoreError {
    return new StoreError(`could not save resource ${quoteName(resource)}: the file store is closed`, {
      resource,
    })
  }

  #lockError(resource: string | undefined): FileLockError {
    const { path } = this.#settings
    const holder = this.#refusal?.holder
    const why =
      this.#refusal === undefined
        ? `${path} is locked by another process`
        : `${path} is held by another process (${holder})`
    const what = resource === undefined ? 'could not save' : `could not save resource ${quoteName(resource)}`
    return new FileLockError(`${what}: ${why}; it stays in memory`, path, holder, resource)
  }

  // ---- reading --------------------------------------------------------------------------------

  #load(): Promise<void> {
    this.#loading ??= (async () => {
      await this.#lock.acquire().catch(() => {})
      const report = (error: StoreError) => this.#reporter.report(error)
      // Changes cannot have been made meanwhile: set() and delete() wait for this.
      this.#entries = await readSnapshotFile(this.#settings, report)
      this.#loaded = true
    })()
    return this.#loading
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
 * One writer per file: a second store on the same path in this process is refused with a
 * {@link FileLockError} while the first is open; another process's store finds the file's lock and
 * writes nothing until that lock is released or goes `lockTimeout` without a refresh.
 */
export function fileStore(options: FileStoreOptions): Store {
  return new FileStore(resolveFileStoreOptions(options))
}
