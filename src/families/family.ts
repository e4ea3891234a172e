import { parseDuration } from '../core/duration.js'
import {
  type LoadError,
  LoadTimeoutError,
  OptionRangeError,
  OptionTypeError,
  StoppedError,
} from '../core/errors.js'
import type { EngineHost } from '../core/host.js'
import { isLoading, type Phase } from '../core/state.js'
import { FamilyCore, READ } from './family-core.js'
import type { FamilySettings } from './family-options.js'
import type { KeyFlight, KeyLoader } from './key-flight.js'

/** A snapshot of one key of a family; never loads, not a read. */
export interface FamilyKeySnapshot<V> {
  readonly key: string
  /** Whether the key has a value (a cached `undefined` is a value). */
  readonly hasValue: boolean
  readonly value: V | undefined
  readonly version: number
  /** When the value was loaded or set (wall-clock ms), or `undefined`. */
  readonly updatedAt: number | undefined
  /** Age of the value in ms, or `undefined`. */
  readonly age: number | undefined
  /** Whether a load of the key is in flight (or queued). */
  readonly loading: boolean
  /** Consecutive failed loads. */
  readonly consecutiveFailures: number
  /** The last load error; `undefined` after a success. */
  readonly error: LoadError | undefined
  /** When the next background refresh is due (wall-clock ms), or `undefined`. */
  readonly nextRefreshAt: number | undefined
}

/** Counters of a family since it was made. */
export interface FamilyStats {
  /** Keys held. */
  readonly size: number
  /** Reads (`get`, `fetch`) that found a value. */
  readonly hits: number
  /** Reads that found none. */
  readonly misses: number
  /** Loader calls. */
  readonly loads: number
  /** Failed loads. */
  readonly failures: number
  /** Keys dropped to keep the bounds, or for being idle. */
  readonly evictions: number
  /** Keys whose last load failed. */
  readonly failing: number
}

/** Options of {@link Family.fetch}: they end this caller's wait, never the shared load. */
export interface FetchOptions {
  readonly signal?: AbortSignal | undefined
  /** Ms (or a duration string) this caller waits at most. */
  readonly timeout?: number | string | undefined
}

// biome-ignore lint/suspicious/noExplicitAny: handles of any value type
let coreOfHandle: (family: Family<any, any>) => FamilyCore<any>
// biome-ignore lint/suspicious/noExplicitAny: handles of any value type
let newHandle: (core: FamilyCore<any>, keyOf: ((key: any) => string) | undefined) => Family<any, any>

/**
 * Always-warm values for keys not known in advance: `resources.family(name, loader, options)`.
 * Each key read within `idleTimeout` is refreshed every `interval` in the background; a key not
 * read for that long is dropped; at most `maxKeys` keys are held. See docs/families.md.
 */
export class Family<V, K = string | number> {
  readonly #core: FamilyCore<V>
  readonly #keyOf: ((key: K) => string) | undefined

  static {
    coreOfHandle = (family) => family.#core
    newHandle = (core, keyOf) => new Family(core, keyOf)
  }

  /** Use `Resources.family`. */
  private constructor(core: FamilyCore<V>, keyOf: ((key: K) => string) | undefined) {
    this.#core = core
    this.#keyOf = keyOf
  }

  /** The family's name. */
  get name(): string {
    return this.#core.name
  }

