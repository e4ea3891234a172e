// No password, URL user-info or stored value ever leaves the Redis store in an error: not in a
// message, a `received` value, a stack or a cause — however the error is printed.
import { inspect } from 'node:util'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { OptionTypeError, StoreError } from '../../src/index.js'
import { redisStore } from '../../src/redis/index.js'
import { freshPrefix, pause, useRedis } from './helpers.js'

const redis = useRedis()
const PASSWORD = 'hunter2-s3cr3t'
const USER = 'alice'

/** Every way an error is commonly printed or logged, its causes included. */
function renderings(error: unknown): string[] {
  const out: string[] = []
  let current: unknown = error
  for (let depth = 0; depth < 6 && current !== undefined && current !== null; depth++) {
    out.push(inspect(current, { depth: Number.POSITIVE_INFINITY, showHidden: true }))
    out.push(JSON.stringify(current) ?? '')
    out.push(String(current))
    if (current instanceof Error) out.push(current.message, current.stack ?? '')
    if (typeof current === 'object' && 'received' in current)
      out.push(String((current as { received: unknown }).received))
    current = current instanceof Error ? current.cause : undefined
  }
  return out
}

function expectClean(errors: readonly unknown[], secrets: readonly string[]): void {
  expect(errors.length).toBeGreaterThan(0)
  for (const error of errors) {
    for (const text of renderings(error)) {
      for (const secret of secrets) expect(text).not.toContain(secret)
    }
  }
}

const thrown = (make: () => unknown): unknown => {
  try {
    make()
  } catch (error) {
    return error
  }
  throw new Error('expected a throw')
}

describe('redisStore: options that carry a password', () => {
  const secrets = [PASSWORD, `${USER}:`]
  it.each([
    ['a URL object', { url: new URL(`redis://${USER}:${PASSWORD}@localhost:6379`) }],
    ['a null client beside a URL', { client: null, url: `redis://${USER}:${PASSWORD}@localhost:6379` }],
    ['a malformed URL', { url: `redis//${USER}:${PASSWORD}@localhost:6379` }],
    ['a URL of another scheme', { url: `http://${USER}:${PASSWORD}@localhost:6379` }],
    ['a URL with a space', { url: `redis://${USER}:${PASSWORD}@local host:6379` }],
    ['a wrong type beside a password in redisOptions', { url: 5, redisOptions: { password: PASSWORD } }],
  ])('refuses %s at construction without quoting the password', (_, options) => {
    const error = thrown(() => redisStore({ prefix: 'app', ...options } as never))
    expect(error).toBeInstanceOf(OptionTypeError)
    expectClean([error], secrets)
  })
})

describe('redisStore: a wrong password', () => {
  beforeAll(async () => {
    await redis.server.command('ACL', 'SETUSER', USER, 'on', '>the-right-one', '~*', '&*', '+@all')
  })

  it('fails every call and reports connection errors without the password (store from a URL)', async () => {
    const errors: unknown[] = []
    const store = redisStore({
      url: `redis://${USER}:${PASSWORD}@127.0.0.1:${redis.server.port}`,
      prefix: freshPrefix(),
      commandTimeout: 300,
    })
    store.attach?.({ reportError: (error) => errors.push(error) })
    store.fleet.watch(() => {})
    for (const call of [
      () => store.get('pods'),
      () => store.set('pods', { value: 1, version: 1, loadedAt: 1 }),
      () => store.fleet.head('pods'),
      () => store.fleet.acquire('pods', 0),
      () => store.list(),
      () => store.delete('pods'),
    ]) {
      await call().then(
        () => errors.push(new Error('a call succeeded with a wrong password')),
        (error: unknown) => errors.push(error),
      )
    }
    await pause(300)
    await store.close()
    expect(errors.filter((e) => !(e instanceof StoreError))).toEqual([])
    expectClean(errors, [PASSWORD, `${USER}:`])
  })

  it('keeps the password of a given client out of what its subscriber connection reports', async () => {
    const errors: unknown[] = []
    const client = new Redis({
      host: '127.0.0.1',
      port: redis.server.port,
      username: USER,
      password: PASSWORD,
      retryStrategy: () => 200,
    })
    client.on('error', () => {})
    const store = redisStore({ client, prefix: freshPrefix(), commandTimeout: 300 })
    store.attach?.({ reportError: (error) => errors.push(error) })
    store.fleet.watch(() => {})
    await store.get('pods').catch((error: unknown) => errors.push(error))
    await pause(500)
    await store.close()
    client.disconnect()
    expectClean(errors, [PASSWORD])
  })
})

describe('redisStore: errors of Redis commands', () => {
  afterAll(async () => {
    await redis.server.command('CONFIG', 'SET', 'maxmemory', '0')
  })

  it('hands out a failed write without the command it carried (the whole value, in ioredis)', async () => {
    const store = redis.store()
    const payload = `private-value-${'x'.repeat(10_000)}`
    await redis.server.command('CONFIG', 'SET', 'maxmemory-policy', 'noeviction')
    await redis.server.command('CONFIG', 'SET', 'maxmemory', '1')
    const error = await store.set('pods', { value: payload, version: 1, loadedAt: 1 }).then(
      () => undefined,
      (e: unknown) => e,
    )
    await redis.server.command('CONFIG', 'SET', 'maxmemory', '0')
    expect(error).toBeInstanceOf(StoreError)
    expect((error as StoreError).message).toMatch(/OOM/)
    expectClean([error], ['private-value', 'xxxxxxxxxx'])
    expect(inspect(error, { depth: Number.POSITIVE_INFINITY }).length).toBeLessThan(4_000)
  })
})
