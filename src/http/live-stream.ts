import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Resources, Unsubscribe } from '../index.js'

/** How often open streams are checked for a stopped registry or a closing server, in ms. */
const CHECK_MS = 250
/** Shortest gap between two updates pushed because something happened, in ms. */
const PUSH_GAP_MS = 100

interface Client {
  readonly res: ServerResponse
  /** The server the request came through: `listening` turns false as soon as `close()` is called. */
  readonly server: { readonly listening?: boolean } | undefined
}

/**
 * The page's live streams (server-sent events). Every client gets the same update, serialised once:
 * at once when it connects, soon after a load or a failure, and every `interval` otherwise. A stream
 * ends when the registry stops, when its server starts closing (so `server.close()` never waits on
 * it), when the client goes, or on {@link close}. One timer serves all clients, unref'd, and only
 * while there are clients.
 */
export class LiveStreams {
  readonly #clients = new Set<Client>()
  readonly #resources: Resources
  readonly #snapshot: () => string
  readonly #interval: number
  readonly #max: number
  readonly #unsubscribe: Unsubscribe[]
  #timer: ReturnType<typeof setInterval> | undefined
  #push: ReturnType<typeof setTimeout> | undefined
  #lastPush = 0
  #closed = false

  constructor(resources: Resources, snapshot: () => string, interval: number, max: number) {
    this.#resources = resources
    this.#snapshot = snapshot
    this.#interval = interval
    this.#max = max
    const soon = () => this.#soon()
    this.#unsubscribe = [
      resources.on('load', soon),
      resources.on('error', soon),
      resources.on('change', soon),
    ]
  }

  get size(): number {
    return this.#clients.size
  }

  /** Serves a stream on `res`. Returns false (and sends nothing) when full: the caller answers 503. */
  open(req: IncomingMessage, res: ServerResponse): boolean {
    if (this.#closed || this.#clients.size >= this.#max) return false
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
      'x-content-type-options': 'nosniff',
      // A stream's connection is never reused: once it ends, the socket closes, and a closing server
      // does not wait for it to go idle.
      connection: 'close',
    })
    const server = (req.socket as { server?: { listening?: boolean } } | null)?.server
    const client: Client = { res, server }
    // The page reconnects after this many ms when a stream ends while the registry runs.
    res.write('retry: 2000\n\n')
    if (!this.#resources.started) {
      this.#end(client, 'stopped')
      return true
    }
    this.#clients.add(client)
    // The response closes when the client goes (or the stream ends): its place is freed then.
    res.on('close', () => this.#drop(client))
    res.write(`data: ${this.#snapshot()}\n\n`)
    this.#timer ??= setInterval(() => this.#check(), CHECK_MS)
    this.#timer.unref?.()
    return true
  }

  /** Ends every stream and stops listening. */
  close(): void {
    this.#closed = true
    for (const unsubscribe of this.#unsubscribe) unsubscribe()
    for (const client of this.#clients) this.#end(client, 'closed')
    this.#idle()
  }

  #check(): void {
    const stopped = !this.#resources.started
    for (const client of this.#clients) {
      if (stopped) this.#end(client, 'stopped')
      else if (client.server?.listening === false) this.#end(client, 'server closing')
    }
    if (this.#clients.size > 0 && Date.now() - this.#lastPush >= this.#interval) this.#send()
  }

  /** Something happened: an update goes out shortly, several events in a burst making one. */
  #soon(): void {
    if (this.#push !== undefined || this.#clients.size === 0) return
    const wait = Math.max(0, this.#lastPush + PUSH_GAP_MS - Date.now())
    this.#push = setTimeout(() => {
      this.#push = undefined
      if (this.#resources.started) this.#send()
    }, wait)
    this.#push.unref?.()
  }

  #send(): void {
    if (this.#clients.size === 0) return
    this.#lastPush = Date.now()
    const message = `data: ${this.#snapshot()}\n\n`
    for (const client of this.#clients) client.res.write(message)
  }

  #end(client: Client, why: string): void {
    this.#clients.delete(client)
    const { res } = client
    if (!res.writableEnded) {
      res.write(`event: end\ndata: ${JSON.stringify(why)}\n\n`)
      res.end()
    }
    if (this.#clients.size === 0) this.#idle()
  }

  #drop(client: Client): void {
    if (this.#clients.delete(client) && this.#clients.size === 0) this.#idle()
  }

  #idle(): void {
    if (this.#clients.size > 0) return
    if (this.#timer !== undefined) clearInterval(this.#timer)
    if (this.#push !== undefined) clearTimeout(this.#push)
    this.#timer = undefined
    this.#push = undefined
  }
}