  #key(key: K): string {
    if (typeof key === 'string') return key
    const keyOf = this.#keyOf
    if (keyOf !== undefined) {
      const name = keyOf(key)
      if (typeof name !== 'string')
        throw new OptionTypeError(`key" of family "${this.name}`, 'a function returning a string', name)
      return name
    }
    if (typeof key === 'number') return String(key)
    throw new OptionTypeError(
      `key of family "${this.name}`,
      'a string or a number (or give a `key` option)',
      key,
    )
  }

  /**
   * The warm value of `key`, or `undefined` when it is cold, failing, or older than `maxStale`.
   * Synchronous and never throws; counts as a read (keeps the key hot). A cold key's load begins,
   * unless it failed within its backoff.
   */
  get(key: K): V | undefined {
    const core = this.#core
    const name = typeof key === 'string' ? key : this.#safeKey(key)
    if (name === undefined) return undefined
    const slot = core.table.read(name)
    if (slot !== -1) {
      const t = core.keys
      const phase = t.phase(slot)
      if (phase < READ) t.setPhase(slot, phase | READ)
      if (t.version(slot) > 0) {
        core.hits++
        if (core.maxStale !== Number.POSITIVE_INFINITY && core.now() - t.updatedAt(slot) > core.maxStale) {
          return this.#stale(name)
        }
        return t.valueAt(slot)
      }
    }
    this.#coldGet(name, slot)
    return undefined
  }

  // Off the hot path of `get`, so it stays small enough to inline.
  #safeKey(key: K): string | undefined {
    try {
      return this.#key(key)
    } catch {
      return undefined
    }
  }

  #stale(name: string): undefined {
    const core = this.#core
    if (!core.flights.has(name) && !core.closed) core.load(name)
    return undefined
  }

  #coldGet(name: string, slot: number): void {
    const core = this.#core
    core.misses++
    if (!core.closed) this.#coldLoad(name, slot, core.now())
  }

  /** Starts a cold key's load unless it is in its backoff; the flight, or the error to give at once. */
  #coldLoad(name: string, slot: number, now: number): KeyFlight<V> | LoadError {
    const core = this.#core
    const flight = core.flights.get(name)
    if (flight !== undefined) return flight
    const error = core.errors.get(name)
    if (error !== undefined && slot !== -1) {
      if (now < core.table.table.nextDueAt(slot)) return error
      if (!core.spend(now)) return error
    }
    return core.load(name)
  }

  /**
   * The value of `key`: at once when warm; otherwise after its load (one load for every caller).
   * Rejects with the key's `LoadError` when that load fails, at once while the key is in its
   * backoff. `signal` and `timeout` end this caller's wait only.
   */
  fetch(key: K, options?: FetchOptions): Promise<V> {
    const core = this.#core
    let name: string
    try {
      name = this.#key(key)
    } catch (error) {
      return Promise.reject(error)
    }
    if (core.closed) return Promise.reject(new StoppedError(this.name, 'was removed'))
    const table = core.table
    const slot = table.read(name)
    if (slot !== -1) {
      const t = table.table
      t.setPhase(slot, t.phase(slot) | READ)
      const maxStale = core.options.settings.maxStale
      if (
        t.version(slot) > 0 &&
        (maxStale === Number.POSITIVE_INFINITY || core.now() - t.updatedAt(slot) <= maxStale)
      ) {
        core.hits++
        return Promise.resolve(t.valueAt(slot) as V)
      }
    }
    const now = core.now()
    core.misses++
    const flight =
      slot !== -1 && table.table.version(slot) > 0 ? core.load(name) : this.#coldLoad(name, slot, now)
    if (!('promise' in flight)) return Promise.reject(flight)
    return options === undefined ? flight.promise : this.#wait(flight.promise, options)
  }

  #wait(shared: Promise<V>, options: FetchOptions): Promise<V> {
    const { signal, timeout } = options
    const ms = timeout === undefined ? undefined : parseDuration(timeout, 'timeout')
    if (ms !== undefined && !(ms >= 0))
      return Promise.reject(new OptionRangeError('timeout', 'a duration >= 0', timeout))
    if (signal === undefined && ms === undefined) return shared
    if (signal?.aborted) return Promise.reject(signal.reason)
    const clock = this.#core.host.time.clock
    return new Promise<V>((resolve, reject) => {
      let timer: unknown
      const done = () => {
        if (timer !== undefined) clock.clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
      }
      const onAbort = () => {
        done()
        reject(signal?.reason)
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      if (ms !== undefined) {
        timer = clock.setTimeout(() => {
          done()
          reject(new LoadTimeoutError(this.name, ms))
        }, ms)
      }
      shared.then(
        (value) => {
          done()
          resolve(value)
        },
        (error: unknown) => {
          done()
          reject(error)
        },
      )
    })
  }

  /** A snapshot of `key`, or `undefined` when it is not held. Never loads; not a read. */
  peek(key: K): FamilyKeySnapshot<V> | undefined {
    const core = this.#core
    const name = this.#key(key)
    const slot = core.table.find(name)
    if (slot === -1) return undefined
    const t = core.table.table
    const time = core.host.time
    const hasValue = t.version(slot) > 0
    const now = time.now()
    const due = t.nextDueAt(slot)
    return {
      key: name,
      hasValue,
      value: t.valueAt(slot),
      version: t.version(slot),
      updatedAt: hasValue ? Math.round(time.toWall(t.updatedAt(slot))) : undefined,
      age: hasValue ? now - t.updatedAt(slot) : undefined,
      loading: core.flights.has(name) || isLoading((t.phase(slot) & ~READ) as Phase),
      consecutiveFailures: t.failures(slot),
      error: core.errors.get(name),
      nextRefreshAt: hasValue && due > 0 ? Math.round(time.toWall(due)) : undefined,
    }
  }

  /** Loads `key` now (joining a load in flight), whatever its backoff; not a read. */
  refresh(key: K): Promise<V> {
    const core = this.#core
    if (core.closed) return Promise.reject(new StoppedError(this.name, 'was removed'))
    return core.load(this.#key(key)).promise
  }

  /**
   * Pushes `value` for `key` through the same path as a load (version, `'change'` event, next
   * refresh one interval later). Creates a cold key; not a read.
   */
  set(key: K, value: V): void {
    const core = this.#core
    if (core.closed) return
    core.store(this.#key(key), value, core.now(), 'set')
  }

  /** Drops `key` (aborting its load in flight); true when it was held. */
  delete(key: K): boolean {
    const core = this.#core
    const name = this.#key(key)
    const flight = core.flights.get(name)
    if (flight !== undefined) core.abort(flight, 'its key was deleted')
    core.errors.delete(name)
    return core.table.delete(name)
  }

  /** Whether `key` is held with a value. Not a read. */
  has(key: K): boolean {
    const core = this.#core
    const slot = core.table.find(this.#key(key))
    return slot !== -1 && core.table.table.version(slot) > 0
  }

  /** Keys held (those loading for the first time included). */
  get size(): number {
    return this.#core.table.size
  }

  /** The keys held. */
  keys(): IterableIterator<string> {
    return this.#core.table.keys()
  }

  stats(): FamilyStats {
    const core = this.#core
    return {
      size: core.table.size,
      hits: core.hits,
      misses: core.misses,
      loads: core.loads,
      failures: core.failures,
      evictions: core.evictions,
      failing: core.errors.size,
    }
  }
}

/** The machine behind a handle, for the registry. */
export function coreOf<V, K>(family: Family<V, K>): FamilyCore<V> {
  return coreOfHandle(family)
}

/** A new family on the registry's `host`. */
export function newFamily<V, K>(
  name: string,
  loader: KeyLoader<V>,
  options: FamilySettings<K, V>,
  host: EngineHost,
): Family<V, K> {
  return newHandle(new FamilyCore(name, loader, options as FamilySettings<unknown, V>, host), options.key)
}
