// Values that outlive a deploy: `validate` (a Standard Schema or a predicate) and `schemaVersion`,
// applied to restored values and, when asked, to loads.
import { describe, expect, it, vi } from 'vitest'
import { z } from 'zod'
import {
  type EvergreenError,
  InvalidValueError,
  memoryStore,
  OptionTypeError,
  type StandardSchema,
  type Store,
} from '../../src/index.js'
import { flush, registry, rejection, thrown, useFakeTime } from './helpers.js'

useFakeTime()

/** A store holding `entries` as if a previous deploy had written them. */
async function storeWith(
  entries: Record<string, { value: unknown; version: number; schemaVersion?: number }>,
) {
  const store = memoryStore()
  for (const [name, entry] of Object.entries(entries))
    await store.set(name, { ...entry, loadedAt: Date.now() })
  return store
}

function reported() {
  const errors: EvergreenError[] = []
  return { errors, onError: (error: EvergreenError) => errors.push(error) }
}

const Rates = z.object({ usd: z.number(), eur: z.number() })

describe('validate', () => {
  it('serves a restored value a zod schema accepts, as the schema outputs it', async () => {
    const store = await storeWith({ rates: { value: { usd: 1, eur: 0.9, extra: true }, version: 3 } })
    const resources = registry({ store })
    const rates = resources.define('rates', () => ({ usd: 1, eur: 1 }), { validate: Rates })
    await flush()
    expect(rates.get()).toEqual({ usd: 1, eur: 0.9 }) // zod strips the unknown key
    expect(rates.peek()).toMatchObject({ source: 'store', version: 3 })
  })

  it('does not serve a restored value that fails: reported with its issues, and counted as absent', async () => {
    const store = await storeWith({ rates: { value: { usd: 'one' }, version: 3 } })
    const { errors, onError } = reported()
    const resources = registry({ store, onError })
    const loaded = { usd: 1, eur: 1 }
    const rates = resources.define('rates', () => loaded, { validate: Rates })
    await flush()
    expect(rates.peek().hasValue).toBe(false)
    expect(errors).toHaveLength(1)
    const error = errors[0] as InvalidValueError
    expect(error).toBeInstanceOf(InvalidValueError)
    expect(error.code).toBe('E_INVALID_VALUE')
    expect(error.resource).toBe('rates')
    expect(error.source).toBe('store')
    expect(error.issues.map((i) => i.path)).toEqual(['usd', 'eur'])
    expect(error.message).toMatch(/^resource "rates": the restored value is invalid: usd: .+; eur: .+/)
    // The first load then runs as on a cold start, above the version it saw.
    await resources.start({ wait: true })
    expect(rates.get()).toBe(loaded)
    expect(rates.peek().version).toBe(4)
  })

  it('takes a predicate; one that throws or returns anything but true rejects', async () => {
    const store = await storeWith({
      a: { value: 1, version: 1 },
      b: { value: 2, version: 1 },
      c: { value: 3, version: 1 },
    })
    const { errors, onError } = reported()
    const resources = registry({ store, onError })
    const a = resources.define('a', () => 0, { validate: (v) => v === 1 })
    const b = resources.define('b', () => 0, { validate: async () => 'yes' as unknown as boolean })
    const c = resources.define('c', () => 0, {
      validate: () => {
        throw new Error('boom')
      },
    })
    await flush()
    expect(a.get()).toBe(1)
    expect(b.peek().hasValue).toBe(false)
    expect(c.peek().hasValue).toBe(false)
    expect(errors.map((e) => e.message).sort()).toEqual([
      'resource "b": the restored value is invalid: validate returned false',
      'resource "c": the restored value is invalid: validate threw: boom',
    ])
  })

  it('survives a hostile schema: a throwing getter, a result that is not one, huge messages', async () => {
    const store = await storeWith({ a: { value: 1, version: 1 }, b: { value: 1, version: 1 } })
    const { errors, onError } = reported()
    const resources = registry({ store, onError })
    const hostile: StandardSchema<number> = {
      '~standard': {
        version: 1,
        vendor: 'test',
        validate: () => ({
          issues: Array.from({ length: 50 }, (_, i) => ({
            message: 'x'.repeat(10_000),
            path: [i, { key: 'k' }],
          })),
        }),
      },
    }
    const proxy = new Proxy(
      {},
      {
        get: () => {
          throw new Error('trap')
        },
      },
    )
    resources.define('a', () => 0, { validate: hostile })
    resources.define('b', () => 0, {
      validate: { '~standard': { version: 1, vendor: 'p', validate: () => proxy } } as never,
    })
    await flush()
    const [a, b] = errors as InvalidValueError[]
    expect(a?.issues).toHaveLength(10)
    expect(a?.issues[0]).toEqual({ message: `${'x'.repeat(197)}...`, path: '0.k' })
    expect(a?.message.length).toBeLessThan(1_000)
    expect(a?.message).toMatch(/\(and 7 more\)$/)
    expect(b?.issues[0]?.message).toMatch(/validate threw: trap/)
  })

  it('applies to loads only with validateLoads: a failing load keeps the last good value', async () => {
    let value: unknown = { usd: 1, eur: 1 }
    const resources = registry({ interval: 1_000, retry: { initial: 500 } })
    const rates = resources.define('rates', () => value, { validate: Rates, validateLoads: true })
    await resources.start({ wait: true })
    value = { usd: null }
    const error = (await rejection(rates.refresh())) as InvalidValueError
    expect(error).toBeInstanceOf(InvalidValueError)
    expect(error.source).toBe('load')
    expect(rates.get()).toEqual({ usd: 1, eur: 1 })
    expect(rates.peek()).toMatchObject({ status: 'degraded', consecutiveFailures: 1 })
    expect(rates.peek().error?.code).toBe('E_INVALID_VALUE')
  })

  it('is refused when it is neither a schema nor a function, and is not a registry option', () => {
    const resources = registry()
    expect(thrown(() => resources.define('x', () => 1, { validate: {} as never }))).toBeInstanceOf(
      OptionTypeError,
    )
    expect(thrown(() => registry({ validate: () => true } as never))).toBeInstanceOf(OptionTypeError)
  })
})

