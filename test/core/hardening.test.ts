// What probing the package as a hostile user found, as the specification it now meets: restored
// values older than maxStale, store errors that hid each other, removed names that stayed saved,
// and one rule for bad arguments at every public entry point.
import { describe, expect, it, vi } from 'vitest'
import {
  type Clock,
  memoryStore,
  OptionRangeError,
  OptionTypeError,
  Resources,
  type Store,
  type StoreError,
} from '../../src/index.js'
import { flush, registry, useFakeTime } from './helpers.js'

useFakeTime()

const HOUR = 3_600_000

describe('a restored value older than maxStale', () => {
  async function oldSnapshot(): Promise<Store> {
    const store = memoryStore()
    await store.set('config', { value: 'old', version: 3, loadedAt: Date.now() - HOUR })
    return store
  }

  it('is not ready: start({ wait }) waits for the load, which replaces it', async () => {
    const resources = registry({ maxStale: '10m', store: await oldSnapshot() })
    const config = resources.define(
      'config',
      () => new Promise<string>((resolve) => setTimeout(() => resolve('new'), 500)),
    )
    let started = false
    void resources.start({ wait: true }).then(() => (started = true))
    await vi.advanceTimersByTimeAsync(100)
    expect(config.peek().status).toBe('stale')
    expect(started).toBe(false)
    await vi.advanceTimersByTimeAsync(400)
    expect(started).toBe(true)
    expect(config.get()).toBe('new')
  })

  it('makes start({ wait }) reject when the load fails', async () => {
    const resources = registry({ maxStale: '10m', store: await oldSnapshot() })
    resources.define('config', () => Promise.reject(new Error('backend down')))
    const started = resources.start({ wait: true })
    const outcome = started.then(
      () => 'resolved',
      (error: { code?: string }) => error.code,
    )
    await vi.advanceTimersByTimeAsync(10)
    expect(await outcome).toBe('E_SYNC')
    expect(resources.resource('config').peek().status).toBe('stale')
  })

  it('still counts a restored value younger than maxStale as ready at once', async () => {
    const store = memoryStore()
    await store.set('config', { value: 'recent', version: 3, loadedAt: Date.now() - 1_000 })
    const resources = registry({ maxStale: '10m', store })
    resources.define('config', () => new Promise<string>(() => {}))
    await resources.start({ wait: true })
    expect(resources.get('config')).toBe('recent')
  })
})

describe('store errors', () => {
  /** A store whose reads and writes always fail, each with its own message. */
  function failingStore(): Store {
    return {
      get: async () => {
        throw new Error('read failed')
      },
      set: async () => {
        throw new Error('write failed')
      },
      delete: async () => {},
      list: async () => [],
      close: async () => {
        throw new Error('flush of /var/app/snapshot.json failed: ENOSPC')
      },
    }
  }

  it('are rate-limited per resource and operation, so a failed read does not hide a failed write', async () => {
    const errors: string[] = []
    const resources = registry({ store: failingStore(), onError: (e) => errors.push(e.message) })
    resources.define('a', () => 'v')
    await resources.start({ wait: true })
    await flush()
    expect(errors.some((m) => m.includes('read'))).toBe(true)
    expect(errors.some((m) => m.includes('write'))).toBe(true)
  })

  it('report every failed flush at stop(), with what the store said', async () => {
    const store = failingStore()
    const errors: StoreError[] = []
    const resources = new Resources({ store, onError: (e) => errors.push(e as StoreError) })
    await resources.start()
    await resources.stop()
    await resources.start()
    await resources.stop()
    const flushes = errors.filter((e) => e.message.includes('ENOSPC'))
    expect(flushes).toHaveLength(2)
    expect(flushes[0]!.message).toContain('/var/app/snapshot.json')
    expect(flushes[0]!.code).toBe('E_STORE')
  })
})

describe('remove()', () => {
  it('deletes the saved entry, after the write in flight', async () => {
    const store = memoryStore()
    const resources = registry({ store })
    resources.define('gone', () => 'v')
    await resources.start({ wait: true })
    resources.remove('gone')
    await flush()
    expect(await store.list()).toEqual([])
  })

  it('keeps the saved entry with { keepSaved: true }', async () => {
    const store = memoryStore()
    const resources = registry({ store })
    resources.define('kept', () => 'v')
    await resources.start({ wait: true })
    await flush()
    resources.remove('kept', { keepSaved: true })
    await flush()
    expect(await store.list()).toEqual(['kept'])
  })

  it('is waited for by stop(), so the store is not closed under the deletion', async () => {
    const store = memoryStore()
    const deleted: string[] = []
    const slow: Store = {
      ...store,
      delete: (name) =>
        new Promise<void>((resolve) =>
          setTimeout(() => {
            deleted.push(name)
            resolve(store.delete(name))
          }, 50),
        ),
    }
    const resources = new Resources({ store: slow })
    resources.define('gone', () => 'v')
    await resources.start({ wait: true })
    resources.remove('gone')
    const stopped = resources.stop()
    await vi.advanceTimersByTimeAsync(50)
    await stopped
    expect(deleted).toEqual(['gone'])
  })

  it('refuses bad options at the call', () => {
    const resources = registry()
    resources.define('x', () => 1)
    expect(() => resources.remove('x', { keepSaved: 'yes' } as never)).toThrow(OptionTypeError)
    expect(() => resources.remove('x', { keep: true } as never)).toThrow(OptionTypeError)
    expect(resources.has('x')).toBe(true)
  })
})

