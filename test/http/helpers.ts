// Shared by the HTTP tests: a manual clock for the registry (its refreshes move only when a test
// says so) and a real server on 127.0.0.1, on a random port, closed after its test.
import { createServer, get, type IncomingMessage, type RequestListener, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach } from 'vitest'
import type { Clock } from '../../src/index.js'

export interface ManualClock extends Clock {
  /** Moves time forward by `ms`, running every timer that falls due, in order, with their promises. */
  advance(ms: number): Promise<void>
  /** Moves time forward without running any timer: a process stalled, or a scheduler stuck. */
  jump(ms: number): void
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve))

export function manualClock(start = 1_000_000): ManualClock {
  let now = start
  let ids = 0
  const timers = new Map<number, { at: number; callback: () => void }>()
  return {
    now: () => now,
    setTimeout(callback, ms) {
      const id = ++ids
      timers.set(id, { at: now + Math.max(0, ms), callback })
      return id
    },
    clearTimeout(handle) {
      timers.delete(handle as number)
    },
    async advance(ms) {
      const end = now + ms
      await turn()
      for (;;) {
        let next: [number, { at: number; callback: () => void }] | undefined
        for (const entry of timers)
          if (entry[1].at <= end && (next === undefined || entry[1].at < next[1].at)) next = entry
        if (next === undefined) break
        timers.delete(next[0])
        now = Math.max(now, next[1].at)
        next[1].callback()
        await turn()
      }
      now = end
      await turn()
    },
    jump(ms) {
      now += ms
    },
  }
}

const servers: Server[] = []
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }
})

/** Serves `listener` on 127.0.0.1 at a random port; closed after the test. Returns its base URL. */
export async function serve(listener: RequestListener | Server): Promise<{ url: string; server: Server }> {
  const server = typeof listener === 'function' ? createServer(listener) : listener
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}`, server }
}

/** An open server-sent-events stream: its events as they come, and whether it ended. */
export interface EventStream {
  readonly response: IncomingMessage
  readonly events: { event: string; data: string }[]
  readonly ended: Promise<void>
  /** Resolves with the first event from index `since` on (already received or to come) that satisfies `test`. */
  next(
    test: (event: { event: string; data: string }) => boolean,
    since?: number,
    within?: number,
  ): Promise<{ event: string; data: string }>
  close(): void
}

export function openStream(url: string): Promise<EventStream> {
  return new Promise((resolve, reject) => {
    const request = get(url, (response) => {
      const events: { event: string; data: string }[] = []
      const waiting = new Set<() => void>()
      let buffer = ''
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => {
        buffer += chunk
        let end = buffer.indexOf('\n\n')
        while (end !== -1) {
          const block = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          let event = 'message'
          const data: string[] = []
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) event = line.slice(7)
            else if (line.startsWith('data: ')) data.push(line.slice(6))
          }
          if (data.length > 0) events.push({ event, data: data.join('\n') })
          for (const wake of waiting) wake()
          end = buffer.indexOf('\n\n')
        }
      })
      const ended = new Promise<void>((done) => response.on('close', done))
      resolve({
        response,
        events,
        ended,
        next(test, since = 0, within = 3_000) {
          return new Promise((found, fail) => {
            let seen = since
            const look = () => {
              for (; seen < events.length; seen++) {
                const event = events[seen]!
                if (test(event)) {
                  waiting.delete(look)
                  clearTimeout(timer)
                  found(event)
                  return
                }
              }
            }
            const timer = setTimeout(() => {
              waiting.delete(look)
              fail(new Error(`no such event within ${within} ms; got ${JSON.stringify(events.slice(-3))}`))
            }, within)
            waiting.add(look)
            look()
          })
        },
        close: () => request.destroy(),
      })
    })
    request.on('error', reject)
  })
}
