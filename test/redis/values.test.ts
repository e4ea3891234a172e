// What the Redis store keeps of a value: the one JSON codec of the stores (nothing lost but
// `__proto__` keys, `undefined` kept), and no value above `maxValueBytes`, neither written nor read.
import { describe, expect, it } from 'vitest'
import { StoreError } from '../../src/index.js'
import { freshPrefix, useRedis } from './helpers.js'

const redis = useRedis()

describe('redisStore: the default codec', () => {
  it('keeps keys named constructor and prototype, anywhere in a value', async () => {
    const store = redis.store()
    const value = { name: 'widget', constructor: 'Alice', nested: [{ prototype: { constructor: 1 } }] }
    await store.set('pods', { value, version: 1, loadedAt: 1 })
    expect((await store.get('pods'))?.value).toEqual(value)
  })

  it('drops __proto__ keys on the way in, so a merge of the value cannot set a prototype', async () => {
    const prefix = freshPrefix()
    const store = redis.store({ prefix })
    await redis.server.command(
      'HSET',
      `${prefix}:{pods}:value`,
      'version',
      1,
      'loadedAt',
      1,
      'value',
      '{"a":1,"__proto__":{"polluted":true}}',
    )
    const value = (await store.get('pods'))?.value as Record<string, unknown>
    expect(value).toEqual({ a: 1 })
    expect(Object.hasOwn(value, '__proto__')).toBe(false)
  })

  it('gives back a value of undefined as undefined', async () => {
    const store = redis.store()
    expect(await store.set('pods', { value: undefined, version: 1, loadedAt: 1 })).toBe(true)
    expect(await store.get('pods')).toEqual({ value: undefined, version: 1, loadedAt: 1 })
    expect(Object.hasOwn((await store.get('pods'))!, 'value')).toBe(true)
  })
})

describe('redisStore: maxValueBytes', () => {
  it('refuses to write a value above the cap, naming the resource and its size', async () => {
    const store = redis.store({ maxValueBytes: 1_000 })
    const error = await store.set('pods', { value: 'é'.repeat(500), version: 1, loadedAt: 1 }).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(StoreError)
    expect(error).toMatchObject({ resource: 'pods' })
    // 500 two-byte characters and two quotes.
    expect((error as StoreError).message).toContain('1002 bytes')
    expect((error as StoreError).message).toContain('pods')
    expect(await store.fleet.head('pods')).toBeUndefined()
    // At the cap is fine.
    expect(await store.set('pods', { value: 'é'.repeat(499), version: 1, loadedAt: 1 })).toBe(true)
  })

  it('refuses to read a value above the cap, naming the resource and its size', async () => {
    const prefix = freshPrefix()
    const writer = redis.store({ prefix, maxValueBytes: Number.POSITIVE_INFINITY })
    const reader = redis.store({ prefix, maxValueBytes: 10_000 })
    await writer.set('pods', { value: 'x'.repeat(20_000), version: 3, loadedAt: 1 })
    const error = await reader.get('pods').then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(StoreError)
    expect(error).toMatchObject({ resource: 'pods' })
    expect((error as StoreError).message).toContain('20002 bytes')
    // Its head is still there: the fleet knows the version, so a lease goes above it.
    expect(await reader.fleet.head('pods')).toEqual({ version: 3, loadedAt: 1 })
    expect((await reader.fleet.acquire('pods', 3))?.token).toBe(4)
  })

  it('caps values at 1 MiB by default', async () => {
    const store = redis.store()
    await expect(
      store.set('pods', { value: 'x'.repeat(1_048_576), version: 1, loadedAt: 1 }),
    ).rejects.toBeInstanceOf(StoreError)
    expect(await store.set('pods', { value: 'x'.repeat(1_048_574), version: 1, loadedAt: 1 })).toBe(true)
  })

  it('counts characters outside the Basic Multilingual Plane as four bytes, lone surrogates as three', async () => {
    const store = redis.store({ maxValueBytes: 14 })
    // "🚀🚀🚀" is 2 + 12 bytes; a lone surrogate is written as U+FFFD (3 bytes).
    expect(await store.set('a', { value: '🚀🚀🚀', version: 1, loadedAt: 1 })).toBe(true)
    await expect(store.set('b', { value: '🚀🚀🚀x', version: 1, loadedAt: 1 })).rejects.toBeInstanceOf(
      StoreError,
    )
    // JSON escapes lone surrogates; a serialiser of its own may not.
    const raw = redis.store({ maxValueBytes: 12, serialize: String, deserialize: (text) => text })
    expect(await raw.set('c', { value: '\ud800\udc00\ud800\ud800', version: 1, loadedAt: 1 })).toBe(true)
    await expect(
      raw.set('d', { value: '\ud800\ud800\ud800\ud800x', version: 1, loadedAt: 1 }),
    ).rejects.toBeInstanceOf(StoreError)
  })
})
