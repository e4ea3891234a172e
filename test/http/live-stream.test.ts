// The page's live stream over real HTTP: what it sends, how fast a failure shows, and that it ends
// at stop(), at server.close() (which must never hang on it) and at handler.close().
import { afterEach, describe, expect, it } from 'vitest'
import { healthHandler } from '../../src/http/index.js'
import { Resources } from '../../src/index.js'
import { manualClock, openStream, serve } from './helpers.js'

const stoppers: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const stop of stoppers.splice(0)) await stop()
})

async function setup(options: Parameters<typeof healthHandler>[1] = {}) {
  const clock = manualClock()
  const resources = new Resources({ jitter: 0, interval: 1_000, retry: false, clock })
  let up = true
  resources.define('db', () => (up ? 'rows' : Promise.reject(new Error('db down'))))
  const handler = healthHandler(resources, options)
  stoppers.push(async () => {
    handler.close()
    await resources.stop()
  })
  const { url, server } = await serve(handler)
  await resources.start({ wait: true })
  return { resources, clock, handler, url, server, fail: () => (up = false) }
}

const snapshot = (event: { data: string }) => JSON.parse(event.data)
const statusOf = (event: { event: string; data: string }) =>
  event.event === 'message' ? snapshot(event).resources[0].status : undefined

describe('the live stream', () => {
  it('sends the status at once, as server-sent events', async () => {
    const { url } = await setup()
    const stream = await openStream(`${url}/events`)
    expect(stream.response.statusCode).toBe(200)
    expect(stream.response.headers['content-type']).toBe('text/event-stream; charset=utf-8')
    expect(stream.response.headers['cache-control']).toBe('no-store')
    const first = await stream.next((e) => e.event === 'message')
    expect(snapshot(first)).toMatchObject({
      live: true,
      ready: true,
      resources: [{ name: 'db', status: 'ready' }],
    })
    stream.close()
  })

  it('shows a failure within a second of it', async () => {
    const { url, clock, fail } = await setup({ streamInterval: '1m' })
    const stream = await openStream(`${url}/events`)
    await stream.next((e) => statusOf(e) === 'ready')
    const since = stream.events.length
    fail()
    const failedAt = performance.now()
    await clock.advance(1_000)
    const update = await stream.next((e) => statusOf(e) === 'degraded', since, 1_000)
    expect(performance.now() - failedAt).toBeLessThan(1_000)
    expect(snapshot(update).resources[0].lastError).toMatchObject({ code: 'E_LOAD_FAILED', cause: 'db down' })
    stream.close()
  })

  it('sends an update every streamInterval when nothing happens', async () => {
    const { url } = await setup({ streamInterval: 300 })
    const stream = await openStream(`${url}/events`)
    await stream.next((e) => e.event === 'message')
    const since = stream.events.length
    await stream.next((e) => e.event === 'message', since, 2_000)
    stream.close()
  })

  it('ends at stop(), with an end event, and a new stream ends at once while stopped', async () => {
    const { url, resources } = await setup()
    const stream = await openStream(`${url}/events`)
    await stream.next((e) => e.event === 'message')
    await resources.stop()
    const end = await stream.next((e) => e.event === 'end', 0, 1_000)
    expect(JSON.parse(end.data)).toBe('stopped')
    await stream.ended
    const again = await openStream(`${url}/events`)
    await again.ended
    expect(again.events).toEqual([{ event: 'end', data: '"stopped"' }])
  })

  it('ends when its server closes: server.close() does not hang on it', async () => {
    const { url, server } = await setup()
    const streams = await Promise.all([openStream(`${url}/events`), openStream(`${url}/events`)])
    for (const stream of streams) await stream.next((e) => e.event === 'message')
    const started = performance.now()
    await new Promise((resolve) => server.close(resolve))
    expect(performance.now() - started).toBeLessThan(1_000)
    for (const stream of streams) {
      await stream.ended
      expect(stream.events.at(-1)).toEqual({ event: 'end', data: '"server closing"' })
    }
  })

  it('ends at handler.close(), and refuses streams past maxStreams with 503', async () => {
    const { url, handler } = await setup({ maxStreams: 1 })
    const stream = await openStream(`${url}/events`)
    await stream.next((e) => e.event === 'message')
    const refused = await fetch(`${url}/events`)
    expect(refused.status).toBe(503)
    expect(refused.headers.get('retry-after')).toBe('5')
    handler.close()
    await stream.ended
    expect(stream.events.at(-1)).toEqual({ event: 'end', data: '"closed"' })
  })

  it('frees its place when the client goes away', async () => {
    const { url } = await setup({ maxStreams: 1 })
    const first = await openStream(`${url}/events`)
    await first.next((e) => e.event === 'message')
    first.close()
    await first.ended
    // The server hears the close a moment later.
    for (let i = 0; i < 50; i++) {
      const second = await openStream(`${url}/events`)
      if (second.response.statusCode === 200) {
        second.close()
        return
      }
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    throw new Error('the stream that went away still holds its place')
  })
})
