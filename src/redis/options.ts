import type { Cluster, Redis, RedisOptions } from 'ioredis'
import { type Duration, positiveDuration } from '../core/duration.js'
import { OptionRangeError, OptionTypeError } from '../core/errors.js'
import { jsonCodec } from '../stores/codec.js'
import { isInstance, optionSecrets, Redactor, urlSecrets } from './redact.js'

/** A client of ioredis: a single node, a Sentinel-managed one or a Cluster. */
export type RedisClient = Redis | Cluster

/** Options of `redisStore`. Give `client` or `url`, not both, and always a `prefix`. */
export interface RedisStoreOptions {
  /** Your own ioredis client (single, Sentinel or Cluster). It is not closed by `close()`. */
  client?: RedisClient
  /** A `redis://` or `rediss://` URL; the store opens (and closes) its own client. */
  url?: string
  /** Extra ioredis options for the client opened from `url`. */
  redisOptions?: RedisOptions
  /**
   * Namespace of every key and of the channel: one per application sharing a Redis. Required, so
   * two applications never share a namespace by default. Taken literally (no glob characters).
   */
  prefix: string
  /**
   * How long a refresh lease lasts without renewal. It is renewed every third of it while a load
   * runs, and replicas waiting on another's load check again every third of it. Positive. @default '5s'
   */
  leaseTtl?: Duration
  /** Longest wait for one Redis command before it counts as failed. Positive. @default '1s' */
  commandTimeout?: Duration
  /** Turns a value into a string. @default JSON (`undefined` kept), as `jsonCodec` */
  serialize?: (value: unknown) => string
  /** Turns a stored string back into a value. @default JSON without `__proto__` keys, as `jsonCodec` */
  deserialize?: (text: string) => unknown
  /** Largest message accepted on the channel, in bytes; larger ones are ignored. A positive integer. @default 1024 */
  maxMessageBytes?: number
  /**
   * Largest serialised value written or read, in UTF-8 bytes; larger ones are refused with a
   * `StoreError` naming the resource and the size. A positive integer or `Infinity`. @default 1 MiB
   */
  maxValueBytes?: number
}

/** Every default of the Redis store in one place. */
export const REDIS_DEFAULTS = {
  leaseTtl: 5_000,
  commandTimeout: 1_000,
  maxMessageBytes: 1_024,
  maxValueBytes: 1_048_576,
} as const

/** Validated settings of one Redis store. */
export interface RedisSettings {
  readonly client: RedisClient | undefined
  readonly url: string | undefined
  readonly redisOptions: RedisOptions | undefined
  readonly prefix: string
  readonly leaseTtl: number
  readonly commandTimeout: number
  readonly serialize: (value: unknown) => string
  readonly deserialize: (text: string) => unknown
  readonly maxMessageBytes: number
  readonly maxValueBytes: number
  /** Masks the passwords of this store's connection in everything it hands out. */
  readonly redactor: Redactor
}

const KEYS = new Set([
  'client',
  'url',
  'redisOptions',
  'prefix',
  'leaseTtl',
  'commandTimeout',
  'serialize',
  'deserialize',
  'maxMessageBytes',
  'maxValueBytes',
])

const isClient = (value: unknown): value is RedisClient =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as { eval?: unknown }).eval === 'function' &&
  typeof (value as { duplicate?: unknown }).duplicate === 'function'

/** A URL string as it may be quoted: everything up to its last `@` (user-info, if any) masked. */
const maskedUrl = (url: string, redactor: Redactor): string => {
  const at = url.lastIndexOf('@')
  return redactor.text(at === -1 ? url : `***${url.slice(at)}`)
}

function positiveInteger(value: unknown, option: string, allowInfinity: boolean): number {
  if (typeof value !== 'number' || Number.isNaN(value)) throw new OptionTypeError(option, 'a number', value)
  const ok =
    (allowInfinity && value === Number.POSITIVE_INFINITY) || (Number.isSafeInteger(value) && value > 0)
  if (!ok) {
    throw new OptionRangeError(
      option,
      allowInfinity ? 'a positive integer or Infinity' : 'a positive integer',
      value,
    )
  }
  return value
}

