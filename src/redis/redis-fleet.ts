import { StoreError } from '../core/errors.js'
import type { EntryHead, FleetCoordinator, Lease } from '../stores/fleet.js'
import { keysOf } from './entry.js'
import { ACQUIRE, RELEASE, RELEASE_OWNED, RENEW, TOKEN } from './scripts.js'
import type { RedisEnv, RedisValueStore } from './value-store.js'

const MAX_NAME_LENGTH = 1_024
const utf8 = new TextEncoder()

/**
 * Fleet coordination on Redis: the head of each shared entry, refresh leases with fencing tokens,
 * and the announcements of new versions on `<prefix>:changes`. It stores no values: heads come from
 * the value store, and announcements are published by its fenced writes.
 */
export class RedisFleet implements FleetCoordinator {
  readonly leaseTtl: number
  readonly #env: RedisEnv
  readonly #values: RedisValueStore
  /** This store's random id; each `ACQUIRE` is an owner of its own under it. */
  readonly #owner = globalThis.crypto.randomUUID()
  #acquires = 0
  readonly #listeners = new Set<(name: string, version: number) => void>()
  readonly #channel: string

  constructor(env: RedisEnv, values: RedisValueStore) {
    this.#env = env
    this.#values = values
    this.leaseTtl = env.settings.leaseTtl
    this.#channel = `${env.settings.prefix}:changes`
  }

  head(name: string): Promise<EntryHead | undefined> {
    return this.#values.head(name)
  }

  acquire(name: string, floor: number): Promise<Lease | undefined> {
    const { connection, settings } = this.#env
    if (!Number.isSafeInteger(floor) || floor < 0) {
      return Promise.reject(new StoreError(`redis: acquire with a floor of ${floor}`, { resource: name }))
    }
    const keys = keysOf(settings.prefix, name)
    const ttl = this.leaseTtl
    // Each attempt is an owner of its own, so the hand-back below frees only what this attempt took,
    // never a lease the same store holds for another caller (two registries on one store object).
    const taker = `${this.#owner}/${++this.#acquires}`
    const attempt = connection.run('acquire', name, async (client) => {
      const reply = (await ACQUIRE.run(
        client,
        [keys.lease, keys.fence, keys.value],
        [taker, ttl, floor],
      )) as unknown[]
      if (reply[0] !== 1) {
        if (reply[2] === 1) {
          this.#env.report(
            new StoreError(
              `redis: the lease of "${name}" had no expiry (a restore that dropped TTLs, or a hand-made key): it now expires in ${ttl} ms`,
              { resource: name },
            ),
            name,
          )
        }
        return undefined
      }
      const token = reply[1]
      if (typeof token !== 'number' || !Number.isSafeInteger(token) || token <= floor) {
        throw new StoreError(`redis: acquire gave the token ${String(token)}`, { resource: name })
      }
      const held = `${taker}:${token}`
      const lease: Lease = {
        token,
        renew: () =>
          connection.run('renew', name, async (c) => (await RENEW.run(c, [keys.lease], [held, ttl])) === 1),
        release: () =>
          connection.run('release', name, async (c) => {
            await RELEASE.run(c, [keys.lease], [held])
          }),
      }
      return lease
    })
    // An ACQUIRE whose reply did not come in time may still run (Redis paused or slow, a client that
    // queues): the lease it would take is handed back by the next command on the same connection,
    // so it does not block the resource for a whole leaseTtl with nobody loading. Best effort: if
    // Redis is down, there is no such lease to hand back.
    attempt.catch(() => {
      connection.run('release', name, (c) => RELEASE_OWNED.run(c, [keys.lease], [taker])).catch(() => {})
    })
    return attempt
  }

  token(name: string, floor: number): Promise<number> {
    const { connection, settings } = this.#env
    if (!Number.isSafeInteger(floor) || floor < 0) {
      return Promise.reject(new StoreError(`redis: token with a floor of ${floor}`, { resource: name }))
    }
    const keys = keysOf(settings.prefix, name)
    return connection.run('token', name, async (client) => {
      const token = await TOKEN.run(client, [keys.fence, keys.value], [floor])
      if (typeof token !== 'number' || !Number.isSafeInteger(token) || token <= floor) {
        throw new StoreError(`redis: token gave ${String(token)}`, { resource: name })
      }
      return token
    })
  }

  watch(listener: (name: string, version: number) => void): () => void {
    this.#listeners.add(listener)
    this.#env.connection.subscribe(this.#channel, this.#onMessage)
    return () => {
      this.#listeners.delete(listener)
    }
  }

  /** Forgets every watcher (the store closed). */
  clear(): void {
    this.#listeners.clear()
  }

  /** An announcement `{n: name, v: version}`; anything else on the channel is ignored. */
  readonly #onMessage = (from: string, message: string): void => {
    const max = this.#env.settings.maxMessageBytes
    // A UTF-8 character takes up to 3 bytes per UTF-16 unit: measure bytes only when it matters.
    if (from !== this.#channel || message.length > max) return
    if (message.length * 3 > max && utf8.encode(message).length > max) return
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
    for (const listener of this.#listeners) {
      try {
        listener(n, v)
      } catch (error) {
        this.#env.report(this.#env.connection.failure(error, 'a watcher'))
      }
    }
  }
}
