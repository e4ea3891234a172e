// The core's side of operations: status() as a JSON-safe health report, the critical option,
// errors' toJSON() with credentials redacted, the scheduler's lag, and the instrument seam.
import { afterEach, describe, expect, it } from 'vitest'
import {
  LoadError,
  type LoadInstrument,
  OptionTypeError,
  ResourceStaleError,
  Resources,
  type ResourcesOptions,
} from '../../src/index.js'
import { manualClock } from './helpers.js'

const made: Resources[] = []
afterEach(async () => {
  for (const resources of made.splice(0)) await resources.stop()
})

function setup(options: ResourcesOptions = {}) {
  const clock = manualClock(1_000.25) // a clock with fractions, as performance.now() gives
  const resources = new Resources({ jitter: 0, interval: 1_000, retry: false, clock, ...options })
  made.push(resources)
  return { resources, clock }
}

describe('status()', () => {
  it('serialises to what an operator needs: whole ms, ISO times, the error with its cause', async () => {
    const { resources, clock } = setup()
    let up = true
    resources.define('db', () => (up ? 'rows' : Promise.reject(new Error('ECONNRESET'))), {
      maxStale: 60_000,
    })
    await resources.start({ wait: true })
    up = false
    await clock.advance(1_000.7)
    const json = JSON.parse(JSON.stringify(resources.status()))
    expect(json).toMatchObject({ healthy: true, started: true, lag: 0 })
    const [db] = json.resources
    expect(db).toMatchObject({
      name: 'db',
      status: 'degraded',
      critical: true,
      source: 'load',
      age: 1_001,
      interval: 1_000,
      maxStale: 60_000,
      consecutiveFailures: 1,
      lastError: {
        code: 'E_LOAD_FAILED',
        name: 'LoadError',
        message: 'resource "db" failed to load: ECONNRESET',
        resource: 'db',
        cause: 'ECONNRESET',
      },
    })
    expect(Number.isInteger(db.nextRefreshIn)).toBe(true)
    expect(db.updatedAt).toMatch(/Z$/)
    expect(Date.parse(db.failingSince) - Date.parse(db.updatedAt)).toBe(1_000) // the refresh after 1 s failed
  })

  it('keeps failingSince through consecutive failures and clears it on success', async () => {
    const { resources, clock } = setup()
    let up = false
    const db = resources.define('db', () => (up ? 'rows' : Promise.reject(new Error('down'))))
    await resources.start({ wait: true }).catch(() => {})
    const first = db.peek().failingSince
    expect(first).toBe(1_000.25)
    await clock.advance(1_000)
    expect(db.peek()).toMatchObject({ consecutiveFailures: 2, failingSince: first })
    up = true
    await clock.advance(1_000)
    expect(db.peek()).toMatchObject({ consecutiveFailures: 0, failingSince: undefined })
    expect(resources.status().resources[0]?.failingSince).toBeUndefined()
  })

  it('is healthy (ready) when every critical resource is; non-critical ones still show as failing', async () => {
    const { resources } = setup()
    resources.define('core', () => 1)
    resources.define('extras', () => Promise.reject(new Error('down')), { critical: false })
    await resources.start({ wait: true }).catch(() => {})
    const report = resources.status()
    expect(report.healthy).toBe(true)
    expect(report.resources.map((r) => [r.name, r.status, r.critical])).toEqual([
      ['core', 'ready', true],
      ['extras', 'failed', false],
    ])
  })

  it('takes critical from the registry as a default, and refuses a non-boolean', () => {
    const { resources } = setup({ critical: false })
    resources.define('a', () => 1)
    resources.define('b', () => 1, { critical: true })
    expect(resources.status().resources.map((r) => r.critical)).toEqual([false, true])
    expect(() => resources.define('c', () => 1, { critical: 'yes' as never })).toThrow(OptionTypeError)
    expect(() => resources.define('c', () => 1, { critical: 'yes' as never })).toThrow(
      'option "critical" of resource "c" must be a boolean; received "yes"',
    )
  })

  it('reports by how much the earliest due refresh is overdue: the liveness measure', async () => {
    const { resources, clock } = setup()
    resources.define('a', () => 1)
    expect(resources.status().lag).toBe(0)
    await resources.start({ wait: true })
    clock.jump(3_000.6)
    expect(resources.status().lag).toBe(2_001)
    await clock.advance(0)
    expect(resources.status().lag).toBe(0)
    await resources.stop()
    clock.jump(10_000)
    expect(resources.status().lag).toBe(0)
  })
})

