/** Formatting for the demo's output: numbers, durations and plain-text tables. */

const COUNT = new Intl.NumberFormat('en-US')

/** 12,345 */
export function formatCount(n: number): string {
  return COUNT.format(n)
}

/** A latency given in microseconds, in the unit that suits it: `0.21 µs`, `48 µs`, `212 ms`, `1.00 s`. */
export function formatMicros(micros: number | undefined): string {
  if (micros === undefined) return '-'
  if (micros < 10) return `${micros.toFixed(2)} µs`
  if (micros < 1_000) return `${micros.toFixed(0)} µs`
  if (micros < 10_000) return `${(micros / 1_000).toFixed(1)} ms`
  if (micros < 1_000_000) return `${(micros / 1_000).toFixed(0)} ms`
  return `${(micros / 1_000_000).toFixed(2)} s`
}

/** A duration given in milliseconds, in seconds: `0.4 s`. */
export function formatSeconds(ms: number | undefined): string {
  if (ms === undefined) return '-'
  return `${(ms / 1_000).toFixed(1)} s`
}

/** A ratio such as `3.2×` or `41,000×`. */
export function formatRatio(ratio: number): string {
  if (!Number.isFinite(ratio)) return 'infinitely'
  if (ratio < 10) return `${ratio.toFixed(1)}×`
  const digits = Math.floor(Math.log10(ratio))
  const step = 10 ** Math.max(0, digits - 1) // two significant digits
  return `${formatCount(Math.round(ratio / step) * step)}×`
}

export type Align = 'left' | 'right'

/**
 * Lays out `rows` under `header` in columns two spaces apart; numbers read best right-aligned.
 * `minWidths` keeps columns from shifting between updates.
 */
export function table(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  align: readonly Align[],
  minWidths: readonly number[] = [],
) {
  const widths = header.map((h, i) =>
    Math.max(minWidths[i] ?? 0, h.length, ...rows.map((r) => (r[i] ?? '').length)),
  )
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (align[i] === 'right' ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd()
  return { header: line(header), rows: rows.map(line) }
}
