import { type Duration, OptionRangeError, OptionTypeError, parseDuration } from '../index.js'

/** The paths the handler serves, relative to where it is mounted. */
export interface HealthPaths {
  /** Liveness: 200 while the registry is started and its scheduler keeps up. @default '/live' */
  live: string
  /** Readiness: 200 while every critical resource has a value within its `maxStale`. @default '/ready' */
  ready: string
  /** The status JSON. @default '/status' */
  status: string
  /** The inspector page. @default '/' */
  page: string
  /** The page's live stream (server-sent events). @default '/events' */
  stream: string
  /** `POST <refresh>/<name>` refreshes a resource, only with `actions: true`. @default '/refresh' */
  refresh: string
}

/** Options of {@link healthHandler}. */
export interface HealthHandlerOptions {
  /** Paths served; each given one replaces its default. @default see {@link HealthPaths} */
  paths?: Partial<HealthPaths>
  /**
   * A prefix stripped from the request path before matching, for servers that do not strip a mount
   * path themselves (node:http, Fastify). Express's `app.use('/ops', handler)` needs none. @default ''
   */
  basePath?: string
  /** Liveness fails once a due refresh is overdue by more than this. Positive. @default '30s' */
  livenessLag?: Duration
  /**
   * Whether resource values appear in the status JSON and the page (all, or those the function
   * accepts). Values are shown cut to 4 KB of JSON. @default false (never exposed)
   */
  exposeValues?: boolean | ((name: string) => boolean)
  /** Whether `POST <refresh>/<name>` is served (same-origin only, from a browser). @default false */
  actions?: boolean
  /** How often the live stream sends a full update when nothing happens. Positive. @default '1s' */
  streamInterval?: Duration
  /** Most live streams open at once; more are refused with 503. A positive integer. @default 16 */
  maxStreams?: number
  /** Most resources in the status JSON and the page, the failing first; the rest are counted. @default 1000 */
  maxRows?: number
  /** The page's title. @default 'evergreen' */
  title?: string
}

/** Resolved options. */
export interface HandlerSettings {
  readonly paths: Readonly<HealthPaths>
  readonly basePath: string
  readonly livenessLag: number
  readonly exposeValues: (name: string) => boolean
  readonly actions: boolean
  readonly streamInterval: number
  readonly maxStreams: number
  readonly maxRows: number
  readonly title: string
}

const DEFAULT_PATHS: HealthPaths = {
  live: '/live',
  ready: '/ready',
  status: '/status',
  page: '/',
  stream: '/events',
  refresh: '/refresh',
}

const KEYS = new Set([
  'paths',
  'basePath',
  'livenessLag',
  'exposeValues',
  'actions',
  'streamInterval',
  'maxStreams',
  'maxRows',
  'title',
])

function path(value: unknown, option: string): string {
  if (typeof value !== 'string' || !value.startsWith('/') || /[\s?#]/.test(value))
    throw new OptionTypeError(option, "a path starting with '/', without spaces, '?' or '#'", value)
  return value
}

function duration(value: unknown, option: string, fallback: number): number {
  if (value === undefined) return fallback
  const ms = parseDuration(value, option)
  if (!(ms > 0 && Number.isFinite(ms)))
    throw new OptionRangeError(option, 'a positive, finite duration', value)
  return ms
}

function count(value: unknown, option: string, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number') throw new OptionTypeError(option, 'a number', value)
  if (!(Number.isInteger(value) && value >= 1))
    throw new OptionRangeError(option, 'a positive integer', value)
  return value
}

/** Validates the handler's options; errors name the option, what was expected and what was given. */
export function resolveHandlerSettings(raw: unknown): HandlerSettings {
  if (raw !== undefined && (typeof raw !== 'object' || raw === null))
    throw new OptionTypeError('options', 'an object', raw)
  const input = (raw ?? {}) as HealthHandlerOptions
  for (const key of Object.keys(input))
    if (!KEYS.has(key)) throw new OptionTypeError(key, 'a known option (it is not one)', key)
  const given = input.paths ?? {}
  if (typeof given !== 'object' || given === null) throw new OptionTypeError('paths', 'an object', given)
  const paths = { ...DEFAULT_PATHS }
  for (const [key, value] of Object.entries(given)) {
    if (!(key in DEFAULT_PATHS))
      throw new OptionTypeError(`paths.${key}`, 'a known path (it is not one)', key)
    paths[key as keyof HealthPaths] = path(value, `paths.${key}`)
  }
  const basePath = input.basePath === undefined ? '' : path(input.basePath, 'basePath').replace(/\/+$/, '')
  const expose = input.exposeValues ?? false
  if (typeof expose !== 'boolean' && typeof expose !== 'function')
    throw new OptionTypeError('exposeValues', 'a boolean or a function (name) => boolean', expose)
  if (input.actions !== undefined && typeof input.actions !== 'boolean')
    throw new OptionTypeError('actions', 'a boolean', input.actions)
  if (input.title !== undefined && typeof input.title !== 'string')
    throw new OptionTypeError('title', 'a string', input.title)
  return {
    paths,
    basePath,
    livenessLag: duration(input.livenessLag, 'livenessLag', 30_000),
    exposeValues: typeof expose === 'function' ? expose : () => expose,
    actions: input.actions ?? false,
    streamInterval: duration(input.streamInterval, 'streamInterval', 1_000),
    maxStreams: count(input.maxStreams, 'maxStreams', 16),
    maxRows: count(input.maxRows, 'maxRows', 1_000),
    title: input.title ?? 'evergreen',
  }
}
