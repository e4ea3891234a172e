import fc from 'fast-check'
import { describe, expect, it, vi } from 'vitest'
import { engineOf } from '../../src/core/resource.js'
import {
  memoryStore,
  OptionRangeError,
  OptionTypeError,
  parseDuration,
  Resources,
  type ResourcesOptions,
} from '../../src/index.js'
import { replicaStore, sharedMemory } from '../fleet/shared-memory.js'
import { registry, thrown, useFakeTime } from './helpers.js'

useFakeTime()

const DAY = 86_400_000

/** Constructs a registry with `options` (bypassing the types, as a JavaScript caller could). */
const construct = (options: unknown) => () => new Resources(options as ResourcesOptions)
/** Defines resource "pods" with `options` on a fresh registry. */
const define = (options: unknown) => () => registry().define('pods', () => 1, options as never)

/** A well-formed fleet store, except for its lease lifetime. */
const fleetWithLease = (leaseTtl: number) => ({
  ...replicaStore(sharedMemory()),
  fleet: { ...replicaStore(sharedMemory()).fleet, leaseTtl },
})

const clockWithoutClearImmediate: unknown = {
  now: () => 0,
  setTimeout: () => 1,
  clearTimeout: () => {},
  setImmediate: () => 1,
}

describe('options are validated at once', () => {
  it.each([
    ['interval', Number.NaN, OptionTypeError, 'NaN'],
    ['interval', -1, OptionRangeError, '-1'],
    ['interval', 0, OptionRangeError, '0'],
    ['interval', Number.POSITIVE_INFINITY, OptionRangeError, 'Infinity'],
    ['interval', '10 sec', OptionTypeError, '"10 sec"'],
    ['interval', '', OptionTypeError, '""'],
    ['interval', '-5s', OptionTypeError, '"-5s"'],
    ['interval', '5S', OptionTypeError, '"5S"'],
    ['interval', '0s', OptionRangeError, '"0s"'],
    ['interval', {}, OptionTypeError, '{}'],
    ['interval', null, OptionTypeError, 'null'],
    ['timeout', -1, OptionRangeError, '-1'],
    ['timeout', 0, OptionRangeError, '0'],
    ['timeout', Number.NaN, OptionTypeError, 'NaN'],
    ['timeout', 'soon', OptionTypeError, '"soon"'],
    ['maxStale', -100, OptionRangeError, '-100'],
    ['maxStale', '1 hour', OptionTypeError, '"1 hour"'],
    ['maxRestoredAge', 0, OptionRangeError, '0'],
    ['jitter', -0.1, OptionRangeError, '-0.1'],
    ['jitter', 1.5, OptionRangeError, '1.5'],
    ['jitter', Number.NaN, OptionTypeError, 'NaN'],
    ['jitter', '0.1', OptionTypeError, '"0.1"'],
    ['splay', -0.5, OptionRangeError, '-0.5'],
    ['splay', 2, OptionRangeError, '2'],
    ['splay', Number.NaN, OptionTypeError, 'NaN'],
    ['splay', true, OptionTypeError, 'true'],
    ['concurrency', 0, OptionRangeError, '0'],
    ['concurrency', 1.5, OptionRangeError, '1.5'],
    ['concurrency', -3, OptionRangeError, '-3'],
    ['concurrency', '4', OptionTypeError, '"4"'],
    ['onError', 'log', OptionTypeError, '"log"'],
    ['clock', { now: () => 0 }, OptionTypeError, '{}'],
    ['clock', clockWithoutClearImmediate, OptionTypeError, 'setImmediate and clearImmediate'],
    ['persist', 'yes', OptionTypeError, '"yes"'],
  ])(
    'the constructor rejects %s = %s with %O, naming the option and showing the value',
    (option, value, type, shown) => {
      const error = thrown(construct({ [option]: value }))
      expect(error).toBeInstanceOf(type)
      expect(error).toBeInstanceOf(type === OptionTypeError ? TypeError : RangeError)
      expect((error as Error).message).toContain(`"${option}"`)
      expect((error as Error).message).toContain(shown)
      expect(error).toMatchObject({ code: 'E_INVALID_OPTION', option, received: value })
    },
  )

  it('the constructor rejects an unknown option, naming it', () => {
    const error = thrown(construct({ intervall: 1000 }))
    expect(error).toBeInstanceOf(OptionTypeError)
    expect((error as Error).message).toContain('"intervall"')
  })

  it.each([
    [{ interval: -1 }, OptionRangeError, 'interval'],
    [{ interval: 'often' }, OptionTypeError, 'interval'],
    [{ interval: Number.POSITIVE_INFINITY }, OptionRangeError, 'interval'],
    [{ jitter: 2 }, OptionRangeError, 'jitter'],
    [{ splay: 1.01 }, OptionRangeError, 'splay'],
    [{ timeout: 0 }, OptionRangeError, 'timeout'],
    [{ retry: { initial: 0 } }, OptionRangeError, 'retry.initial'],
    [{ retry: { factor: 0.5 } }, OptionRangeError, 'retry.factor'],
    [{ retry: { factor: Number.POSITIVE_INFINITY } }, OptionRangeError, 'retry.factor'],
    [{ retry: { factor: '2' } }, OptionTypeError, 'retry.factor'],
    [{ retry: { max: '1 minute' } }, OptionTypeError, 'retry.max'],
    [{ retry: { tries: 3 } }, OptionTypeError, 'retry.tries'],
    [{ retry: true }, OptionTypeError, 'retry'],
    [{ equals: 'deep' }, OptionTypeError, 'equals'],
    [{ store: {} }, OptionTypeError, 'store'],
    [{ store: { ...memoryStore(), reopen: true } }, OptionTypeError, 'store'],
    [{ store: { ...memoryStore(), attach: 'yes' } }, OptionTypeError, 'store'],
    [{ store: { ...memoryStore(), fleet: { leaseTtl: 0 } } }, OptionTypeError, 'store.fleet'],
    [{ store: fleetWithLease(Number.NaN) }, OptionTypeError, 'store.fleet'],
    [{ store: fleetWithLease(-1) }, OptionTypeError, 'store.fleet'],
    [{ concurrency: 2 }, OptionTypeError, 'concurrency'],
  ])('define rejects %j, naming the option and the resource', (options, type, option) => {
    const error = thrown(define(options))
    expect(error).toBeInstanceOf(type)
    expect((error as Error).message).toContain(`"${option}" of resource "pods"`)
  })

  it('define rejects options that are not an object', () => {
    expect(thrown(define(5))).toBeInstanceOf(OptionTypeError)
    expect((thrown(define(5)) as Error).message).toContain('resource "pods"')
  })

  it.each([
    [undefined, 'undefined'],
    ['fetchPods', '"fetchPods"'],
    [{ load: () => 1 }, '{}'],
    [42, '42'],
  ])(
    'define rejects a loader that is not a function (%s), naming the loader and the resource',
    (loader, shown) => {
      const error = thrown(() => registry().define('pods', loader as never))
      expect(error).toBeInstanceOf(OptionTypeError)
      expect((error as Error).message).toContain('"loader" of resource "pods"')
      expect((error as Error).message).toContain(shown)
    },
  )

  it.each<[unknown]>([[''], [42], [undefined]])('define rejects the name %j', (name) => {
    expect(thrown(() => registry().define(name as string, () => 1))).toBeInstanceOf(OptionTypeError)
  })

  it('nothing is registered when define throws', () => {
    const resources = registry()
    expect(() => resources.define('pods', () => 1, { interval: -1 })).toThrow(OptionRangeError)
    expect(resources.has('pods')).toBe(false)
    expect(() => resources.define('pods', () => 1)).not.toThrow()
  })

  it('start throws at the call for options that are not an object', () => {
    expect(() => registry().start(7 as never)).toThrow(OptionTypeError)
  })
})

