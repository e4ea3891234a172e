import type { Cluster, Redis, RedisOptions } from 'ioredis'
import { type Duration, positiveDuration } from '../core/duration.js'
import { OptionRangeError, OptionTypeError, StoreError } from '../core/errors.js'
import type { EntryHead, FleetCoordinator, Lease } from '../stores/fleet.js'
import type { FleetStore, StoreContext, StoreEntry } from '../stores/store.js'
import { ACQUIRE, RELEASE, RELEASE_OWNED, RENEW, WRITE } from './scripts.js'

/** A client of ioredis: a single node, a Sentinel-managed one or a Cluster. */
export type RedisClient = Redis | Cluster

/** Options of {@link redisStore}. Give `client` or `url`, not both. */
export interface RedisStoreOptions {
  /** Your own ioredis client (single, Sentinel or Cluster). It is not closed by `close()`. */
  client?: RedisClient
  /** A Redis URL; the store opens (and closes) its own client. */
  url?: string
  /** Extra ioredis options for the client opened from `url`. */
  redisOptions?: RedisOptions
  /** Namespace of every key and of the channel. @default 'evergreen' */
  prefix?: string
  /**
   * How long a refresh lease lasts without renewal. It is renewed every third of it while a load
   * runs, and replicas waiting on another's load check again every third of it. @default '5s'
   */
  leaseTtl?: Duration
  /** Longest wait for one Redis command before it counts as failed. @default '1s' */
  commandTimeout?: Duration
  /** Turns a value into a string. @default JSON.stringify */
  serialize?: (value: unknown) => string
  /** Turns a stored string back into a value. @default JSON.parse, without `__proto__` keys */
  deserialize?: (text: string) => unknown
  /** Largest message accepted on the channel, in bytes; larger ones are ignored. @default 1024 */
  maxMessageBytes?: number
}

const DEFAULT_PREFIX = 'evergreen'
const DEFAULT_LEASE_TTL = 5_000
const DEFAULT_COMMAND_TIMEOUT = 1_000
const DEFAULT_MAX_MESSAGE = 1_024
const MAX_NAME_LENGTH = 1_024
const utf8 = new TextEncoder()

/** JSON.parse that drops keys able to reach a prototype when the result is merged somewhere. */
function safeParse(text: string): unknown {
  return JSON.parse(text, (key, value: unknown) =>
    key === '__proto__' || key === 'constructor' || key === 'prototype' ? undefined : value,
  )
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StoreError(`redis: ${what} timed out after ${ms} ms`)), ms)
    timer.unref()
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

function asStoreError(error: unknown, what: string, resource?: string): StoreError {
  return StoreError.wrap(error, `redis: ${what} failed`, resource)
}

/**
 * A store on Redis, shared by every replica: values, versions and load times under `prefix`, fenced
 * writes, refresh leases and change notifications (fleet mode).
 *
 * ```ts
 * import { redisStore } from 'evergreen-cache/redis'
 * const resources = new Resources({ interval: '10s', store: redisStore({ client, prefix: 'myapp' }) })
 * ```
 */
