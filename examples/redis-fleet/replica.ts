// One replica of a service run as a fleet on Redis: start two (or more) and each resource is loaded
// by one replica per interval for the whole fleet; the others take the value from Redis within
// milliseconds. Each replica serves /rates and /stats.
//
//   redis-server --port 6379 &
//   PORT=3001 npx tsx examples/redis-fleet/replica.ts &
//   PORT=3002 npx tsx examples/redis-fleet/replica.ts &
//   curl -s 127.0.0.1:3001/stats; curl -s 127.0.0.1:3002/stats
// REDIS_URL chooses the server (default redis://127.0.0.1:6379). Needs `npm install ioredis`.
import { createServer } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import { Resources } from 'evergreen-cache'
import { redisStore } from 'evergreen-cache/redis'

type Rates = Record<string, number>

// Stands in for a backend that is slow or rate-limited, the reason to load once per fleet.
let ownLoads = 0
async function fetchRates(signal: AbortSignal): Promise<Rates> {
  await sleep(100, undefined, { signal })
  ownLoads++
  return { EUR: 0.92, loadedBy: process.pid }
}

const resources = new Resources({
  interval: '1s',
  store: redisStore({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', prefix: 'example-fleet' }),
})
const rates = resources.define<Rates>('exchange-rates', ({ signal }) => fetchRates(signal))
const seen = { load: 0, fleet: 0, store: 0 }
resources.on('change', (e) => {
  if (e.source in seen) seen[e.source as keyof typeof seen]++
})

const server = createServer((request, response) => {
  const { value, version, source } = rates.peek()
  const body = request.url === '/stats' ? { pid: process.pid, ownLoads, changes: seen, version } : value
  response.writeHead(request.url === '/rates' || request.url === '/stats' ? 200 : 404, {
    'content-type': 'application/json',
  })
  response.end(JSON.stringify(request.url === '/rates' ? { ...value, version, source } : body))
})

await resources.start({ wait: true })
server.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  const address = server.address()
  if (typeof address === 'object' && address !== null)
    console.log(`listening on http://127.0.0.1:${address.port}`)
})

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.close()
    void resources.stop() // closes the Redis connections the store opened
  })
}
