// The health handler over real HTTP on 127.0.0.1: probes through a registry's life, the status JSON,
// the page, HEAD, unknown paths, escaping, values and actions.
import { afterEach, describe, expect, it } from 'vitest'
import { healthHandler } from '../../src/http/index.js'
import { OptionRangeError, OptionTypeError, Resources, type ResourcesOptions } from '../../src/index.js'
import { type ManualClock, manualClock, serve } from './helpers.js'

const made: { resources: Resources; close: () => void }[] = []
afterEach(async () => {
  for (const { resources, close } of made.splice(0)) {
    close()
    await resources.stop()
  }
})

function setup(options: ResourcesOptions = {}): { resources: Resources; clock: ManualClock } {
  const clock = manualClock()
  const resources = new Resources({ jitter: 0, interval: 1_000, retry: false, clock, ...options })
  return { resources, clock }
}

async function served(resources: Resources, options?: Parameters<typeof healthHandler>[1]) {
  const handler = healthHandler(resources, options)
  made.push({ resources, close: handler.close })
  const { url } = await serve(handler)
  return url
}

async function json(url: string, init?: RequestInit) {
  const response = await fetch(url, init)
  // biome-ignore lint/suspicious/noExplicitAny: the tests read whatever JSON came back
  const body: any = await response.json()
  return { status: response.status, type: response.headers.get('content-type'), body }
}

describe('liveness and readiness', () => {
  it('follow the registry through start, degradation, staleness and stop', async () => {
    const { resources, clock } = setup()
    let dbUp = true
    resources.define('db', () => (dbUp ? 'rows' : Promise.reject(new Error('db down'))), { maxStale: 3_000 })
    resources.define('ads', () => Promise.reject(new Error('ads down')), { critical: false })
    const url = await served(resources)

    // Not started: neither live nor ready.
    expect(await json(`${url}/live`)).toMatchObject({ status: 503, body: { live: false, started: false } })
    expect((await json(`${url}/ready`)).status).toBe(503)

    await resources.start({ wait: true }).catch(() => {}) // ads fails its first load: a SyncError
    expect(await json(`${url}/live`)).toEqual({
      status: 200,
      type: 'application/json; charset=utf-8',
      body: { live: true, started: true, lag: 0, livenessLag: 30_000 },
    })
    // A failing optional resource does not make the service unready; it is still listed.
    expect(await json(`${url}/ready`)).toMatchObject({
      status: 200,
      body: { ready: true, failing: [], failingOptional: ['ads'] },
    })

    // db fails but keeps its last good value within maxStale: degraded, still ready.
    dbUp = false
    await clock.advance(1_000)
    const degraded = await json(`${url}/status`)
    const db = degraded.body.resources.find((r: { name: string }) => r.name === 'db')
    expect(db).toMatchObject({ status: 'degraded', critical: true, consecutiveFailures: 1 })
    expect(db.lastError).toEqual({
      code: 'E_LOAD_FAILED',
      name: 'LoadError',
      message: 'resource "db" failed to load: db down',
      resource: 'db',
      cause: 'db down',
    })
    expect(Date.parse(db.failingSince)).toBeGreaterThan(0)
    expect((await json(`${url}/ready`)).status).toBe(200)

    // Past maxStale: stale, and the service is unready.
    await clock.advance(3_000)
    expect(await json(`${url}/ready`)).toMatchObject({ status: 503, body: { ready: false, failing: ['db'] } })
    expect((await json(`${url}/live`)).status).toBe(200)

    await resources.stop()
    expect(await json(`${url}/live`)).toMatchObject({ status: 503, body: { live: false, started: false } })
    expect(await json(`${url}/ready`)).toMatchObject({ status: 503, body: { ready: false, started: false } })
  })

  it('liveness fails once a due refresh is overdue by more than livenessLag', async () => {
    const { resources, clock } = setup()
    resources.define('a', () => 1)
    const url = await served(resources, { livenessLag: '5s' })
    await resources.start({ wait: true })
    clock.jump(5_500) // the next refresh was due at +1 s: 4.5 s overdue
    expect(await json(`${url}/live`)).toMatchObject({ status: 200, body: { live: true, lag: 4_500 } })
    clock.jump(1_000)
    expect(await json(`${url}/live`)).toMatchObject({ status: 503, body: { live: false, lag: 5_500 } })
    await clock.advance(0) // the scheduler turns again
    expect((await json(`${url}/live`)).status).toBe(200)
  })
})

