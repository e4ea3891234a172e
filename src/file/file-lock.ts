import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import { dirname } from 'node:path'
import { StoreError } from '../core/errors.js'
import type { Clock, TimerHandle } from '../scheduling/clock.js'
import { removeLeftoverTemps, replaceFile } from './atomic-write.js'
import { FileLockError } from './file-lock-error.js'
import { errorCode, type FileStoreFs, readWhole, readWithTime } from './fs.js'

/** What a lock file holds. `beat` grows with each refresh, so a watcher sees its owner is alive. */
interface LockContent {
  readonly owner: string
  readonly pid: number
  readonly host: string
  readonly refreshedAt: number
  readonly timeout: number
  readonly beat: number
}

/**
 * Where this store stands with the file's lock: not tried yet (or released); holding it; waiting
 * to learn whether the other holder is alive; held by a live other process; or unable to create it
 * (a read-only directory: writes will fail too, and say why).
 */
export type LockState = 'none' | 'owner' | 'waiting' | 'other' | 'unlocked'

/** What the lock tells its store. */
export interface LockEvents {
  /** This store now holds the lock; `before` says whether another process held it since the file was read. */
  acquired(before: boolean): void
  /** Another process holds the lock and is alive: writes are refused with `error` until that changes. */
  refused(error: FileLockError): void
  /** A problem to report (a takeover, a lost lock). */
  report(error: StoreError): void
}

/** A creator writes its lock's content right after creating it: an empty lock older than this was abandoned. */
const EMPTY_LOCK_MS = 1_000

function parseContent(text: string): LockContent | undefined {
  try {
    const value = JSON.parse(text) as Partial<LockContent> | null
    if (typeof value?.owner !== 'string' || typeof value.refreshedAt !== 'number') return undefined
    return {
      owner: value.owner,
      pid: Number(value.pid),
      host: String(value.host),
      refreshedAt: value.refreshedAt,
      timeout: typeof value.timeout === 'number' && value.timeout > 0 ? value.timeout : 0,
      beat: Number(value.beat),
    }
  } catch {
    return undefined
  }
}

/**
 * Whether the holder is a process of this host that no longer runs: a shortcut for the common case
 * of a restart on one machine. A PID only ever proves a process gone, never alive, and our own PID
 * proves nothing (in a container every process may be PID 1); otherwise the lock's age decides.
 */
function isGone(content: LockContent): boolean {
  if (content.host !== hostname() || content.pid === process.pid || !(content.pid > 0)) return false
  try {
    process.kill(content.pid, 0)
    return false
  } catch (error) {
    // EPERM: it runs, under another user.
    return errorCode(error) === 'ESRCH'
  }
}

function holderOf(content: LockContent | undefined): string {
  return content === undefined ? 'an unknown process' : `pid ${content.pid} on host ${content.host}`
}

/**
 * The lock of one snapshot file: a file `<path>.lock` naming its owner (a random token, not a PID:
 * in containers every process may be PID 1), refreshed every fifth of `timeout` while held. Another
 * process finding it refreshed is refused; finding it unrefreshed for `timeout` (by the wall time it
 * carries, or by watching it on this process's clock) takes it over and reports that.
 */
export class FileLock {
  /** This store's token, also the mark of its temp files. */
  readonly token = randomBytes(6).toString('hex')
  readonly #path: string
  readonly #fs: FileStoreFs
  readonly #timeout: number
  readonly #mode: number
  readonly #clock: () => Clock
  readonly #events: LockEvents
  #state: LockState = 'none'
  #beat = 0
  #timer: { readonly clock: Clock; readonly handle: TimerHandle } | undefined
  /** The other holder's lock text as last seen, and when (this process's clock) it was first seen so. */
  #seen: { text: string; since: number } | undefined
  /** Whether another process held the lock since this store last held it. */
  #heldElsewhere = false
  #attempt: Promise<void> | undefined
  /** Released by close(): nothing is armed, and an attempt still running gives the lock back. */
  #stopped = false

  constructor(
    path: string,
    fs: FileStoreFs,
    options: { timeout: number; mode: number; clock: () => Clock },
    events: LockEvents,
  ) {
    this.#path = `${path}.lock`
    this.#fs = fs
    this.#timeout = options.timeout
    this.#mode = options.mode
    this.#clock = options.clock
    this.#events = events
  }

