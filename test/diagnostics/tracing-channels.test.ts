// The evergreen:load, evergreen:store and evergreen:fleet channels, heard through node:diagnostics_channel
// as any APM tool would subscribe to them.
import { channel, tracingChannel } from 'node:diagnostics_channel'
import { afterEach, describe, expect, it } from 'vitest'
import {
  channelNames,
  type LoadTraceContext,
  type StoreTraceContext,
  traceLoads,
  traceStore,
} from '../../src/diagnostics/index.js'
import { memoryStore, Resources } from '../../src/index.js'
import { storeConformance } from '../../src/testing/index.js'
import { replicaStore, sharedMemory } from '../fleet/shared-memory.js'
import { manualClock } from '../http/helpers.js'

const cleanups: (() => void | Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup()
})

/** Records every event of a tracing channel as `[event, context]`, until the test ends. */
function hear<C extends object>(name: string): [string, C][] {
  const heard: [string, C][] = []
  const record = (event: string) => (context: unknown) => heard.push([event, { ...(context as C) }])
  const handlers = {
    start: record('start'),
    end: record('end'),
    asyncStart: record('asyncStart'),
    asyncEnd: record('asyncEnd'),
    error: record('error'),
  }
  const traced = tracingChannel(name)
  traced.subscribe(handlers)
  cleanups.push(() => traced.unsubscribe(handlers))
  return heard
}

describe('evergreen:load', () => {
  it('traces each load from start to its value or error, with the resource and attempt', async () => {
    const heard = hear<LoadTraceContext>(channelNames.load)
    const clock = manualClock()
    const resources = new Resources({ clock, jitter: 0, retry: false, instrument: traceLoads() })
    cleanups.push(() => resources.stop())
    resources.define('ok', () => 'value')
    resources.define('bad', () => Promise.reject(new Error('nope')))
    await resources.start({ wait: true }).catch(() => {})
    const ok = heard.filter(([, c]) => c.resource === 'ok').map(([event, c]) => [event, c.attempt, c.result])
    expect(ok).toEqual([
      ['start', 1, undefined],
      ['end', 1, undefined],
      ['asyncStart', 1, 'value'],
      ['asyncEnd', 1, 'value'],
    ])
    const bad = heard.filter(([, c]) => c.resource === 'bad')
    expect(bad.map(([event]) => event)).toEqual(['start', 'end', 'error', 'asyncStart', 'asyncEnd'])
    expect(bad[2]?.[1].error).toMatchObject({ message: 'nope' })
  })

  it('calls the loader straight through when nobody listens', async () => {
    const instrument = traceLoads()
    const context = { name: 'a', attempt: 1, previous: undefined, signal: new AbortController().signal }
    expect(instrument.load(context, () => 42)).toBe(42) // no promise made
  })
})

describe('evergreen:store and evergreen:fleet', () => {
  it('trace each store operation with its resource', async () => {
    const heard = hear<StoreTraceContext>(channelNames.store)
    const store = traceStore(memoryStore())
    await store.set('a', { value: 1, version: 1, loadedAt: 0 })
    await store.get('a')
    await store.list()
    await store.close()
    expect(heard.filter(([event]) => event === 'asyncEnd').map(([, c]) => [c.operation, c.resource])).toEqual(
      [
        ['set', 'a'],
        ['get', 'a'],
        ['list', undefined],
        ['close', undefined],
      ],
    )
  })

  it('publish leases taken and refused, refused writes and announcements', async () => {
    const events: unknown[] = []
    const listener = (message: unknown) => events.push(message)
    channel(channelNames.fleet).subscribe(listener)
    cleanups.push(() => {
      channel(channelNames.fleet).unsubscribe(listener)
    })
    const shared = sharedMemory()
    const a = traceStore(replicaStore(shared))
    const b = traceStore(replicaStore(shared))
    const unwatch = b.fleet.watch(() => {})
    const lease = await a.fleet.acquire('x', 0)
    await b.fleet.acquire('x', 0)
    await a.set('x', { value: 1, version: lease!.token, loadedAt: Date.now() })
    await b.set('x', { value: 0, version: 1, loadedAt: Date.now() })
    unwatch()
    expect(events).toEqual([
      { kind: 'lease-taken', resource: 'x' },
      { kind: 'lease-refused', resource: 'x' },
      { kind: 'announcement', resource: 'x' },
      { kind: 'write-refused', resource: 'x' },
    ])
    expect(a.fleet.leaseTtl).toBe(3_000)
  })

  // The wrapper is a store like any other.
  storeConformance('traceStore(memoryStore())', () => traceStore(memoryStore()), { describe, it })
})