describe('schemaVersion', () => {
  it('is saved with each entry, and entries of another version (or none) are ignored', async () => {
    const store = await storeWith({
      old: { value: 'v1 shape', version: 5, schemaVersion: 1 },
      unversioned: { value: 'no schema', version: 2 },
      same: { value: 'v2 shape', version: 4, schemaVersion: 2 },
    })
    const { errors, onError } = reported()
    const resources = registry({ store, onError, schemaVersion: 2 })
    const old = resources.define('old', () => 'loaded')
    const unversioned = resources.define('unversioned', () => 'loaded')
    const same = resources.define('same', () => 'loaded')
    await flush()
    expect(old.peek().hasValue).toBe(false)
    expect(unversioned.peek().hasValue).toBe(false)
    expect(same.get()).toBe('v2 shape')
    expect(errors).toEqual([]) // a deploy under way is not an error
    await resources.start({ wait: true })
    await flush()
    expect(await store.get('old')).toMatchObject({ value: 'loaded', version: 6, schemaVersion: 2 })
  })

  it('reads entries without one when neither side has one, and checks the option', async () => {
    const store = await storeWith({
      a: { value: 'saved', version: 1 },
      b: { value: 'saved', version: 1, schemaVersion: 0 },
    })
    const resources = registry({ store })
    const a = resources.define('a', () => 'loaded')
    const b = resources.define('b', () => 'loaded')
    await flush()
    expect(a.get()).toBe('saved')
    expect(b.peek().hasValue).toBe(false)
    expect(thrown(() => resources.define('c', () => 1, { schemaVersion: 1.5 }))).toMatchObject({
      code: 'E_INVALID_OPTION',
      option: 'schemaVersion" of resource "c',
    })
  })

  it('is carried by a custom store that keeps the entry as given', async () => {
    const set = vi.fn(async () => true)
    const store: Store = {
      get: async () => undefined,
      set,
      delete: async () => {},
      list: async () => [],
      close: async () => {},
    }
    const resources = registry({ store })
    resources.define('a', () => 1, { schemaVersion: 7 })
    await resources.start({ wait: true })
    expect(set).toHaveBeenCalledWith('a', expect.objectContaining({ value: 1, schemaVersion: 7 }))
  })
})
