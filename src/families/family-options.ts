import { parseDuration } from '../core/duration.js'
import { OptionRangeError, OptionTypeError } from '../core/errors.js'
import type { ResourceOptions, Settings } from '../core/options.js'
import { resolveSettings } from '../core/options.js'
import { MAX_KEYS_LIMIT } from './family-table.js'
import type { SizeOf } from './weigh.js'

/** Options of `resources.family()`: every option of `define()` applies per key, plus these. */
export interface FamilyOptions<K, V>
  extends Omit<ResourceOptions<V>, 'store' | 'persist' | 'maxRestoredAge' | 'critical'> {
  /** Most keys held; `size` never exceeds it. An integer from 1 to 2^30. @default 10000 */
  maxKeys?: number
  /** Most summed `sizeOf` held, when given. A finite number > 0. @default none */
  maxSize?: number
  /** The size of a value for `maxSize` (a finite number >= 0). Required with `maxSize`. */
  sizeOf?: SizeOf<V>
  /**
   * A key not read (`get`, `fetch`) for this long stops refreshing and is dropped at its next due
   * refresh. Positive. @default 5 × interval
   */
  idleTimeout?: number | string
  /**
   * Loads per second, across the family, of keys whose last load failed: when a backend is down,
   * its failing keys are retried at most this often together. Positive. @default 10
   */
  failureBudget?: number
  /** Eviction policy: W-TinyLFU with an adaptive window, or plain LRU. @default 'tinylfu' */
  policy?: 'tinylfu' | 'lru'
  /** Turns a key that is not a string or number into its string. @default none (only strings and numbers) */
  key?: (key: K) => string
}

/** A family's resolved options. */
export interface FamilySettings<K, V> {
  readonly settings: Settings
  readonly maxKeys: number
  readonly maxSize: number | undefined
  readonly sizeOf: SizeOf<V> | undefined
  readonly idleTimeout: number
  readonly failureBudget: number
  readonly policy: 'tinylfu' | 'lru'
  readonly key: ((key: K) => string) | undefined
}

const FAMILY_KEYS = ['maxKeys', 'maxSize', 'sizeOf', 'idleTimeout', 'failureBudget', 'policy', 'key'] as const

/** Validates a family's options over the registry's `defaults`; errors name the option and the family. */
export function resolveFamilySettings<K, V>(
  defaults: Settings,
  raw: unknown,
  name: string,
): FamilySettings<K, V> {
  if (raw !== undefined && (typeof raw !== 'object' || raw === null)) {
    throw new OptionTypeError(`options" of family "${name}`, 'an object', raw)
  }
  const input = { ...(raw as Record<string, unknown> | undefined) }
  const own: Record<string, unknown> = {}
  for (const key of FAMILY_KEYS) {
    own[key] = input[key]
    delete input[key]
  }
  for (const key of ['store', 'persist', 'maxRestoredAge', 'critical']) {
    if (input[key] !== undefined)
      throw new OptionTypeError(
        `${key}" of family "${name}`,
        'not given: families do not support it yet',
        input[key],
      )
  }
  const label = (key: string) => `${key}" of family "${name}`
  const settings = resolveSettings({ ...defaults, store: undefined, critical: false }, input, name)
  const maxKeys = own.maxKeys === undefined ? 10_000 : own.maxKeys
  if (typeof maxKeys !== 'number' || !Number.isInteger(maxKeys) || maxKeys < 1 || maxKeys > MAX_KEYS_LIMIT) {
    throw new OptionRangeError(label('maxKeys'), `an integer from 1 to ${MAX_KEYS_LIMIT}`, maxKeys)
  }
  const maxSize = own.maxSize
  if (maxSize !== undefined && !(typeof maxSize === 'number' && maxSize > 0 && maxSize < Infinity)) {
    throw new OptionRangeError(label('maxSize'), 'a finite number > 0', maxSize)
  }
  const sizeOf = own.sizeOf
  if (sizeOf !== undefined && typeof sizeOf !== 'function')
    throw new OptionTypeError(label('sizeOf'), 'a function', sizeOf)
  if (maxSize !== undefined && sizeOf === undefined)
    throw new OptionTypeError(label('sizeOf'), 'a function (maxSize needs it)', sizeOf)
  const idleTimeout =
    own.idleTimeout === undefined
      ? 5 * settings.interval
      : parseDuration(own.idleTimeout, label('idleTimeout'))
  if (!(idleTimeout > 0))
    throw new OptionRangeError(label('idleTimeout'), 'a positive duration', own.idleTimeout)
  const failureBudget = own.failureBudget === undefined ? 10 : own.failureBudget
  if (typeof failureBudget !== 'number' || !(failureBudget > 0)) {
    throw new OptionRangeError(label('failureBudget'), 'a number > 0 (loads per second)', failureBudget)
  }
  const policy = own.policy === undefined ? 'tinylfu' : own.policy
  if (policy !== 'tinylfu' && policy !== 'lru')
    throw new OptionTypeError(label('policy'), '"tinylfu" or "lru"', policy)
  const key = own.key
  if (key !== undefined && typeof key !== 'function')
    throw new OptionTypeError(label('key'), 'a function', key)
  return {
    settings,
    maxKeys,
    maxSize: maxSize as number | undefined,
    sizeOf: sizeOf as SizeOf<V> | undefined,
    idleTimeout,
    failureBudget,
    policy,
    key: key as ((key: K) => string) | undefined,
  }
}