describe('the status JSON', () => {
  it('is JSON-safe: whole milliseconds, ISO times, the source, interval and maxStale', async () => {
    const { resources, clock } = setup()
    resources.define('a', () => 1, { interval: 1_500 })
    const url = await served(resources)
    await resources.start({ wait: true })
    await clock.advance(0.3)
    const { body } = await json(`${url}/status`)
    expect(body).toMatchObject({ live: true, ready: true, started: true, lag: 0, omitted: 0, families: [] })
    expect(body.counts).toEqual({ ready: 1 })
    const [a] = body.resources
    expect(a).toMatchObject({ name: 'a', status: 'ready', source: 'load', interval: 1_500, loads: 1 })
    expect(a.maxStale).toBeUndefined()
    expect(Number.isInteger(a.age) && Number.isInteger(a.nextRefreshIn)).toBe(true)
    expect(a.updatedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
    expect(a.durations).toEqual([0])
  })

  it('lists the failing resources first and at most maxRows of them, counting the rest', async () => {
    const { resources } = setup()
    for (let i = 0; i < 5; i++) resources.define(`ok${i}`, () => i)
    resources.define('broken', () => Promise.reject(new Error('no')))
    const url = await served(resources, { maxRows: 3 })
    await resources.start({ wait: true }).catch(() => {})
    const { body } = await json(`${url}/status`)
    expect(body.resources.map((r: { name: string }) => r.name)).toEqual(['broken', 'ok0', 'ok1'])
    expect(body.omitted).toBe(3)
    expect(body.counts).toEqual({ ready: 5, failed: 1 })
  })

  it('redacts credentials from errors and caps their length', async () => {
    const { resources } = setup()
    resources.define('cache', () =>
      Promise.reject(
        new Error(`connect redis://admin:hunter2@db:6379 failed; password=hunter2 ${'x'.repeat(5_000)}`),
      ),
    )
    const url = await served(resources)
    await resources.start({ wait: true }).catch(() => {})
    const text = await (await fetch(`${url}/status`)).text()
    expect(text).not.toContain('hunter2')
    const error = JSON.parse(text).resources[0].lastError
    expect(error.cause).toMatch(/^connect redis:\/\/\*\*\*@db:6379 failed; password=\*\*\* x+…$/)
    expect(error.cause.length).toBe(300)
  })
})

describe('requests', () => {
  it('answers HEAD with the headers of GET and no body', async () => {
    const { resources } = setup()
    resources.define('a', () => 1)
    const url = await served(resources)
    await resources.start({ wait: true })
    for (const path of ['/live', '/ready', '/status', '/']) {
      const got = await fetch(url + path)
      const body = await got.arrayBuffer()
      const head = await fetch(url + path, { method: 'HEAD' })
      expect(head.status, path).toBe(got.status)
      expect(head.headers.get('content-type'), path).toBe(got.headers.get('content-type'))
      if (path !== '/status' && path !== '/') {
        expect(head.headers.get('content-length'), path).toBe(String(body.byteLength))
      }
      expect((await head.arrayBuffer()).byteLength, path).toBe(0)
    }
  })

  it('serves the page as HTML under a strict Content-Security-Policy, never cached', async () => {
    const { resources } = setup()
    const url = await served(resources)
    const page = await fetch(`${url}/`)
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(page.headers.get('cache-control')).toBe('no-store')
    expect(page.headers.get('content-security-policy')).toMatch(/^default-src 'none'; script-src 'nonce-/)
    const html = await page.text()
    expect(html).toMatch(/^<!doctype html>/)
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)="(https?:)?\/\//) // nothing from outside
  })

  it('answers unknown paths with 404 and other methods with 405', async () => {
    const { resources } = setup()
    const url = await served(resources)
    expect(await json(`${url}/nope`)).toMatchObject({ status: 404, body: { error: 'not found' } })
    expect(await json(`${url}/live/extra`)).toMatchObject({ status: 404 })
    const post = await fetch(`${url}/status`, { method: 'POST' })
    expect(post.status).toBe(405)
    expect(post.headers.get('allow')).toBe('GET, HEAD')
    expect((await fetch(`${url}/live`, { method: 'DELETE' })).status).toBe(405)
  })

  it('serves configured paths under a base path', async () => {
    const { resources } = setup()
    resources.define('a', () => 1)
    const url = await served(resources, { basePath: '/ops/', paths: { live: '/livez', ready: '/readyz' } })
    await resources.start({ wait: true })
    expect((await fetch(`${url}/ops/livez`)).status).toBe(200)
    expect((await fetch(`${url}/ops/readyz`)).status).toBe(200)
    expect((await fetch(`${url}/ops/live`)).status).toBe(404)
    expect((await fetch(`${url}/livez`)).status).toBe(404)
    expect(await (await fetch(`${url}/ops`)).text()).toContain('data-stream="/ops/events"')
  })
})

describe('what is shown', () => {
  it('escapes every name in the page (a resource named <script> included)', async () => {
    const { resources } = setup()
    resources.define('<script>alert(1)</script>', () => 1)
    resources.define(`"quoted" & 'single'`, () => 2)
    const url = await served(resources, { title: '<b>ops</b>' })
    await resources.start({ wait: true })
    const html = await (await fetch(`${url}/`)).text()
    expect(html).not.toContain('<script>alert(1)')
    expect(html).not.toContain('<b>ops</b>')
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;')
    expect(html).toContain('data-name="&quot;quoted&quot; &amp; &#39;single&#39;"')
    expect(html).toContain('<title>&lt;b&gt;ops&lt;/b&gt;</title>')
    // Only the page's own script, with its nonce.
    expect(html.match(/<script/g)).toHaveLength(1)
  })

  it('never shows values unless exposeValues asks for them', async () => {
    const { resources } = setup()
    resources.define('secret', () => ({ apiKey: 'sk-live-123' }))
    resources.define('public', () => ({ motd: 'hello' }))
    await resources.start({ wait: true })
    const hidden = await served(resources)
    for (const path of ['/status', '/']) {
      const text = await (await fetch(hidden + path)).text()
      expect(text).not.toContain('sk-live-123')
      expect(text).not.toContain('hello')
    }
    const some = await served(resources, { exposeValues: (name) => name === 'public' })
    const { body } = await json(`${some}/status`)
    expect(body.resources.find((r: { name: string }) => r.name === 'public').value).toBe('{"motd":"hello"}')
    expect(body.resources.find((r: { name: string }) => r.name === 'secret')).not.toHaveProperty('value')
    const all = await served(resources, { exposeValues: true })
    expect(await (await fetch(`${all}/status`)).text()).toContain('sk-live-123')
  })
})

describe('actions', () => {
  it('do not exist unless enabled', async () => {
    const { resources } = setup()
    resources.define('a', () => 1)
    const url = await served(resources)
    await resources.start({ wait: true })
    expect((await fetch(`${url}/refresh/a`, { method: 'POST' })).status).toBe(404)
    expect(await (await fetch(`${url}/`)).text()).toContain('data-refresh=""')
  })

  it('refresh by POST only, same-origin only, and report the outcome', async () => {
    const { resources } = setup()
    let calls = 0
    let refuse = false
    resources.define('a', () => ++calls)
    resources.define('b/c', () => (refuse ? Promise.reject(new Error('token=abc123 refused')) : 0))
    const url = await served(resources, { actions: true })
    await resources.start({ wait: true })
    refuse = true
    const before = calls
    const get = await fetch(`${url}/refresh/a`)
    expect(get.status).toBe(405)
    expect(get.headers.get('allow')).toBe('POST')
    expect(calls).toBe(before)

    expect(await json(`${url}/refresh/a`, { method: 'POST' })).toMatchObject({
      status: 200,
      body: { name: 'a', refreshed: true, version: 2 },
    })
    expect(calls).toBe(before + 1)
    const cross = await fetch(`${url}/refresh/a`, {
      method: 'POST',
      headers: { origin: 'https://evil.example' },
    })
    expect(cross.status).toBe(403)
    const same = await fetch(`${url}/refresh/a`, { method: 'POST', headers: { origin: url } })
    expect(same.status).toBe(200)

    const failed = await json(`${url}/refresh/${encodeURIComponent('b/c')}`, { method: 'POST' })
    expect(failed).toMatchObject({ status: 502, body: { name: 'b/c', refreshed: false } })
    expect(failed.body.error).toMatchObject({ code: 'E_LOAD_FAILED', cause: 'token=*** refused' })
    expect((await fetch(`${url}/refresh/nope`, { method: 'POST' })).status).toBe(404)
    expect(await (await fetch(`${url}/`)).text()).toContain('data-refresh="/refresh"')
  })
})

describe('options', () => {
  it.each([
    [{ livenessLag: 0 }, OptionRangeError, 'livenessLag'],
    [{ livenessLag: 'soon' }, OptionTypeError, 'livenessLag'],
    [{ paths: { live: 'live' } }, OptionTypeError, 'paths.live'],
    [{ paths: { metrics: '/m' } }, OptionTypeError, 'paths.metrics'],
    [{ exposeValues: 'yes' }, OptionTypeError, 'exposeValues'],
    [{ maxStreams: 0 }, OptionRangeError, 'maxStreams'],
    [{ colour: 'red' }, OptionTypeError, 'colour'],
  ])('refuses %j naming the option', (options, type, option) => {
    const resources = new Resources()
    const make = () => healthHandler(resources, options as never)
    expect(make).toThrow(type)
    expect(make).toThrow(`"${option}"`)
  })
})

describe('families', () => {
  it('appear in the status JSON as summaries, and are not resources an action can refresh', async () => {
    const { resources } = setup()
    resources.define('a', () => 1)
    const prices = resources.family('price', (sku: string) => `price of ${sku}`)
    const url = await served(resources, { actions: true })
    await resources.start({ wait: true })
    await prices.fetch('sku-1')
    const { body } = await json(`${url}/status`)
    expect(body.families).toEqual([expect.objectContaining({ name: 'price', size: 1, misses: 1 })])
    expect(await json(`${url}/refresh/price`, { method: 'POST' })).toMatchObject({ status: 404 })
  })
})
