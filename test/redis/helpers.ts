/**
 * Builders for the Redis tests: one real server per test file, ioredis clients and stores that are
 * closed after the file, a fresh key prefix per store, and waits on a condition with a deadline.
 */
import { Redis, type RedisOptions } from 'ioredis'
import { afterAll, beforeAll } from 'vitest'
import { type RedisStoreOptions, redisStore } from '../../src/redis/index.js'
import type { FleetStore } from '../../src/stores/store.js'
import { type RedisServer, startRedis } from './redis-server.js'

let prefixes = 0
/** A key prefix no other store of this process uses, so tests never see each other's keys. */
export const freshPrefix = (label = 'test'): string => `${label}-${process.pid}-${++prefixes}`

/** What a test file uses: its server, and builders whose products are closed after the file. */
export interface RedisFixture {
  readonly server: RedisServer
  /** An ioredis client of the test's own (never closed by a store). */
  client(options?: RedisOptions): Redis
  /** A store on a fresh prefix unless one is given; closed after the file if the test did not. */
  store(options?: Partial<RedisStoreOptions> & { via?: 'client' | 'url' }): FleetStore
}

/**
 * Starts a `redis-server` for the calling test file (beforeAll) and stops it with every client and
 * store built from the fixture (afterAll).
 */
export function useRedis(): RedisFixture {
  let server: RedisServer | undefined
  const clients: Redis[] = []
  const stores: FleetStore[] = []
  beforeAll(async () => {
    server = await startRedis()
  }, 20_000)
  afterAll(async () => {
    await Promise.allSettled(stores.map((s) => s.close()))
    for (const c of clients) c.disconnect()
    await server?.stop()
  }, 20_000)
  const running = () => {
    if (server === undefined) throw new Error('the Redis server of this file did not start (see beforeAll)')
    return server
  }
  const fixture: RedisFixture = {
    get server() {
      return running()
    },
    client(options = {}) {
      const c = new Redis({
        host: '127.0.0.1',
        port: running().port,
        retryStrategy: (times) => Math.min(times * 50, 500),
        ...options,
      })
      // Connection errors during injected faults are expected; the stores report their own.
      c.on('error', () => {})
      clients.push(c)
      return c
    },
    store(options = {}) {
      const { via = 'client', ...rest } = options
      const base = { prefix: freshPrefix(), ...rest }
      const s =
        via === 'url'
          ? redisStore({ url: running().url, ...base })
          : redisStore({ client: rest.client ?? fixture.client(), ...base })
      stores.push(s)
      return s
    },
  }
  return fixture
}

/** Resolves once `predicate()` is true; rejects with `message` after `timeoutMs`. */
export async function until(predicate: () => boolean | Promise<boolean>, timeoutMs: number, message: string) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await predicate()) return
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${message}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** Real time passing (for leases expiring on the server, which runs on its own clock). */
export const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** How long `promise` takes to settle, and how. */
export async function timed<T>(
  promise: Promise<T>,
): Promise<{ ms: number; value?: T; error?: unknown; ok: boolean }> {
  const started = performance.now()
  try {
    const value = await promise
    return { ms: performance.now() - started, value, ok: true }
  } catch (error) {
    return { ms: performance.now() - started, error, ok: false }
  }
}

let barriers = 0
/**
 * Resolves once `store` hears its channel: publishes probes until one arrives, then a last one, so
 * every probe has been delivered (one connection delivers in order) before the test listens.
 */
export async function subscribed(store: FleetStore, publisher: Redis, prefix: string): Promise<void> {
  const id = `barrier-${++barriers}`
  const heard = new Set<number>()
  const unsubscribe = store.fleet.watch((name, version) => {
    if (name === id) heard.add(version)
  })
  try {
    let probe = 0
    await until(
      async () => {
        await publisher.publish(`${prefix}:changes`, JSON.stringify({ n: id, v: ++probe }))
        return heard.size > 0
      },
      5_000,
      `the store subscribes to ${prefix}:changes`,
    )
    const last = ++probe
    await publisher.publish(`${prefix}:changes`, JSON.stringify({ n: id, v: last }))
    await until(() => heard.has(last), 2_000, 'the last probe arrives')
  } finally {
    unsubscribe()
  }
}