describe('toJSON() of errors', () => {
  const cause = (message: string) => new LoadError('r', new Error(message)).toJSON().cause

  it.each([
    ['URL user-info', 'connect redis://admin:hunter2@cache:6379', 'connect redis://***@cache:6379'],
    ['a user without password', 'GET https://token@api.example/v1', 'GET https://***@api.example/v1'],
    ['a bare :pass@', 'login app:s3cret@db failed', 'login app:***@db failed'],
    ['password=', 'dsn host=db password=hunter2 user=app', 'dsn host=db password=*** user=app'],
    ['token:', 'refused token: abc.def', 'refused token: ***'],
    ['a quoted secret', 'config {"apiKey":"xyz"} bad', 'config {"apiKey":"xyz"} bad'],
    ['api_key=', 'GET /v1?api_key=xyz&q=1', 'GET /v1?api_key=***&q=1'],
  ])('redacts %s', (_case, message, expected) => {
    expect(cause(message)).toBe(expected)
  })

  it('caps every text, and never throws on a hostile cause', () => {
    const long = new LoadError('r', new Error('x'.repeat(10_000))).toJSON()
    expect(long.message.length).toBe(300)
    expect(long.cause?.length).toBe(300)
    const hostile = new Proxy(new Error('boom'), {
      get() {
        throw new Error('trap')
      },
      getPrototypeOf() {
        throw new Error('trap')
      },
    })
    const error = new ResourceStaleError('r', 10, 5, hostile)
    expect(error.toJSON()).toEqual({
      code: 'E_STALE',
      name: 'ResourceStaleError',
      message: 'resource "r" is stale: its value is 10 ms old (maxStale 5 ms)',
      resource: 'r',
      cause: 'an uninspectable value',
    })
    expect(new LoadError('r', 'plain string').toJSON().cause).toBe('"plain string"')
  })
})

describe('the instrument option', () => {
  it('wraps every loader call, several nested with the first outermost', async () => {
    const calls: string[] = []
    const tracer = (label: string): LoadInstrument => ({
      load(context, run) {
        calls.push(`${label}:${context.name}:${context.attempt}:${context.signal.aborted}`)
        return run()
      },
    })
    const { resources } = setup({ instrument: [tracer('outer'), tracer('inner')] })
    resources.define('a', () => {
      calls.push('loader')
      return 1
    })
    await resources.start({ wait: true })
    expect(calls).toEqual(['outer:a:1:false', 'inner:a:1:false', 'loader'])
    expect(resources.get('a')).toBe(1)
  })

  it('turns an instrument that throws into a failed load, reported like any other', async () => {
    const { resources } = setup({
      instrument: {
        load() {
          throw new Error('tracer broken')
        },
      },
    })
    resources.define('a', () => 1)
    await expect(resources.start({ wait: true })).rejects.toThrow('1 resource(s) failed')
    expect(resources.resource('a').peek().error?.toJSON().cause).toBe('tracer broken')
  })

  it('is refused when it is not an instrument', () => {
    expect(() => new Resources({ instrument: {} as never })).toThrow(OptionTypeError)
    expect(() => new Resources({ instrument: [{ load: () => 1 }, 3] as never })).toThrow(
      'option "instrument"',
    )
  })
})
