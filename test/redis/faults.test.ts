// The store while Redis is frozen, paused, busy or gone: every call settles within its command
// timeout (as a StoreError), nothing waits for Redis to come back, and the store recovers by itself.
import { describe, expect, it } from 'vitest'
import { StoreError } from '../../src/core/errors.js'
import type { FleetStore } from '../../src/stores/store.js'
import { freshPrefix, timed, until, useRedis } from './helpers.js'

const redis = useRedis()

const COMMAND_TIMEOUT = 200
/** Scheduling noise on a loaded 2-core machine, on top of the command timeout; still well below FAULT_MS. */
const SLACK = 800
/** How long each fault lasts: a call that waited for Redis would take about this long. */
const FAULT_MS = 2_000
const CALLS = 40

/** Every kind of call a replica makes, `CALLS` of them at once. */
function burst(store: FleetStore, round: number): Promise<unknown>[] {
  const calls: Promise<unknown>[] = []
  for (let i = 0; i < CALLS; i++) {
    const name = `r${i % 5}`
    switch (i % 5) {
      case 0:
        calls.push(store.get(name))
        break
      case 1:
        calls.push(store.fleet.head(name))
        break
      case 2:
        calls.push(store.set(name, { value: i, version: 1_000 * round + i, loadedAt: Date.now() }))
        break
      case 3:
        calls.push(store.fleet.acquire(name, 0))
        break
      default:
        calls.push(store.list())
    }
  }
  return calls
}

/** The store answers again (it may take a reconnection). */
async function answers(store: FleetStore): Promise<void> {
  await until(
    async () =>
      (await store.fleet.head('r0').then(
        () => true,
        () => false,
      )) === true,
    5_000,
    'the store answers',
  )
}

type Fault = {
  readonly label: string
  readonly inject: () => Promise<void> | void
  readonly lift: () => Promise<void> | void
}

const faults: Fault[] = [
  {
    label: 'frozen with SIGSTOP',
    inject: () => redis.server.freeze(),
    lift: async () => {
      await new Promise((resolve) => setTimeout(resolve, 200))
      redis.server.thaw()
    },
  },
  {
    label: 'under CLIENT PAUSE',
    inject: () => redis.server.pauseClients(FAULT_MS),
    lift: () =>
      until(async () => (await redis.server.command('PING').catch(() => '')) === 'PONG', 3_000, 'unpaused'),
  },
  {
    label: 'busy in DEBUG SLEEP',
    inject: () => redis.server.sleep(FAULT_MS / 1_000),
    lift: () =>
      until(async () => (await redis.server.command('PING').catch(() => '')) === 'PONG', 3_000, 'awake'),
  },
]

describe.each(['client', 'url'] as const)('redisStore({ %s }) with a slow or unreachable Redis', (via) => {
  it.each(faults.map((f) => [f.label, f] as const))(
    'rejects every call within the command timeout while Redis is %s',
    async (_, fault) => {
      const store = redis.store({
        via,
        prefix: freshPrefix(),
        commandTimeout: COMMAND_TIMEOUT,
        leaseTtl: 500,
      })
      await answers(store)
      await Promise.all(burst(store, 0))
      await fault.inject()
      try {
        const started = performance.now()
        const results = await Promise.all(burst(store, 1).map(timed))
        const wall = performance.now() - started
        for (const r of results) {
          expect(r.ok).toBe(false)
          expect(r.error).toBeInstanceOf(StoreError)
          expect(r.ms).toBeLessThan(COMMAND_TIMEOUT + SLACK)
        }
        expect(wall).toBeLessThan(COMMAND_TIMEOUT + SLACK)
      } finally {
        await fault.lift()
      }
      await answers(store)
      expect(await store.set('after', { value: 'ok', version: 1, loadedAt: 1 })).toBe(true)
      expect((await store.get('after'))?.value).toBe('ok')
    },
  )

  it('rejects at once while Redis is down, and recovers once it is back (data lost)', async () => {
    const store = redis.store({ via, prefix: freshPrefix(), commandTimeout: COMMAND_TIMEOUT })
    await answers(store)
    await store.set('pods', { value: 'before', version: 1, loadedAt: 1 })
    await redis.server.kill()
    try {
      const results = await Promise.all(burst(store, 1).map(timed))
      for (const r of results) {
        expect(r.ok).toBe(false)
        expect(r.error).toBeInstanceOf(StoreError)
        expect(r.ms).toBeLessThan(COMMAND_TIMEOUT + SLACK)
      }
    } finally {
      await redis.server.restart()
    }
    await answers(store)
    expect(await store.get('pods')).toBeUndefined()
    expect(await store.set('pods', { value: 'after', version: 2, loadedAt: 2 })).toBe(true)
  })

  it('reports connection problems to the registries attached, without throwing', async () => {
    const store = redis.store({ via, prefix: freshPrefix(), commandTimeout: COMMAND_TIMEOUT })
    const reported: unknown[] = []
    store.attach?.({ reportError: (error) => reported.push(error) })
    store.fleet.watch(() => {})
    await answers(store)
    await redis.server.kill()
    try {
      // The connections of the store try to reconnect, and fail, while the server is away.
      await until(() => reported.length > 0, 3_000, 'a connection problem is reported')
    } finally {
      await redis.server.restart()
    }
    await answers(store)
    for (const error of reported) expect(error).toBeInstanceOf(StoreError)
  })
})
