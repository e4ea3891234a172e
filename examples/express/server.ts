// An Express service reading always-warm feature flags: routes read the last good flags
// synchronously; /readyz fails until every resource has a value (a Kubernetes readiness probe).
//
//   npx tsx examples/express/server.ts          (PORT=8080 to choose the port; Ctrl-C to stop)
import { setTimeout as sleep } from 'node:timers/promises'
import { Resources } from 'evergreen-cache'
import express from 'express'

interface Flags {
  newCheckout: boolean
  banner: string | null
}

// Stands in for your flag service (replace with its client, passing `signal` along).
let calls = 0
async function fetchFlags(signal: AbortSignal): Promise<Flags> {
  await sleep(30, undefined, { signal })
  calls++
  return { newCheckout: calls % 2 === 0, banner: null }
}

const resources = new Resources({ interval: '2s', timeout: '1s' })
const flags = resources.define<Flags>('feature-flags', ({ signal }) => fetchFlags(signal))
resources.on('error', (e) => console.error(`${e.name}: ${e.error.message}`))

const app = express()
app.get('/checkout', (_request, response) => {
  response.json({ flow: flags.get().newCheckout ? 'new' : 'classic' })
})
app.get('/readyz', (_request, response) => {
  const report = resources.status()
  response.status(report.healthy ? 200 : 503).json(report)
})

// Without `wait`, the port opens at once and /readyz answers 503 until the first flags are in.
await resources.start()
const server = app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  const address = server.address()
  if (typeof address === 'object' && address !== null)
    console.log(`listening on http://127.0.0.1:${address.port}`)
})

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.close()
    void resources.stop()
  })
}