  get state(): LockState {
    return this.#state
  }

  /** Tries to take the lock (once at a time); the outcome is in {@link state}. */
  acquire(): Promise<void> {
    this.#stopped = false
    if (this.#state === 'owner') return Promise.resolve()
    this.#attempt ??= this.#tryAcquire().finally(() => {
      this.#attempt = undefined
    })
    return this.#attempt
  }

  /** Before a write: whether this store still holds the lock. If another took it, says so and watches. */
  async confirm(): Promise<boolean> {
    if (this.#state !== 'owner') return false
    const text = await this.#read()
    const content = text === undefined ? undefined : parseContent(text)
    if (content?.owner === this.token) return true
    if (text === undefined) {
      await this.#vanished()
      return this.state === 'owner'
    }
    this.#lost(content)
    return false
  }

  /** Stops refreshing and removes the lock file if it is still ours. */
  async release(): Promise<void> {
    this.#stopped = true
    this.#disarm()
    await this.#attempt?.catch(() => {})
    const owned = this.#state === 'owner'
    this.#state = 'none'
    this.#seen = undefined
    if (!owned) return
    const text = await this.#read().catch(() => undefined)
    if (text !== undefined && parseContent(text)?.owner === this.token) {
      await this.#fs.unlink(this.#path).catch(() => {})
    }
  }

  async #tryAcquire(): Promise<void> {
    const content = this.#content()
    let handle: Awaited<ReturnType<FileStoreFs['open']>> | undefined
    try {
      await this.#fs.mkdir(dirname(this.#path), { recursive: true })
      handle = await this.#fs.open(this.#path, 'wx', this.#mode)
    } catch (error) {
      if (errorCode(error) !== 'EEXIST') {
        this.#state = 'unlocked'
        return
      }
    }
    if (handle !== undefined) {
      try {
        await handle.writeFile(JSON.stringify(content))
        await handle.close()
        this.#own()
      } catch {
        // A full disk: leave no empty lock behind for others to wait on.
        await handle.close().catch(() => {})
        await this.#fs.unlink(this.#path).catch(() => {})
        this.#state = 'unlocked'
      }
      return
    }
    const read = await readWithTime(this.#fs, this.#path).catch(() => undefined)
    if (read === undefined) {
      // Released between our two calls: try again at once.
      this.#state = 'none'
      return this.#tryAcquire()
    }
    const { text } = read
    const other = parseContent(text)
    // A lock without content whose file is old: its creator was killed before writing it.
    if (other === undefined && read.mtimeMs !== undefined && Date.now() - read.mtimeMs > EMPTY_LOCK_MS) {
      return this.#takeOver(text, other, Date.now() - read.mtimeMs)
    }
    if (other?.owner === this.token) return this.#own()
    const now = this.#clock().now()
    if (this.#seen === undefined || this.#seen.text !== text) {
      // First sight, or it changed since: its owner refreshed it, so it is alive.
      const alive = this.#seen !== undefined
      this.#seen = { text, since: now }
      const bound = Math.max(this.#timeout, other?.timeout ?? 0)
      const age = other === undefined ? 0 : Date.now() - other.refreshedAt
      if (other !== undefined && (age > bound || isGone(other))) return this.#takeOver(text, other, age)
      this.#heldElsewhere = true
      this.#watch(alive ? 'other' : 'waiting', other)
      return
    }
    const still = now - this.#seen.since
    const bound = Math.max(this.#timeout, other?.timeout ?? 0)
    if (still > bound) return this.#takeOver(text, other, still)
    this.#watch(this.#state === 'other' ? 'other' : 'waiting', other)
  }

  /** Another holder is alive or not known dead: look again in a while. */
  #watch(state: 'waiting' | 'other', other: LockContent | undefined): void {
    const first = this.#state !== 'other' && state === 'other'
    this.#state = state
    if (first) {
      this.#events.refused(
        new FileLockError(
          `${this.#pathOfSnapshot()} is held by another process (${holderOf(other)}), whose lock ${this.#path} is refreshed: this store serves what it read but writes nothing until that lock is released or goes ${this.#timeout} ms without a refresh`,
          this.#pathOfSnapshot(),
          holderOf(other),
        ),
      )
    }
    this.#arm(() => void this.acquire(), this.#interval())
  }

  /** The holder has not refreshed its lock for longer than the bound: its process is gone. */
  async #takeOver(text: string, other: LockContent | undefined, age: number): Promise<void> {
    const aside = `${this.#path}.stale-${this.token}`
    try {
      await this.#fs.rename(this.#path, aside)
      const moved = await readWhole(this.#fs, aside).catch(() => undefined)
      if (moved !== text) {
        // A new holder replaced it meanwhile: put theirs back and look again later.
        await this.#fs.rename(aside, this.#path).catch(() => {})
        this.#seen = undefined
        this.#watch('waiting', undefined)
        return
      }
      await this.#fs.unlink(aside).catch(() => {})
    } catch {
      // Gone already (its owner released it, or another process took it over): try afresh.
    }
    this.#seen = undefined
    this.#state = 'none'
    await this.#tryAcquire()
    if (this.state === 'owner') {
      this.#events.report(
        new StoreError(
          `took over the lock of ${this.#pathOfSnapshot()} from ${holderOf(other)}: ${other !== undefined && isGone(other) ? 'that process is gone' : `not refreshed for ${Math.round(age)} ms`} (it was likely killed)`,
        ),
      )
    }
  }

  #own(): void {
    if (this.#stopped) {
      // Released while this attempt ran: give it back.
      void this.#fs.unlink(this.#path).catch(() => {})
      this.#state = 'none'
      return
    }
    const before = this.#heldElsewhere
    this.#heldElsewhere = false
    this.#seen = undefined
    this.#state = 'owner'
    void removeLeftoverTemps(this.#fs, this.#pathOfSnapshot(), this.token)
    void removeLeftoverTemps(this.#fs, this.#path, this.token)
    this.#arm(() => void this.#refresh(), this.#interval())
    this.#events.acquired(before)
  }

  #lost(content: LockContent | undefined): void {
    // A refresh and a write may both find it out: tell it once.
    if (this.#state !== 'owner') return
    this.#disarm()
    this.#state = 'none'
    this.#heldElsewhere = true
    this.#events.report(
      new StoreError(
        `lost the lock of ${this.#pathOfSnapshot()} to ${holderOf(content)} (this process went ${this.#timeout} ms without refreshing it, paused or starved); it writes nothing until it holds the lock again`,
      ),
    )
    void this.acquire()
  }

  /**
   * Our lock file is gone: another process took it over while this one was paused, and released it
   * (or someone removed it). Take it again, as after another holder, so the file is read again first.
   */
  #vanished(): Promise<void> {
    if (this.#stopped) return Promise.resolve()
    this.#disarm()
    this.#heldElsewhere = true
    this.#state = 'none'
    return this.acquire()
  }

  async #refresh(): Promise<void> {
    if (this.#state !== 'owner') return
    try {
      const text = await this.#read()
      const content = text === undefined ? undefined : parseContent(text)
      if (this.#stopped) return
      if (text === undefined) return this.#vanished()
      if (content?.owner !== this.token) return this.#lost(content)
      this.#beat++
      await replaceFile(this.#fs, this.#path, JSON.stringify(this.#content()), this.#mode, this.token)
    } catch {
      // Missed once; the next refresh tries again well within the timeout.
    }
    if (this.#state === 'owner') this.#arm(() => void this.#refresh(), this.#interval())
  }

  #content(): LockContent {
    return {
      owner: this.token,
      pid: process.pid,
      host: hostname(),
      refreshedAt: Date.now(),
      timeout: this.#timeout,
      beat: this.#beat,
    }
  }

  /** The lock file's text, or `undefined` if there is none. */
  async #read(): Promise<string | undefined> {
    try {
      return await readWhole(this.#fs, this.#path)
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return undefined
      throw error
    }
  }

  #interval(): number {
    return Math.max(20, Math.floor(this.#timeout / 5))
  }

  #arm(callback: () => void, ms: number): void {
    this.#disarm()
    if (this.#stopped) return
    const clock = this.#clock()
    const handle = clock.setTimeout(() => {
      this.#timer = undefined
      callback()
    }, ms)
    this.#timer = { clock, handle }
  }

  #disarm(): void {
    if (this.#timer === undefined) return
    this.#timer.clock.clearTimeout(this.#timer.handle)
    this.#timer = undefined
  }

  #pathOfSnapshot(): string {
    return this.#path.slice(0, -'.lock'.length)
  }
}
