import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Registry } from 'prom-client'
import { healthHandler } from '../../src/http/index.js'
import type { Resources } from '../../src/index.js'
import { prometheusMetrics } from '../../src/prometheus/index.js'

/** The demo as an HTTP service: the inspector page, the probes, the status JSON and `/metrics`. */
export interface Service {
  readonly url: string
  close(): Promise<void>
}

/** Serves `resources` on 127.0.0.1:`port` (0 for any free port). */
export async function serve(resources: Resources, port: number): Promise<Service> {
  const handler = healthHandler(resources, { actions: true, title: 'evergreen demo' })
  const registry = new Registry()
  const metrics = prometheusMetrics(resources, { registry })
  const server: Server = createServer((req, res) => {
    if (req.url?.split('?')[0] !== '/metrics') return handler(req, res)
    registry.metrics().then(
      (text) => {
        res.writeHead(200, { 'content-type': registry.contentType })
        res.end(text)
      },
      () => {
        res.writeHead(500).end()
      },
    )
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', resolve)
  })
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    url,
    async close() {
      handler.close()
      metrics.close()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}
