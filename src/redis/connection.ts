import type { Cluster, Redis } from 'ioredis'
import { StoreError } from '../core/errors.js'
import type { RedisClient, RedisSettings } from './options.js'
import { isInstance } from './redact.js'

/** Where the connection reports what goes wrong in the background (the registries using the store). */
export type Report = (error: StoreError, resource?: string) => void

const isCluster = (client: RedisClient): client is Cluster =>
  'nodes' in client && typeof (client as { nodes?: unknown }).nodes === 'function'

/**
 * The connections of one Redis store: the client (the caller's, or one it opens from a URL and
 * owns), and a subscriber connection of its own for the channel. Every command goes through
 * {@link RedisConnection.run}, bounded by the command timeout, and fails as a `StoreError` whose
 * message and cause carry no password. `close()` disconnects what it opened once the commands
 * already sent are answered; `reopen()` lets the next command open it again.
 */
export class RedisConnection {
  readonly #settings: RedisSettings
  readonly #report: Report
  #closed = false
  /** Our own client (from `url`), opened by the first command. */
  #opening: Promise<RedisClient> | undefined
  #own: RedisClient | undefined
  /** One shared wait for our client's connection, so waiting commands add no listeners. */
  #ready: Promise<void> | undefined
  /** Commands under way on our client, each settled within the command timeout. */
  #running = new Set<Promise<unknown>>()
  #subscriber: RedisClient | undefined

  constructor(settings: RedisSettings, report: Report) {
    this.#settings = settings
    this.#report = report
  }

  get closed(): boolean {
    return this.#closed
  }

  /**
   * Runs `command` on the client, bounded by the command timeout. Rejects with a `StoreError` naming
   * `what` and `resource`, whose cause is a redacted copy of the client's error.
   */
  async run<T>(
    what: string,
    resource: string | undefined,
    command: (client: RedisClient) => Promise<T>,
  ): Promise<T> {
    if (this.#closed) throw new StoreError('redis store is closed', { resource })
    const ms = this.#settings.commandTimeout
    let timer: ReturnType<typeof setTimeout> | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new StoreError(`redis: ${what} timed out after ${ms} ms`, { resource })),
        ms,
      )
      timer.unref()
    })
    const attempt = this.#client()
      .then((client) => this.#connected(client))
      .then(command)
    const bounded = Promise.race([attempt, timeout])
    const running = this.#running
    running.add(bounded)
    try {
      return await bounded
    } catch (error) {
      throw this.failure(error, what, resource)
    } finally {
      clearTimeout(timer)
      running.delete(bounded)
    }
  }

  /** `error` as a `StoreError` that says what failed, with no password in its message or cause. */
  failure(error: unknown, what: string, resource?: string): StoreError {
    if (isInstance(error, StoreError)) return error
    const cause = this.#settings.redactor.error(error)
    return new StoreError(`redis: ${what} failed: ${cause.message}`, { resource, cause })
  }

  /**
   * Listens on `channel` through a connection of its own (a subscribed connection can run nothing
   * else), opened once; `onMessage` gets every message. Nothing after `close()`.
   */
  subscribe(channel: string, onMessage: (channel: string, message: string) => void): void {
    if (this.#subscriber !== undefined || this.#closed) return
    this.#client().then(
      (client) => {
        if (this.#closed || this.#subscriber !== undefined) return
        // The subscription waits for the connection, whatever the main client's queueing. A closed
        // duplicate must not keep the process alive (ioredis's disconnect timer is referenced).
        const subscriber: RedisClient = isCluster(client)
          ? client.duplicate([], {
              redisOptions: { ...client.options.redisOptions, disconnectTimeout: 0 },
            })
          : (client as Redis).duplicate({ enableOfflineQueue: true, disconnectTimeout: 0 })
        this.#subscriber = subscriber
        subscriber.on('error', (error: unknown) => this.#report(this.failure(error, 'subscriber connection')))
        subscriber.on('message', onMessage)
        subscriber.subscribe(channel).catch((error: unknown) => {
          // Cut by close(): nobody listens any more.
          if (this.#subscriber === subscriber) this.#report(this.failure(error, 'subscribe'))
        })
      },
      (error: unknown) => this.#report(this.failure(error, 'connection')),
    )
  }

  /**
   * Refuses new commands, disconnects the subscriber and, once the commands under way are settled
   * (within the command timeout), the client the store opened (never the caller's). Cutting them
   * would fail them with "Connection is closed." after a reopen, where they would be reported as
   * errors of the reopened store. Idempotent.
   */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve()
    this.#closed = true
    this.#subscriber?.disconnect()
    this.#subscriber = undefined
    const own = this.#own
    const running = [...this.#running]
    this.#running = new Set()
    if (own === undefined) return Promise.resolve()
    // Commands waiting for a connection that is not there would only time out: not worth waiting for.
    if (running.length === 0 || own.status !== 'ready') {
      own.disconnect()
      return Promise.resolve()
    }
    return Promise.allSettled(running).then(() => own.disconnect())
  }

  /** After `close()`: the next command opens a new client (if the store owns one), the next subscribe a new subscriber. */
  reopen(): void {
    if (!this.#closed) return
    this.#closed = false
    this.#opening = undefined
    this.#own = undefined
    this.#ready = undefined
  }

  #client(): Promise<RedisClient> {
    const { client, url, redisOptions, commandTimeout } = this.#settings
    if (client !== undefined) return Promise.resolve(client)
    this.#opening ??= import('ioredis').then(
      ({ Redis: RedisCtor }) => {
        // close() may have come while ioredis was loading: open nothing then.
        if (this.#closed) throw new StoreError('redis store is closed')
        // Fails fast while Redis is away instead of queueing commands; a disconnect never waits
        // on a timer that keeps the process alive.
        const created = new RedisCtor(url!, {
          enableOfflineQueue: false,
          maxRetriesPerRequest: 1,
          commandTimeout,
          disconnectTimeout: 0,
          retryStrategy: (times) => Math.min(times * 200, 2_000),
          ...redisOptions,
        })
        created.on('error', (error: unknown) => this.#report(this.failure(error, 'connection')))
        this.#own = created
        return created
      },
      (error: unknown) => {
        this.#opening = undefined
        throw new StoreError('redisStore({ url }) needs the ioredis package: npm install ioredis', {
          cause: this.#settings.redactor.error(error),
        })
      },
    )
    return this.#opening
  }

  /** Our client does not queue while disconnected: a command waits for the connection (bounded by `run`). */
  #connected(client: RedisClient): RedisClient | Promise<RedisClient> {
    if (client !== this.#own || client.status === 'ready') return client
    this.#ready ??= new Promise<void>((resolve) => {
      client.once('ready', () => {
        this.#ready = undefined
        resolve()
      })
    })
    return this.#ready.then(() => client)
  }
}
