// redisStore's options are checked at construction, as Resources checks its own: a missing prefix,
// an unknown option or a wrong type throws a typed error naming the option. The prefix is a
// namespace taken literally.
import { describe, expect, it } from 'vitest'
import { OptionRangeError, OptionTypeError } from '../../src/index.js'
import { redisStore } from '../../src/redis/index.js'
import { useRedis } from './helpers.js'

const redis = useRedis()
const URL_ = 'redis://127.0.0.1:6379'

const thrown = (make: () => unknown): unknown => {
  try {
    make()
  } catch (error) {
    return error
  }
  return undefined
}

describe('redisStore: options', () => {
  it('requires a prefix, so two applications never share a namespace by default', () => {
    const error = thrown(() => redisStore({ url: URL_ } as never))
    expect(error).toBeInstanceOf(OptionTypeError)
    expect(error).toMatchObject({ code: 'E_INVALID_OPTION', option: 'prefix' })
    expect((error as Error).message).toMatch(/prefix/)
  })

  it.each([
    ['prefx', { prefx: 'myapp' }, OptionTypeError],
    ['leaseTTL', { leaseTTL: '30s' }, OptionTypeError],
    ['leaseTtl', { leaseTtl: 'thirty seconds' }, OptionTypeError],
    ['leaseTtl', { leaseTtl: 0 }, OptionRangeError],
    ['commandTimeout', { commandTimeout: -1 }, OptionRangeError],
    ['maxMessageBytes', { maxMessageBytes: 'big' }, OptionTypeError],
    ['maxMessageBytes', { maxMessageBytes: 0 }, OptionRangeError],
    ['maxMessageBytes', { maxMessageBytes: 1.5 }, OptionRangeError],
    ['maxValueBytes', { maxValueBytes: -1 }, OptionRangeError],
    ['maxValueBytes', { maxValueBytes: Number.NaN }, OptionTypeError],
    ['serialize', { serialize: 'json' }, OptionTypeError],
    ['deserialize', { deserialize: {} }, OptionTypeError],
    ['prefix', { prefix: '' }, OptionTypeError],
    ['prefix', { prefix: 5 }, OptionTypeError],
    ['url', { url: 5 }, OptionTypeError],
    ['url', { url: 'localhost:6379' }, OptionTypeError],
    ['url', { url: 'http://localhost:6379' }, OptionTypeError],
    ['redisOptions', { redisOptions: 'fast' }, OptionTypeError],
  ])('refuses a bad %s at construction, naming it', (option, bad, kind) => {
    const error = thrown(() => redisStore({ url: URL_, prefix: 'app', ...bad } as never))
    expect(error).toBeInstanceOf(kind)
    expect(error).toMatchObject({ code: 'E_INVALID_OPTION', option })
  })

  it('refuses a client that is not an ioredis client, both a client and a URL, and neither', () => {
    expect(thrown(() => redisStore({ client: {} as never, prefix: 'app' }))).toMatchObject({
      option: 'client',
    })
    const client = redis.client()
    expect(thrown(() => redisStore({ client, url: URL_, prefix: 'app' }))).toMatchObject({ option: 'client' })
    expect(thrown(() => redisStore({ prefix: 'app' }))).toMatchObject({ option: 'client' })
    expect(thrown(() => redisStore({ client, redisOptions: {}, prefix: 'app' }))).toMatchObject({
      option: 'redisOptions',
    })
  })

  it('refuses options that are not an object', () => {
    for (const bad of [undefined, null, 'redis://x', 5]) {
      expect(thrown(() => redisStore(bad as never))).toBeInstanceOf(OptionTypeError)
    }
  })

  it('accepts every documented option', () => {
    const store = redisStore({
      url: 'rediss://127.0.0.1:6380/2',
      redisOptions: { lazyConnect: true },
      prefix: 'app',
      leaseTtl: '10s',
      commandTimeout: 500,
      serialize: JSON.stringify,
      deserialize: JSON.parse,
      maxMessageBytes: 2_048,
      maxValueBytes: Number.POSITIVE_INFINITY,
    })
    expect(store.fleet.leaseTtl).toBe(10_000)
  })
})

describe('redisStore: the prefix is literal', () => {
  const PREFIXES = ['app1', 'app2', 'app[12]', 'app?', 'app*', 'app\\', 'app^', 'a-p', 'a[!b]', 'app{x}']
  it('lists only its own names, whatever glob characters the prefixes hold', async () => {
    const stores = PREFIXES.map((prefix) => redis.store({ prefix }))
    await Promise.all(stores.map((s, i) => s.set(`name-${i}`, { value: i, version: 1, loadedAt: 1 })))
    for (const [i, store] of stores.entries()) expect(await store.list()).toEqual([`name-${i}`])
  })

  it('keeps the values of one prefix away from a prefix that would match it as a pattern', async () => {
    const glob = redis.store({ prefix: 'team?' })
    const other = redis.store({ prefix: 'teamA' })
    await other.set('config', { value: 'A', version: 1, loadedAt: 1 })
    expect(await glob.get('config')).toBeUndefined()
    expect(await glob.list()).toEqual([])
  })
})