export function redisStore(options: RedisStoreOptions): FleetStore {
  if (typeof options !== 'object' || options === null)
    throw new OptionTypeError('options', 'an object', options)
  const { client: given, url } = options
  if ((given === undefined) === (url === undefined)) {
    throw new OptionTypeError('client', 'given, or else `url` (exactly one of them)', given ?? url)
  }
  if (url !== undefined && typeof url !== 'string')
    throw new OptionTypeError('url', 'a redis:// URL string', url)
  const prefix = options.prefix ?? DEFAULT_PREFIX
  if (typeof prefix !== 'string' || prefix.length === 0)
    throw new OptionTypeError('prefix', 'a non-empty string', prefix)
  const leaseTtl =
    options.leaseTtl === undefined ? DEFAULT_LEASE_TTL : positiveDuration(options.leaseTtl, 'leaseTtl', false)
  const commandTimeout =
    options.commandTimeout === undefined
      ? DEFAULT_COMMAND_TIMEOUT
      : positiveDuration(options.commandTimeout, 'commandTimeout', false)
  const serialize = options.serialize ?? ((value: unknown) => JSON.stringify(value))
  const deserialize = options.deserialize ?? safeParse
  const maxMessage = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE
  const channel = `${prefix}:changes`
  const owner = globalThis.crypto.randomUUID()
  let acquires = 0
  const keys = (name: string) => {
    const base = `${prefix}:{${name}}`
    return { value: `${base}:value`, lease: `${base}:lease`, fence: `${base}:fence` }
  }

  let contexts: StoreContext[] = []
  const report = (error: unknown) => {
    for (const context of contexts) context.reportError(asStoreError(error, 'connection'))
  }

  // A client we open ourselves fails fast while Redis is away, instead of queueing commands.
  let clientPromise: Promise<RedisClient> | undefined
  let ownClient: RedisClient | undefined
  const client = (): Promise<RedisClient> => {
    if (given !== undefined) return Promise.resolve(given)
    clientPromise ??= import('ioredis').then(
      ({ Redis: RedisCtor }) => {
        // close() may have come while ioredis was loading: open nothing then.
        if (closed) throw new StoreError('redis store is closed')
        const created = new RedisCtor(url!, {
          enableOfflineQueue: false,
          maxRetriesPerRequest: 1,
          commandTimeout,
          retryStrategy: (times) => Math.min(times * 200, 2_000),
          ...options.redisOptions,
        })
        created.on('error', report)
        ownClient = created
        return created
      },
      (error: unknown) => {
        clientPromise = undefined
        throw new StoreError('redisStore({ url }) needs the ioredis package: npm install ioredis', {
          cause: error,
        })
      },
    )
    return clientPromise
  }

  // Our client does not queue commands while disconnected, so a command waits for the connection
  // (bounded by the command timeout). One shared wait, so waiting commands add no listeners.
  let readyWait: Promise<void> | undefined
  const connected = (c: RedisClient): RedisClient | Promise<RedisClient> => {
    if (c !== ownClient || c.status === 'ready') return c
    readyWait ??= new Promise<void>((resolve) => {
      c.once('ready', () => {
        readyWait = undefined
        resolve()
      })
    })
    return readyWait.then(() => c)
  }

  let closed = false
  const run = async <T>(what: string, resource: string | undefined, fn: (c: RedisClient) => Promise<T>) => {
    if (closed) throw new StoreError('redis store is closed', { resource })
    try {
      return await withTimeout(
        client()
          .then(connected)
          .then((c) => fn(c)),
        commandTimeout,
        what,
      )
    } catch (error) {
      throw asStoreError(error, what, resource)
    }
  }

  // Notifications arrive on a connection of their own (a subscribed connection can run nothing else).
  const listeners = new Set<(name: string, version: number) => void>()
  let subscriber: RedisClient | undefined
  const onMessage = (from: string, message: string) => {
    // A UTF-8 character takes up to 3 bytes per UTF-16 unit: measure bytes only when it matters.
    if (from !== channel || message.length > maxMessage) return
    if (message.length * 3 > maxMessage && utf8.encode(message).length > maxMessage) return
    let parsed: unknown
    try {
      parsed = JSON.parse(message)
    } catch {
      return
    }
    if (typeof parsed !== 'object' || parsed === null) return
    const { n, v } = parsed as { n?: unknown; v?: unknown }
    if (typeof n !== 'string' || n.length === 0 || n.length > MAX_NAME_LENGTH) return
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) return
    for (const listener of listeners) {
      try {
        listener(n, v)
      } catch (error) {
        report(error)
      }
    }
  }
  const subscribe = () => {
    if (subscriber !== undefined || closed) return
    void client().then(
      (c) => {
        if (closed || subscriber !== undefined) return
        // The subscription must wait for the connection, whatever the main client's queueing.
        const sub: RedisClient =
          'nodes' in c && typeof c.nodes === 'function'
            ? (c as Cluster).duplicate()
            : (c as Redis).duplicate({ enableOfflineQueue: true })
        subscriber = sub
        sub.on('error', report)
        sub.on('message', onMessage)
        sub.subscribe(channel).catch(report)
      },
      (error: unknown) => report(error),
    )
  }

  const fleet: FleetCoordinator = {
    leaseTtl,
    head: (name) =>
      run('head', name, async (c) => {
        const [version, loadedAt] = await c.hmget(keys(name).value, 'version', 'loadedAt')
        if (version === null || version === undefined) return undefined
        const head: EntryHead = { version: Number(version), loadedAt: Number(loadedAt) }
        return Number.isSafeInteger(head.version) && Number.isFinite(head.loadedAt) ? head : undefined
      }),
    acquire: (name, floor) => {
      const k = keys(name)
      // Each attempt is an owner of its own, so the hand-back below frees only what this attempt took,
      // never a lease the same store holds for another caller (two registries on one store object).
      const taker = `${owner}/${++acquires}`
      const attempt = run('acquire', name, async (c) => {
        const result = (await c.eval(ACQUIRE, 3, k.lease, k.fence, k.value, taker, leaseTtl, floor)) as [
          number,
          number,
        ]
        if (result[0] !== 1) return undefined
        const token = Number(result[1])
        const held = `${taker}:${token}`
        const lease: Lease = {
          token,
          renew: () =>
            run('renew', name, async (r) => (await r.eval(RENEW, 1, k.lease, held, leaseTtl)) === 1),
          release: () =>
            run('release', name, async (r) => {
              await r.eval(RELEASE, 1, k.lease, held)
            }),
        }
        return lease
      })
      // An ACQUIRE whose reply did not come in time may still run (Redis paused or slow, a client that
      // queues): the lease it would take is handed back by the next command on the same connection,
      // so it does not block the resource for a whole leaseTtl with nobody loading. Best effort: if
      // Redis is down, there is no such lease to hand back.
      attempt.catch(() => {
        run('release', name, (c) => c.eval(RELEASE_OWNED, 1, k.lease, taker)).catch(() => {})
      })
      return attempt
    },
    watch(listener) {
      listeners.add(listener)
      subscribe()
      return () => {
        listeners.delete(listener)
      }
    },
  }

  return {
    fleet,
    attach(context) {
      contexts = [...contexts, context]
    },
    get: (name) =>
      run('get', name, async (c) => {
        const [version, loadedAt, payload] = await c.hmget(keys(name).value, 'version', 'loadedAt', 'value')
        if (version === null || version === undefined || payload === null || payload === undefined)
          return undefined
        let value: unknown
        try {
          value = deserialize(payload)
        } catch (error) {
          throw new StoreError(`redis: the saved value of "${name}" cannot be decoded`, {
            resource: name,
            cause: error,
          })
        }
        const entry: StoreEntry = { value, version: Number(version), loadedAt: Number(loadedAt) }
        return entry
      }),
    set: (name, entry) => {
      let payload: string
      try {
        payload = serialize(entry.value)
        if (typeof payload !== 'string') throw new TypeError(`serialize returned ${typeof payload}`)
      } catch (error) {
        return Promise.reject(
          new StoreError(`redis: the value of "${name}" cannot be serialised`, {
            resource: name,
            cause: error,
          }),
        )
      }
      const message = JSON.stringify({ n: name, v: entry.version })
      return run('write', name, async (c) => {
        const written = await c.eval(
          WRITE,
          1,
          keys(name).value,
          entry.version,
          entry.loadedAt,
          payload,
          channel,
          message,
        )
        return written === 1
      })
    },
    delete: (name) =>
      run('delete', name, async (c) => {
        const k = keys(name)
        await c.del(k.value, k.lease, k.fence)
      }),
    list: () =>
      run('list', undefined, async (c) => {
        const nodes =
          'nodes' in c && typeof c.nodes === 'function' ? (c as Cluster).nodes('master') : [c as Redis]
        const names = new Set<string>()
        const pattern = `${prefix}:{*}:value`
        for (const node of nodes) {
          let cursor = '0'
          do {
            const [next, found] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 500)
            cursor = next
            for (const key of found) names.add(key.slice(prefix.length + 2, -'}:value'.length))
          } while (cursor !== '0')
        }
        return [...names]
      }),
    async close() {
      if (closed) return
      closed = true
      listeners.clear()
      subscriber?.disconnect()
      subscriber = undefined
      if (ownClient !== undefined) ownClient.disconnect()
    },
    reopen() {
      if (!closed) return
      closed = false
      // A client we opened was disconnected by close(): the next command opens a new one. The
      // subscriber connection comes back with the next watch().
      clientPromise = undefined
      ownClient = undefined
      readyWait = undefined
    },
  }
}
