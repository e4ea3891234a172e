// An HTTP service on node:http that answers from always-warm values: the handler reads the last
// good exchange rates synchronously, whatever the backend is doing, and /healthz reports readiness.
//
//   npx tsx examples/node-http/server.ts          (PORT=8080 to choose the port; Ctrl-C to stop)
import { createServer } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import { Resources } from 'evergreen-cache'

type Rates = Record<string, number>

// Stands in for your backend (replace with `fetch(url, { signal })`): 50 ms, and every fourth call
// fails, which the service never shows: the last good value is served meanwhile.
let calls = 0
async function fetchRates(signal: AbortSignal): Promise<Rates> {
  await sleep(50, undefined, { signal })
  if (++calls % 4 === 0) throw new Error('rates backend: HTTP 503')
  return { EUR: 0.92 + (calls % 10) / 1000, GBP: 0.79 }
}

const resources = new Resources({ interval: '2s', timeout: '1s' })
const rates = resources.define<Rates>('exchange-rates', ({ signal }) => fetchRates(signal))
resources.on('error', (e) => console.error(`${e.name}: ${e.error.message} (retry in ${e.retryIn} ms)`))

const server = createServer((request, response) => {
  const json = (status: number, body: unknown) => {
    response.writeHead(status, { 'content-type': 'application/json' })
    response.end(JSON.stringify(body))
  }
  if (request.url === '/rates') return json(200, rates.get())
  if (request.url === '/healthz') {
    const report = resources.status()
    return json(report.healthy ? 200 : 503, report)
  }
  json(404, { error: 'not found' })
})

await resources.start({ wait: true }) // the first rates are in before the port opens
server.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  const address = server.address()
  if (typeof address === 'object' && address !== null)
    console.log(`listening on http://127.0.0.1:${address.port}`)
})

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.close()
    void resources.stop() // aborts a load in flight; the process then exits by itself
  })
}
