// A Fastify service reading always-warm signing keys (a JWKS): the registry starts with the
// server and stops in its onClose hook.
//
//   npx tsx examples/fastify/server.ts          (PORT=8080 to choose the port; Ctrl-C to stop)
import { setTimeout as sleep } from 'node:timers/promises'
import { Resources } from 'evergreen-cache'
import Fastify from 'fastify'

interface Jwks {
  keys: { kid: string; kty: 'OKP'; crv: 'Ed25519'; x: string }[]
}

// Stands in for your identity provider's JWKS endpoint (replace with `fetch(url, { signal })`).
let rotation = 0
async function fetchJwks(signal: AbortSignal): Promise<Jwks> {
  await sleep(40, undefined, { signal })
  rotation++
  return { keys: [{ kid: `key-${rotation}`, kty: 'OKP', crv: 'Ed25519', x: 'example' }] }
}

const resources = new Resources({ interval: '2s', timeout: '1s' })
const jwks = resources.define<Jwks>('jwks', ({ signal }) => fetchJwks(signal))

const app = Fastify({ logger: false })
app.addHook('onClose', async () => resources.stop())
app.get('/keys', async () => jwks.get())
app.get('/keys/:kid', async (request, reply) => {
  const { kid } = request.params as { kid: string }
  const key = jwks.get().keys.find((k) => k.kid === kid)
  return key ?? reply.code(404).send({ error: `unknown key ${kid}` })
})
app.get('/healthz', async (_request, reply) => {
  const report = resources.status()
  return reply.code(report.healthy ? 200 : 503).send(report)
})

await resources.start({ wait: true })
const address = await app.listen({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' })
console.log(`listening on ${address}`)

for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void app.close())
