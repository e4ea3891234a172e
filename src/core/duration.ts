import { OptionRangeError, OptionTypeError } from './errors.js'

/** A duration: a number of milliseconds, or a string such as `'250ms'`, `'10s'`, `'5m'`, `'1h'`, `'1d'`. */
export type Duration = number | `${number}${DurationUnit}`

/** Units a duration string may carry. */
export type DurationUnit = 'ms' | 's' | 'm' | 'h' | 'd'

const UNIT_MS: Record<DurationUnit, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }
const PATTERN = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m|h|d)\s*$/

/**
 * Converts a {@link Duration} to milliseconds. Strings must be a non-negative number followed by
 * one unit; anything else throws an {@link OptionTypeError} naming `option`. Range checks are the caller's.
 */
export function parseDuration(input: unknown, option: string): number {
  if (typeof input === 'number') {
    if (Number.isNaN(input)) throw new OptionTypeError(option, 'a duration in ms, not NaN', input)
    return input
  }
  if (typeof input === 'string') {
    const match = PATTERN.exec(input)
    if (match === null) {
      throw new OptionTypeError(option, "a duration such as 250, '250ms', '10s', '5m', '1h' or '1d'", input)
    }
    return Number(match[1]) * UNIT_MS[match[2] as DurationUnit]
  }
  throw new OptionTypeError(option, "a duration: a number of ms or a string such as '10s'", input)
}

/** A {@link Duration} that must be positive (and finite unless `allowInfinity`), in ms; throws naming `option`. */
export function positiveDuration(value: unknown, option: string, allowInfinity: boolean): number {
  const ms = parseDuration(value, option)
  const expected = allowInfinity ? 'a positive duration or Infinity' : 'a positive, finite duration'
  if (!(ms > 0) || (!allowInfinity && !Number.isFinite(ms)))
    throw new OptionRangeError(option, expected, value)
  return ms
}
