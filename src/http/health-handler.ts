import { randomBytes } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { EvergreenError, type Resources } from '../index.js'
import { type HandlerSettings, type HealthHandlerOptions, resolveHandlerSettings } from './handler-options.js'
import { failingNames, takeSnapshot, valueText, verdicts } from './health-snapshot.js'
import { inspectorPage } from './inspector-page.js'
import { LiveStreams } from './live-stream.js'
import { LoadHistory } from './load-history.js'
import { send, sendJson } from './respond.js'

/** A `(req, res, next?)` handler for node:http, Express, Fastify (`reply.raw`) and the like. */
export interface HealthHandler {
  (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void): void
  /** Ends the live streams and stops listening to the registry. Idempotent. */
  close(): void
}

type Route = (req: IncomingMessage, res: ServerResponse, head: boolean, prefix: string) => void

/**
 * Serves a registry's health over HTTP: liveness, readiness, the status JSON, the inspector page
 * and its live stream, and (only with `actions: true`) `POST <refresh>/<name>`. Read-only by
 * default, values never shown unless `exposeValues` says so. Unknown paths go to `next` when there
 * is one (Express), else get 404.
 *
 * ```ts
 * const handler = healthHandler(resources)
 * createServer(handler).listen(9464)
 * ```
 */
export function healthHandler(resources: Resources, options?: HealthHandlerOptions): HealthHandler {
  const settings = resolveHandlerSettings(options)
  const history = new LoadHistory(resources, settings.maxRows)
  const snapshot = () => takeSnapshot(resources, history, settings)
  const streams = new LiveStreams(
    resources,
    () => JSON.stringify(snapshot()),
    settings.streamInterval,
    settings.maxStreams,
  )
  const { paths } = settings
  const routes = new Map<string, Route>([
    [paths.live, (_req, res, head) => live(resources, settings, res, head)],
    [paths.ready, (_req, res, head) => ready(resources, settings, res, head)],
    [paths.status, (_req, res, head) => sendJson(res, 200, snapshot(), head)],
    [
      paths.page,
      (_req, res, head, prefix) => {
        const nonce = randomBytes(16).toString('base64')
        const links = {
          stream: prefix + paths.stream,
          refresh: settings.actions ? prefix + paths.refresh : undefined,
        }
        send(
          res,
          200,
          'text/html; charset=utf-8',
          inspectorPage(snapshot(), links, settings.title, nonce),
          head,
          {
            'content-security-policy':
              `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; ` +
              "connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
            'referrer-policy': 'no-referrer',
          },
        )
      },
    ],
    [
      paths.stream,
      (req, res, head) => {
        if (head) send(res, 200, 'text/event-stream; charset=utf-8', '', true)
        else if (!streams.open(req, res))
          sendJson(res, 503, { error: 'too many live streams open' }, false, { 'retry-after': '5' })
      },
    ],
  ])

  const handler = ((req, res, next) => {
    try {
      route(req, res, next)
    } catch {
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' }, false)
      else res.end()
    }
  }) as HealthHandler

  function route(req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void) {
    const raw = req.url ?? '/'
    let path = raw.split('?', 1)[0] ?? '/'
    if (settings.basePath !== '') {
      if (path !== settings.basePath && !path.startsWith(`${settings.basePath}/`)) return missing(res, next)
      path = path.slice(settings.basePath.length)
    }
    if (path === '') path = '/'
    const method = req.method ?? 'GET'
    if (settings.actions && path.startsWith(`${paths.refresh}/`)) {
      return refresh(resources, settings, req, res, path.slice(paths.refresh.length + 1))
    }
    const serve = routes.get(path)
    if (serve === undefined) return missing(res, next)
    if (method !== 'GET' && method !== 'HEAD') {
      return sendJson(res, 405, { error: `${method} is not allowed here` }, false, { allow: 'GET, HEAD' })
    }
    serve(req, res, method === 'HEAD', prefixOf(req, raw, settings))
  }

  handler.close = () => {
    streams.close()
    history.close()
  }
  return handler
}

function missing(res: ServerResponse, next: ((error?: unknown) => void) | undefined): void {
  if (next !== undefined) next()
  else sendJson(res, 404, { error: 'not found' }, false)
}

/** The path the handler is mounted under, for the page's links: Express strips it from `req.url`. */
function prefixOf(req: IncomingMessage, url: string, settings: HandlerSettings): string {
  const original = (req as { originalUrl?: unknown }).originalUrl
  if (typeof original !== 'string' || original === url) return settings.basePath
  const full = original.split('?', 1)[0] ?? ''
  const own = url.split('?', 1)[0] ?? ''
  if (full.endsWith(own)) return full.slice(0, full.length - own.length)
  return own === '/' ? full.replace(/\/$/, '') : settings.basePath
}

function live(resources: Resources, settings: HandlerSettings, res: ServerResponse, head: boolean): void {
  const { report, live } = verdicts(resources, settings.livenessLag)
  sendJson(
    res,
    live ? 200 : 503,
    { live, started: report.started, lag: report.lag, livenessLag: settings.livenessLag },
    head,
  )
}

function ready(resources: Resources, settings: HandlerSettings, res: ServerResponse, head: boolean): void {
  const { report, ready } = verdicts(resources, settings.livenessLag)
  sendJson(
    res,
    ready ? 200 : 503,
    {
      ready,
      started: report.started,
      failing: failingNames(report, true),
      failingOptional: failingNames(report, false),
    },
    head,
  )
}

/** `POST <refresh>/<name>`: refreshes now; same-origin only when a browser sends it. */
function refresh(
  resources: Resources,
  settings: HandlerSettings,
  req: IncomingMessage,
  res: ServerResponse,
  encoded: string,
) {
  if (req.method !== 'POST')
    return sendJson(res, 405, { error: 'refresh is POST only' }, false, { allow: 'POST' })
  const origin = req.headers.origin
  if (origin !== undefined && !sameOrigin(origin, req.headers.host))
    return sendJson(res, 403, { error: 'cross-origin actions are refused' }, false)
  let name: string
  try {
    name = decodeURIComponent(encoded)
  } catch {
    return sendJson(res, 400, { error: 'malformed resource name' }, false)
  }
  let resource: ReturnType<Resources['resource']>
  try {
    resource = resources.resource(name) // an unknown name, or a family's, is not a resource
  } catch {
    return sendJson(res, 404, { error: 'no such resource' }, false)
  }
  resource.refresh().then(
    (value) => {
      const body: Record<string, unknown> = { name, refreshed: true, version: resource.peek().version }
      let shown = false
      try {
        shown = settings.exposeValues(name) === true
      } catch {}
      if (shown) body.value = valueText(value)
      sendJson(res, 200, body, false)
    },
    (error: unknown) => {
      const json = error instanceof EvergreenError ? error.toJSON() : { message: 'refresh failed' }
      const status = error instanceof EvergreenError && error.code === 'E_STOPPED' ? 409 : 502
      sendJson(res, status, { name, refreshed: false, error: json }, false)
    },
  )
}

function sameOrigin(origin: string, host: string | undefined): boolean {
  try {
    return host !== undefined && new URL(origin).host === host
  } catch {
    return false
  }
}