describe('durations', () => {
  it.each([
    [250, 250],
    ['250ms', 250],
    ['1.5s', 1_500],
    ['.5s', 500],
    [' 10s ', 10_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['30d', 30 * DAY],
  ])('%j is %d ms', (input, ms) => {
    expect(parseDuration(input, 'interval')).toBe(ms)
  })

  it('any string or number either gives a finite positive interval or throws a typed error naming it', () => {
    const input = fc.oneof(
      fc.string(),
      fc.stringMatching(/^\s?\d{0,12}(\.\d{0,3})?\s?(ms|s|m|h|d|S|sec|)\s?$/),
      fc.double(),
      fc.integer(),
      fc.constantFrom(
        Number.NaN,
        Number.POSITIVE_INFINITY,
        Number.NEGATIVE_INFINITY,
        -0,
        '9'.repeat(400) + 'ms',
      ),
    )
    fc.assert(
      fc.property(input, (interval) => {
        let ms: number
        try {
          ms = engineOf(registry().define('r', () => 1, { interval: interval as never })).settings.interval
        } catch (error) {
          if (!(error instanceof OptionTypeError || error instanceof OptionRangeError)) throw error
          expect(error.option).toBe('interval" of resource "r')
          expect(error.message).toContain('"interval" of resource "r"')
          return
        }
        expect(Number.isFinite(ms)).toBe(true)
        expect(ms).toBeGreaterThan(0)
      }),
      { numRuns: 500 },
    )
  })

  it('parseDuration returns a number or throws an OptionTypeError naming the option, for any input', () => {
    fc.assert(
      fc.property(fc.anything(), (input) => {
        try {
          expect(typeof parseDuration(input, 'x')).toBe('number')
        } catch (error) {
          expect(error).toBeInstanceOf(OptionTypeError)
          expect((error as OptionTypeError).option).toBe('x')
        }
      }),
    )
  })

  it('an interval longer than 2^31-1 ms (30 days) is honoured, not fired early', async () => {
    const resources = registry()
    let calls = 0
    resources.define(
      'monthly',
      () => {
        calls++
        return calls
      },
      { interval: '30d' },
    )
    await resources.start({ wait: true })
    expect(calls).toBe(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(calls).toBe(1)
    await vi.advanceTimersByTimeAsync(2 ** 31)
    expect(calls).toBe(1)
    await vi.advanceTimersByTimeAsync(30 * DAY - 2 ** 31 - 2)
    expect(calls).toBe(1)
    await vi.advanceTimersByTimeAsync(2)
    expect(calls).toBe(2)
    expect(resources.resource('monthly').get()).toBe(2)
  })

  it('a timeout longer than 2^31-1 ms does not fire early either', async () => {
    const resources = registry()
    const signals: AbortSignal[] = []
    resources.define(
      'slow',
      ({ signal }) => {
        signals.push(signal)
        return new Promise(() => {})
      },
      { timeout: '25d', interval: '40d' },
    )
    void resources.start()
    await vi.advanceTimersByTimeAsync(2 ** 31)
    expect(signals[0]?.aborted).toBe(false)
    await vi.advanceTimersByTimeAsync(25 * DAY - 2 ** 31)
    expect(signals[0]?.aborted).toBe(true)
  })
})
