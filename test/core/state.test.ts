import { describe, expect, it } from 'vitest'
import {
  apply,
  createState,
  type ResourceAction,
  type ResourceState,
  statusOf,
} from '../../src/core/state.js'
import { LoadError } from '../../src/index.js'

const error = new LoadError('pods', new Error('down'))
const is = Object.is
const sameId = (a: unknown, b: unknown) => (a as { id: number }).id === (b as { id: number }).id
const v1 = { id: 1, tag: 'first' }
const v1again = { id: 1, tag: 'second' }

const initialState: ResourceState = Object.freeze(createState())
const state = (patch: Partial<ResourceState>): ResourceState => ({ ...initialState, ...patch })
const ready = state({ value: v1, hasValue: true, source: 'load', version: 3, updatedAt: 100, loads: 3 })
const degraded = state({
  ...ready,
  error,

  failures: 2,
  consecutiveFailures: 2,
})
const restored = state({ value: 'saved', hasValue: true, source: 'store', version: 7, updatedAt: 50 })

describe('applying an action to the state', () => {
  it.each<[string, ResourceState, ResourceAction, Partial<ResourceState>]>([
    [
      'a first load gives a value, version 1 and source load',
      initialState,
      { type: 'loaded', value: 'a', at: 10, equals: is },
      { value: 'a', hasValue: true, source: 'load', version: 1, updatedAt: 10, loads: 1 },
    ],
    [
      'a load after failures clears the error and the consecutive failures, keeps the failure count',
      degraded,
      { type: 'loaded', value: 'b', at: 300, equals: is },
      {
        value: 'b',
        version: 4,
        updatedAt: 300,
        error: undefined,
        failures: 2,
        consecutiveFailures: 0,
        loads: 4,
      },
    ],
    [
      'a load equal to the current value keeps the previous object but bumps version and time',
      ready,
      { type: 'loaded', value: v1again, at: 500, equals: sameId },
      { value: v1, version: 4, updatedAt: 500, loads: 4 },
    ],
    [
      'a load with a fencing version takes it when it is higher',
      ready,
      { type: 'loaded', value: 'c', at: 10, equals: is, version: 42 },
      { value: 'c', version: 42, updatedAt: 10, loads: 4 },
    ],
    [
      'a load with a lower fencing version still moves the version forward by one',
      ready,
      { type: 'loaded', value: 'c', at: 10, equals: is, version: 1 },
      { value: 'c', version: 4, updatedAt: 10, loads: 4 },
    ],
    [
      'a load replaces a restored value and its source',
      restored,
      { type: 'loaded', value: 'fresh', at: 60, equals: is },
      { value: 'fresh', source: 'load', version: 8, updatedAt: 60, loads: 1 },
    ],
    [
      'a failure without a value records the error only',
      initialState,
      { type: 'failed', error },
      {
        hasValue: false,
        value: undefined,
        error,
        failures: 1,
        consecutiveFailures: 1,
        version: 0,
      },
    ],
    [
      'a failure never touches the value, its version or its time',
      ready,
      { type: 'failed', error },
      { value: v1, version: 3, updatedAt: 100, error, failures: 1, consecutiveFailures: 1 },
    ],
    [
      'another failure grows the consecutive failures',
      degraded,
      { type: 'failed', error },
      { failures: 3, consecutiveFailures: 3 },
    ],
    [
      'a restore fills an empty resource with the saved value and version',
      initialState,
      { type: 'restored', value: 'saved', version: 7, loadedAt: 50 },
      { value: 'saved', hasValue: true, source: 'store', version: 7, updatedAt: 50 },
    ],
    [
      'a restore after a load keeps the loaded value and only learns the version',
      ready,
      { type: 'restored', value: 'saved', version: 9, loadedAt: 50 },
      { value: v1, source: 'load', version: 9, updatedAt: 100 },
    ],
    [
      'a restore of an older version than known is ignored',
      state({ version: 5 }),
      { type: 'restored', value: 'old', version: 4, loadedAt: 1 },
      { hasValue: false, version: 5 },
    ],
    [
      'a sync of a newer version from the fleet takes its value and clears failures',
      degraded,
      { type: 'synced', value: 'shared', version: 10, loadedAt: 400, equals: is },
      {
        value: 'shared',
        source: 'fleet',
        version: 10,
        updatedAt: 400,
        error: undefined,
        consecutiveFailures: 0,
        failures: 2,
        loads: 3,
      },
    ],
    [
      'a sync of an equal value keeps the previous object',
      ready,
      { type: 'synced', value: v1again, version: 4, loadedAt: 400, equals: sameId },
      { value: v1, version: 4, source: 'fleet', updatedAt: 400 },
    ],
    [
      'a sync of a version not newer than ours is ignored',
      ready,
      { type: 'synced', value: 'older', version: 3, loadedAt: 400, equals: is },
      ready,
    ],
    [
      'a sync of the same version after our write of it was refused takes the shared value',
      ready,
      { type: 'synced', value: 'shared', version: 3, loadedAt: 400, equals: is, sameVersion: true },
      { value: 'shared', source: 'fleet', version: 3, updatedAt: 400 },
    ],
    [
      'a sync of an older version is ignored even after a refused write',
      ready,
      { type: 'synced', value: 'older', version: 2, loadedAt: 400, equals: is, sameVersion: true },
      ready,
    ],
    [
      'seeing a higher version raises it without touching the value',
      ready,
      { type: 'seen', version: 8 },
      { value: v1, version: 8 },
    ],
    ['seeing a lower version changes nothing', ready, { type: 'seen', version: 2 }, ready],
  ])('%s', (_, before, action, expected) => {
    const after = { ...before }
    const replaced = apply(after, action)
    expect(after).toEqual({ ...before, ...expected })
    if ('value' in expected) expect(after.value).toBe(expected.value)
    // It reports a change exactly when the value object is a new one.
    expect(replaced).toBe(!before.hasValue ? after.hasValue : after.value !== before.value)
  })

  it('leaves the state as it was when an action changes nothing', () => {
    const after = { ...ready }
    expect(apply(after, { type: 'seen', version: 1 })).toBe(false)
    expect(apply(after, { type: 'synced', value: 'x', version: 2, loadedAt: 0, equals: is })).toBe(false)
    expect(after).toEqual(ready)
  })

  it('changes the state in place: a resource keeps one record for its whole life', () => {
    const record = createState<string>()
    apply(record, { type: 'loaded', value: 'a', at: 1, equals: is })
    apply(record, { type: 'failed', error })
    apply(record, { type: 'loaded', value: 'b', at: 3, equals: is })
    expect(record).toMatchObject({ value: 'b', version: 2, loads: 2, failures: 1, consecutiveFailures: 0 })
  })
})

describe('statusOf', () => {
  it.each<[string, ResourceState, number, number, string]>([
    ['pending before anything happened', initialState, 0, Number.POSITIVE_INFINITY, 'pending'],
    [
      'failed without a value after a failure',
      state({ error, failures: 1 }),
      0,
      Number.POSITIVE_INFINITY,
      'failed',
    ],
    ['ready after a successful load', ready, 1_000, Number.POSITIVE_INFINITY, 'ready'],
    ['degraded when the last load failed', degraded, 1_000, Number.POSITIVE_INFINITY, 'degraded'],
    ['restored while the value came from a store', restored, 60, Number.POSITIVE_INFINITY, 'restored'],
    ['not stale at exactly maxStale', ready, 600, 500, 'ready'],
    ['stale beyond maxStale', ready, 601, 500, 'stale'],
    ['stale wins over degraded', degraded, 1_000, 500, 'stale'],
  ])('%s', (_, s, now, maxStale, expected) => {
    expect(statusOf(s, now, maxStale)).toBe(expected)
  })
})
