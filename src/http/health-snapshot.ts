import type {
  ErrorJSON,
  FamilyHealth,
  ResourceHealth,
  ResourceStatus,
  Resources,
  ValueSource,
} from '../index.js'
import type { HandlerSettings } from './handler-options.js'
import type { LoadHistory, RecentError } from './load-history.js'

/** Longest JSON of a value shown when values are exposed, in characters. */
export const VALUE_JSON_MAX = 4096

/** One resource in the status JSON and the page. Times are whole ms, instants ISO strings. */
export interface ResourceRow {
  readonly name: string
  readonly status: ResourceStatus
  readonly critical: boolean
  readonly source: ValueSource | undefined
  readonly age: number | undefined
  readonly updatedAt: string | undefined
  readonly failingSince: string | undefined
  readonly nextRefreshIn: number | undefined
  readonly interval: number
  readonly maxStale: number | undefined
  readonly loading: boolean
  readonly loads: number
  readonly failures: number
  readonly consecutiveFailures: number
  readonly version: number
  readonly lastError: ErrorJSON | undefined
  /** Recent load durations in ms, oldest first. */
  readonly durations: readonly number[]
  /** Recent errors, oldest first. */
  readonly errors: readonly RecentError[]
  /** The value, only when exposed: its JSON (cut to 4,096 characters). */
  readonly value?: string
}

/**
 * The status JSON, also what the live stream sends. Each family appears in `families` as one
 * summary row, never as one row per key.
 */
export interface HealthSnapshot {
  /** When it was taken (ISO). */
  readonly at: string
  /** Liveness: started, and no refresh overdue by more than `livenessLag`. */
  readonly live: boolean
  /** Readiness: started, and every critical resource has a value within its `maxStale`. */
  readonly ready: boolean
  readonly started: boolean
  /** Ms by which the earliest due refresh is overdue. */
  readonly lag: number
  /** Resources by status, all of them counted. */
  readonly counts: Readonly<Partial<Record<ResourceStatus, number>>>
  /** The resources, the failing first, at most `maxRows`. */
  readonly resources: readonly ResourceRow[]
  /** Resources left out past `maxRows`. */
  readonly omitted: number
  readonly families: readonly FamilyHealth[]
}

/** Worst first: the order of rows on the page. */
const SEVERITY: Record<ResourceStatus, number> = {
  failed: 0,
  stale: 1,
  degraded: 2,
  pending: 3,
  restored: 4,
  ready: 5,
}

/** A resource's value as a short JSON text, never throwing. */
export function valueText(value: unknown): string {
  try {
    const json = JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? `${v}` : v))
    if (json === undefined) return String(value)
    return json.length > VALUE_JSON_MAX ? `${json.slice(0, VALUE_JSON_MAX - 1)}…` : json
  } catch {
    return '(a value that cannot be shown as JSON)'
  }
}

function exposed(settings: HandlerSettings, name: string): boolean {
  try {
    return settings.exposeValues(name) === true
  } catch {
    return false
  }
}

function isFailing(r: ResourceHealth): boolean {
  return r.status === 'pending' || r.status === 'failed' || r.status === 'stale'
}

/** Liveness and readiness from one report. */
export function verdicts(resources: Resources, livenessLag: number) {
  const report = resources.status()
  return {
    report,
    live: report.started && report.lag <= livenessLag,
    ready: report.started && report.healthy,
  }
}

/** The names of the failing resources, critical or not: what a readiness answer lists. */
export function failingNames(report: ReturnType<Resources['status']>, critical: boolean, max = 20): string[] {
  const names: string[] = []
  for (const r of report.resources) {
    if (r.critical === critical && isFailing(r)) names.push(r.name)
    if (names.length === max) break
  }
  return names
}

/** Builds the status JSON: `status()`, the recent history, values only where exposed. */
export function takeSnapshot(
  resources: Resources,
  history: LoadHistory,
  settings: HandlerSettings,
): HealthSnapshot {
  const { report, live, ready } = verdicts(resources, settings.livenessLag)
  const counts: Partial<Record<ResourceStatus, number>> = {}
  for (const r of report.resources) counts[r.status] = (counts[r.status] ?? 0) + 1
  const sorted = [...report.resources].sort((a, b) => SEVERITY[a.status] - SEVERITY[b.status])
  const shown = sorted.slice(0, settings.maxRows)
  const rows = shown.map((r): ResourceRow => {
    const row: ResourceRow = {
      name: r.name,
      status: r.status,
      critical: r.critical,
      source: r.source,
      age: r.age,
      updatedAt: r.updatedAt,
      failingSince: r.failingSince,
      nextRefreshIn: r.nextRefreshIn,
      interval: r.interval,
      maxStale: r.maxStale,
      loading: r.loading,
      loads: r.loads,
      failures: r.failures,
      consecutiveFailures: r.consecutiveFailures,
      version: r.version,
      lastError: r.lastError?.toJSON(),
      durations: history.durations(r.name),
      errors: history.errors(r.name),
    }
    if (!exposed(settings, r.name) || !resources.has(r.name)) return row
    const peeked = resources.resource(r.name).peek()
    return peeked.hasValue ? { ...row, value: valueText(peeked.value) } : row
  })
  return {
    at: new Date().toISOString(),
    live,
    ready,
    started: report.started,
    lag: report.lag,
    counts,
    resources: rows,
    omitted: sorted.length - shown.length,
    families: report.families,
  }
}
