/**
 * Small helpers shared by the benchmarks: statistics, markdown tables, verdicts and garbage
 * collection. Every number a benchmark reports goes through here, so they all read the same way.
 */
import { readFileSync } from 'node:fs'
import { setTimeout as delay } from 'node:timers/promises'

/** Resolves after `ms` milliseconds of real time. */
export const sleep = (ms: number): Promise<void> => delay(ms)

/** Resolves after the current turn of the event loop (lets timers and I/O callbacks run). */
export const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/** The `q`-quantile (0..1) of `values`, nearest-rank on a sorted copy. `NaN` for no values. */
export function quantile(values: ArrayLike<number>, q: number): number {
  const n = values.length
  if (n === 0) return Number.NaN
  const sorted = Float64Array.from(values).sort()
  const rank = Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))
  return sorted[rank]!
}

export const median = (values: ArrayLike<number>): number => quantile(values, 0.5)

export function mean(values: ArrayLike<number>): number {
  let sum = 0
  for (let i = 0; i < values.length; i++) sum += values[i]!
  return values.length === 0 ? Number.NaN : sum / values.length
}

/** A number with at most `digits` decimals and thousands separators. */
export function fmt(value: number, digits = 1): string {
  if (!Number.isFinite(value)) return String(value)
  return value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 })
}

/** Bytes as a human size, e.g. `1.2 MiB`. */
export function bytes(value: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB']
  let v = value
  let unit = 0
  while (Math.abs(v) >= 1024 && unit < units.length - 1) {
    v /= 1024
    unit++
  }
  return `${fmt(v, 1)} ${units[unit]}`
}

/** A markdown table. */
export function table(headers: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const line = (cells: readonly (string | number)[]) => `| ${cells.map(String).join(' | ')} |`
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n')
}

/** One line of a section's verdict table. */
export interface Check {
  readonly target: string
  readonly measured: string
  readonly met: boolean
}

export const verdict = (met: boolean): string => (met ? 'met' : '**missed**')

/** The standard "Targets" table every section ends its summary with. */
export function checks(list: readonly Check[]): string {
  return table(
    ['Target', 'Measured', 'Result'],
    list.map((c) => [c.target, c.measured, verdict(c.met)]),
  )
}

type Gc = (options?: { type?: 'major' | 'minor'; execution?: 'sync' | 'async' }) => void

/** The `gc()` function exposed by `--expose-gc`; throws a clear error when it is missing. */
export function gcFunction(): Gc {
  const gc = (globalThis as { gc?: Gc }).gc
  if (typeof gc !== 'function')
    throw new Error('run the benchmarks with node --expose-gc (npm run bench does)')
  return gc
}

/**
 * `process.memoryUsage().heapUsed` after full collections. Collects several times with turns of the
 * event loop in between, so that objects freed by finalizers or by settled promises are gone too.
 */
export async function heapUsedAfterGc(): Promise<number> {
  const gc = gcFunction()
  for (let i = 0; i < 4; i++) {
    gc()
    await turn()
  }
  gc()
  return process.memoryUsage().heapUsed
}

/** Nanoseconds since an arbitrary origin, as a number (precise to well below a microsecond). */
export const nowNs = (): number => Number(process.hrtime.bigint())

/** The machine's CPU time so far, from Linux's `/proc/stat` (in clock ticks), or `undefined` elsewhere. */
export interface MachineCpu {
  /** Ticks the hypervisor gave to other guests while this one wanted to run. */
  readonly steal: number
  /** Every tick counted, all cores. */
  readonly total: number
}

export function machineCpu(): MachineCpu | undefined {
  let line: string | undefined
  try {
    line = readFileSync('/proc/stat', 'utf8').split('\n')[0]
  } catch {
    return undefined
  }
  if (line === undefined || !line.startsWith('cpu ')) return undefined
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = line
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number)
  return { steal, total: user + nice + system + idle + iowait + irq + softirq + steal }
}
