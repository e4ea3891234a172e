// A Kubernetes-style watch: the loader lists the pods (and the list's resourceVersion), a watch
// stream from that version pushes each change with set(), and the refresh every minute is the safety
// net that catches a stream that silently stalled. get() always answers at once with the newest list.
//
//   npx tsx examples/watch/watcher.ts          (Ctrl-C to stop; RUN_FOR=<seconds> to stop by itself)
import { setTimeout as sleep } from 'node:timers/promises'
import { Resources } from 'evergreen-cache'

interface Pod {
  readonly name: string
  readonly phase: 'Pending' | 'Running'
}
interface PodList {
  readonly resourceVersion: number
  readonly pods: readonly Pod[]
}
type WatchEvent = { type: 'ADDED' | 'MODIFIED' | 'DELETED'; pod: Pod; resourceVersion: number }

// ---- stands in for the API server (replace with your client's list and watch calls) ----------
let serverVersion = 1
let serverPods: Pod[] = [{ name: 'web-1', phase: 'Running' }]

async function listPods(signal: AbortSignal): Promise<PodList> {
  await sleep(30, undefined, { signal })
  return { resourceVersion: serverVersion, pods: serverPods }
}

/** Every 300 ms a pod is added, becomes Running, or is deleted; events newer than `from` are streamed. */
async function* watchPods(from: number, signal: AbortSignal): AsyncGenerator<WatchEvent> {
  let next = 2
  while (!signal.aborted) {
    await sleep(300, undefined, { signal }).catch(() => {})
    if (signal.aborted) return
    serverVersion++
    const pending = serverPods.find((p) => p.phase === 'Pending')
    let event: WatchEvent
    if (pending !== undefined) {
      const pod: Pod = { name: pending.name, phase: 'Running' }
      serverPods = serverPods.map((p) => (p.name === pod.name ? pod : p))
      event = { type: 'MODIFIED', pod, resourceVersion: serverVersion }
    } else if (serverPods.length >= 3) {
      const pod = serverPods[0] as Pod
      serverPods = serverPods.slice(1)
      event = { type: 'DELETED', pod, resourceVersion: serverVersion }
    } else {
      const pod: Pod = { name: `web-${next++}`, phase: 'Pending' }
      serverPods = [...serverPods, pod]
      event = { type: 'ADDED', pod, resourceVersion: serverVersion }
    }
    if (event.resourceVersion > from) yield event
  }
}

// ---- the application -----------------------------------------------------------------------
const resources = new Resources({ interval: '1m' })
const pods = resources.define<PodList>('pods', ({ signal }) => listPods(signal))

/** The list after one watch event. */
function applied(list: PodList, event: WatchEvent): PodList {
  const others = list.pods.filter((p) => p.name !== event.pod.name)
  return {
    resourceVersion: event.resourceVersion,
    pods: event.type === 'DELETED' ? others : [...others, event.pod],
  }
}

resources.on('change', ({ source, version }) => {
  const list = pods.get()
  const shown = list.pods.map((p) => `${p.name} (${p.phase})`).join(', ')
  console.log(`pods from ${source}, version ${version}: ${shown}`)
})

await resources.start({ within: '10s' })

const stopping = new AbortController()
async function watch(): Promise<void> {
  // A real watch reconnects from the last resourceVersion it saw; a `410 Gone` means list again
  // (`await pods.refresh()`) and watch from the new list's version.
  for await (const event of watchPods(pods.get().resourceVersion, stopping.signal)) {
    const current = pods.get()
    // A refresh may have brought a newer list than this event: keep the newer one.
    if (event.resourceVersion > current.resourceVersion) pods.set(applied(current, event))
  }
}
const watching = watch()

async function stop(): Promise<void> {
  stopping.abort()
  await watching
  await resources.stop()
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void stop())
const runFor = Number(process.env.RUN_FOR ?? 0)
if (runFor > 0) setTimeout(() => void stop(), runFor * 1_000).unref()