describe('bad arguments: one rule at every public entry point', () => {
  const clock = (): Clock => ({
    now: () => Date.now(),
    setTimeout: (fn, ms) => setTimeout(fn, ms),
    clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
  })

  it.each([
    ['start(5)', (r: Resources) => r.start(5 as never)],
    ['start(null)', (r: Resources) => r.start(null as never)],
    ["start({ wait: 'yes' })", (r: Resources) => r.start({ wait: 'yes' as never })],
    ['start({ wiat: true })', (r: Resources) => r.start({ wiat: true } as never)],
    ["on('bogus', fn)", (r: Resources) => r.on('bogus' as never, () => {})],
    ["on('change', 5)", (r: Resources) => r.on('change', 5 as never)],
    ['subscribe(5)', (r: Resources) => r.define('s', () => 1).subscribe(5 as never)],
  ])('%s throws an OptionTypeError with a code at the call', (_, call) => {
    const resources = registry()
    let error: unknown
    try {
      call(resources)
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(OptionTypeError)
    expect(error).toMatchObject({ code: 'E_INVALID_OPTION' })
    expect(resources.started).toBe(false)
  })

  it.each([
    ['retry: null', { retry: null }],
    ['clock: null', { clock: null }],
    ['jitter: NaN', { jitter: Number.NaN }],
    ['interval: NaN', { interval: Number.NaN }],
  ])('%s is an OptionTypeError', (_, options) => {
    expect(() => new Resources(options as never)).toThrow(OptionTypeError)
  })

  it('refuses an array as the options', () => {
    expect(() => new Resources([] as never)).toThrow(OptionTypeError)
  })

  it('keeps out-of-range numbers an OptionRangeError', () => {
    expect(() => new Resources({ jitter: 2 })).toThrow(OptionRangeError)
  })

  it('names what an incomplete clock is missing', () => {
    const { now } = clock()
    expect(() => new Resources({ clock: { now } as never })).toThrow(/missing: setTimeout, clearTimeout/)
  })

  it('shortens long names and values in every message', () => {
    const long = 'n'.repeat(1_000_000)
    const resources = registry()
    const messages: string[] = []
    const attempt = (fn: () => unknown) => {
      try {
        fn()
      } catch (e) {
        messages.push((e as Error).message)
      }
    }
    attempt(() => resources.define(long, 5 as never))
    attempt(() => resources.define(long, () => 1, { interval: long as never }))
    resources.define(long, () => 1)
    attempt(() => resources.define(long, () => 1))
    attempt(() => resources.get(`${long}x`))
    attempt(() => resources.resource(long).subscribe(5 as never))
    attempt(() => resources.on(long as never, () => {}))
    expect(messages).toHaveLength(6)
    for (const m of messages) expect(m.length).toBeLessThan(400)
  })

  it('keeps a valid start() without wait from ever rejecting', async () => {
    const resources = registry()
    resources.define('x', () => Promise.reject(new Error('down')))
    await expect(resources.start()).resolves.toBeUndefined()
    await expect(resources.start({})).resolves.toBeUndefined()
    await expect(resources.start({ wait: false })).resolves.toBeUndefined()
  })
})

describe('thrown values that cannot be trusted, on a resource with no value yet', () => {
  it.each([
    [
      'a Proxy whose getPrototypeOf trap throws',
      () =>
        new Proxy(
          {},
          {
            getPrototypeOf() {
              throw new Error('trap')
            },
          },
        ),
    ],
    [
      'an Error whose message getter throws',
      () => {
        const error = new Error('x')
        Object.defineProperty(error, 'message', {
          get() {
            throw new Error('getter')
          },
        })
        return error
      },
    ],
    ['two million rows', () => Array.from({ length: 2_000_000 }, (_, i) => ({ row: i }))],
  ])('turns %s into an ordinary LoadError, with a short message', async (_, make) => {
    const thrown = make()
    const resources = registry()
    const errors: { code: string; message: string }[] = []
    resources.on('error', (e) => errors.push(e.error))
    const r = resources.define('r', () => Promise.reject(thrown))
    void resources.start()
    await flush()
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatchObject({ code: 'E_LOAD_FAILED' })
    expect(errors[0]!.message.length).toBeLessThan(300)
    expect(r.peek()).toMatchObject({ status: 'failed' })
    expect(r.peek().nextRefreshAt).toBeDefined()
  })
})

describe('listeners added during an event', () => {
  it('are not called for that same event', async () => {
    const resources = registry()
    const calls: string[] = []
    resources.on('change', () => {
      calls.push('first')
      resources.on('change', () => calls.push('added'))
    })
    resources.define('x', () => 1)
    await resources.start({ wait: true })
    expect(calls).toEqual(['first'])
  })
})