function fn<F>(value: unknown, option: string, fallback: F): F {
  if (value === undefined) return fallback
  if (typeof value !== 'function') throw new OptionTypeError(option, 'a function', value)
  return value as F
}

/**
 * Validates the options of `redisStore` and fills in the defaults. Errors are `OptionTypeError` or
 * `OptionRangeError` naming the option; a URL or client is never quoted with its password.
 */
export function resolveRedisOptions(raw: unknown): RedisSettings {
  if (typeof raw !== 'object' || raw === null) throw new OptionTypeError('options', 'an object', raw)
  const input = raw as Record<string, unknown>
  const { client, url, redisOptions } = input
  // Secrets first: every later error is redacted with them.
  const redactor = new Redactor([
    ...(typeof url === 'string' ? urlSecrets(url) : isInstance(url, URL) ? urlSecrets(url.href) : []),
    ...optionSecrets(redisOptions),
    ...(isClient(client) ? optionSecrets((client as { options?: unknown }).options) : []),
  ])
  for (const key of Object.keys(input)) {
    if (!KEYS.has(key)) throw new OptionTypeError(key, 'a known option of redisStore (it is not one)', key)
  }
  if (client !== undefined && !isClient(client)) {
    throw new OptionTypeError('client', 'an ioredis client (Redis or Cluster)', redactor.received(client))
  }
  if (url !== undefined) {
    if (typeof url !== 'string') {
      const quoted = isInstance(url, URL) ? maskedUrl(url.href, redactor) : redactor.received(url)
      throw new OptionTypeError('url', 'a redis:// or rediss:// URL string', quoted)
    }
    if (!URL.canParse(url) || !/^rediss?:$/.test(new URL(url).protocol)) {
      throw new OptionTypeError('url', 'a redis:// or rediss:// URL string', maskedUrl(url, redactor))
    }
  }
  if ((client === undefined) === (url === undefined)) {
    throw new OptionTypeError(
      'client',
      'given, or else `url` (exactly one of them)',
      client === undefined ? undefined : 'a client and a url',
    )
  }
  if (redisOptions !== undefined && (typeof redisOptions !== 'object' || redisOptions === null)) {
    throw new OptionTypeError('redisOptions', 'an object of ioredis options', redisOptions)
  }
  if (redisOptions !== undefined && client !== undefined) {
    throw new OptionTypeError(
      'redisOptions',
      'given only with `url` (your client has its own)',
      '[object Object]',
    )
  }
  const { prefix } = input
  if (prefix === undefined) {
    throw new OptionTypeError(
      'prefix',
      "given: a namespace of this application's keys, such as 'myapp' (two applications on one Redis must not share one)",
      prefix,
    )
  }
  if (typeof prefix !== 'string' || prefix.length === 0 || prefix.length > 256) {
    throw new OptionTypeError('prefix', 'a non-empty string of at most 256 characters', prefix)
  }
  return {
    client: client as RedisClient | undefined,
    url: url as string | undefined,
    redisOptions: redisOptions as RedisOptions | undefined,
    prefix,
    leaseTtl:
      input.leaseTtl === undefined
        ? REDIS_DEFAULTS.leaseTtl
        : positiveDuration(input.leaseTtl, 'leaseTtl', false),
    commandTimeout:
      input.commandTimeout === undefined
        ? REDIS_DEFAULTS.commandTimeout
        : positiveDuration(input.commandTimeout, 'commandTimeout', false),
    serialize: fn(input.serialize, 'serialize', jsonCodec.encode),
    deserialize: fn(input.deserialize, 'deserialize', jsonCodec.decode),
    maxMessageBytes:
      input.maxMessageBytes === undefined
        ? REDIS_DEFAULTS.maxMessageBytes
        : positiveInteger(input.maxMessageBytes, 'maxMessageBytes', false),
    maxValueBytes:
      input.maxValueBytes === undefined
        ? REDIS_DEFAULTS.maxValueBytes
        : positiveInteger(input.maxValueBytes, 'maxValueBytes', true),
    redactor,
  }
}
