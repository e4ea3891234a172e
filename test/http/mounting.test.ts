// The handler mounts as it is in Express (under a path, unknown paths passed on) and in Fastify
// (on the raw request and response, with basePath).
import express from 'express'
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { healthHandler } from '../../src/http/index.js'
import { Resources } from '../../src/index.js'
import { openStream, serve } from './helpers.js'

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup()
})

async function registry(): Promise<Resources> {
  const resources = new Resources({ interval: '1m' })
  resources.define('<script>', () => 'v')
  await resources.start({ wait: true })
  cleanups.push(() => resources.stop())
  return resources
}

describe('mounting', () => {
  it('works in Express under a mount path, passing unknown paths on', async () => {
    const resources = await registry()
    const handler = healthHandler(resources)
    cleanups.push(async () => handler.close())
    const app = express()
    app.use('/ops', handler)
    app.get('/ops/custom', (_req, res) => {
      res.send('express route')
    })
    const { url } = await serve(app)
    expect((await fetch(`${url}/ops/ready`)).status).toBe(200)
    const status = (await (await fetch(`${url}/ops/status`)).json()) as { resources: { name: string }[] }
    expect(status.resources[0]?.name).toBe('<script>')
    // The page links its stream under the mount path, wherever it was reached.
    for (const path of ['/ops', '/ops/']) {
      const html = await (await fetch(url + path)).text()
      expect(html, path).toContain('data-stream="/ops/events"')
      expect(html, path).toContain('&lt;script&gt;')
    }
    expect(await (await fetch(`${url}/ops/custom`)).text()).toBe('express route')
    expect((await fetch(`${url}/ops/unknown`)).status).toBe(404) // Express's own 404
    const stream = await openStream(`${url}/ops/events`)
    await stream.next((e) => e.event === 'message')
    stream.close()
  })

  it('works in Fastify on the raw request and response, with basePath', async () => {
    const resources = await registry()
    const handler = healthHandler(resources, { basePath: '/ops' })
    const app = Fastify()
    const mount = (request: FastifyRequest, reply: FastifyReply) => {
      reply.hijack()
      handler(request.raw, reply.raw)
    }
    app.all('/ops', mount)
    app.all('/ops/*', mount)
    cleanups.push(async () => {
      handler.close()
      await app.close()
    })
    await app.listen({ port: 0, host: '127.0.0.1' })
    const address = app.server.address()
    const url = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`
    expect((await fetch(`${url}/ops/live`)).status).toBe(200)
    expect((await fetch(`${url}/ops/ready`)).headers.get('content-type')).toBe(
      'application/json; charset=utf-8',
    )
    expect(await (await fetch(`${url}/ops`)).text()).toContain('data-stream="/ops/events"')
    expect((await fetch(`${url}/ops/nothing`)).status).toBe(404)
    const stream = await openStream(`${url}/ops/events`)
    await stream.next((e) => e.event === 'message')
    // Fastify's close waits for its connections: the stream ends as the server starts closing.
    const started = performance.now()
    await app.close()
    expect(performance.now() - started).toBeLessThan(1_500)
    await stream.ended
  })
})
