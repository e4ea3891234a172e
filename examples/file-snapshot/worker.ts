// A queue worker whose pricing table survives a restart: each value is saved to a snapshot file,
// and a worker started while the pricing service is down serves the saved table at once (status
// `restored`) instead of failing, then refreshes when the service is back.
//
//   npx tsx examples/file-snapshot/worker.ts                   (runs 5 s, saves ./var/pricing.json)
//   PRICING_DOWN=1 npx tsx examples/file-snapshot/worker.ts    (starts from the snapshot)
// SNAPSHOT=<path> chooses the file, RUN_FOR=<seconds> how long the worker runs.
import { setTimeout as sleep } from 'node:timers/promises'
import { Resources } from 'evergreen-cache'
import { fileStore } from 'evergreen-cache/file'

type Pricing = Record<string, number>

// Stands in for your pricing service; PRICING_DOWN=1 makes it fail every call.
async function fetchPricing(signal: AbortSignal): Promise<Pricing> {
  await sleep(20, undefined, { signal })
  if (process.env.PRICING_DOWN === '1') throw new Error('pricing service unavailable')
  return { basic: 10, pro: 25, savedAt: Date.now() }
}

const resources = new Resources({
  interval: '1s',
  timeout: '500ms',
  store: fileStore({ path: process.env.SNAPSHOT ?? './var/pricing.json' }),
})
const pricing = resources.define<Pricing>('pricing', ({ signal }) => fetchPricing(signal))

// Resolves as soon as every resource has a value, loaded or restored from the snapshot; rejects
// (SyncError) only when a resource has neither.
await resources.start({ wait: true })
const first = pricing.peek()
console.log(
  JSON.stringify({ started: true, status: first.status, source: first.source, pricing: first.value }),
)

// The work: a job every 200 ms priced with the last good table, never waiting on the service.
const until = Date.now() + Number(process.env.RUN_FOR ?? 5) * 1_000
let jobs = 0
let stopping = false
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => (stopping = true))
while (!stopping && Date.now() < until) {
  const total = 3 * (pricing.get().pro ?? 0)
  jobs++
  if (jobs % 5 === 0) console.log(JSON.stringify({ jobs, total, status: pricing.peek().status }))
  await sleep(200)
}

await resources.stop() // writes the snapshot's last changes, then closes the file store
console.log(JSON.stringify({ stopped: true, jobs }))
