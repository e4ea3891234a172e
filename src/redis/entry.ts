// The keys of one resource, and what is read back from them: every field checked (a key may hold
// anything), load times made trustworthy across replicas whose clocks disagree.

/** The keys of one resource under `prefix`; the `{name}` hash tag keeps them in one Cluster slot. */
export function keysOf(prefix: string, name: string): { value: string; lease: string; fence: string } {
  const base = `${prefix}:{${name}}`
  return { value: `${base}:value`, lease: `${base}:lease`, fence: `${base}:fence` }
}

/** The largest version (and token) a store keeps: versions are integers in [0, 2^53). */
const VERSION_DIGITS = /^\d{1,16}$/

/** A stored version: a positive integer below 2^53 in decimal digits, else `undefined` (corrupt). */
export function parseVersion(text: unknown): number | undefined {
  if (typeof text !== 'string' || !VERSION_DIGITS.test(text)) return undefined
  const version = Number(text)
  return Number.isSafeInteger(version) && version > 0 ? version : undefined
}

/** A stored time in ms since the epoch, within the range of a `Date`, else `undefined`. */
function parseTime(text: unknown): number | undefined {
  if (typeof text !== 'string' || text.length === 0 || text.length > 24) return undefined
  const time = Number(text)
  return Number.isFinite(time) && Math.abs(time) <= 8.64e15 ? time : undefined
}

/** A difference between the writer's and the reader's clocks below this is not corrected. */
export const CLOCK_TOLERANCE_MS = 1_000

/**
 * The load time to hand out, on the reader's clock. `loadedAt` is the writer's clock; `stamp` the
 * same moment on the Redis server's clock. The server's clock gives the true age (`serverNow −
 * stamp`), so when the writer's clock disagrees with the reader's by more than the tolerance, the
 * load time is the reader's now less that age. Never later than the reader's now: a load time from
 * the future (a clock ahead, a forged entry) would make a value look fresh for ever.
 */
export function trustedLoadedAt(
  loadedAt: number,
  stamp: number | undefined,
  serverNow: number | undefined,
  localNow: number,
): number {
  if (stamp !== undefined && serverNow !== undefined && stamp <= serverNow) {
    const onOurClock = localNow - (serverNow - stamp)
    if (Math.abs(loadedAt - onOurClock) > CLOCK_TOLERANCE_MS) return onOurClock
  }
  return Math.min(loadedAt, localNow)
}

/** What a `READ` found for one resource. */
export type ReadResult =
  | { readonly kind: 'none' }
  | { readonly kind: 'corrupt'; readonly why: string }
  | {
      readonly kind: 'entry'
      readonly version: number
      readonly loadedAt: number
      /** Size of the stored value in bytes. */
      readonly size: number
      /** The stored value; `undefined` when not asked for, or larger than the cap. */
      readonly payload: string | undefined
      /** The schema version it was written under, if any. */
      readonly schemaVersion: number | undefined
    }

const shown = (value: unknown): string => {
  const text = typeof value === 'string' ? JSON.stringify(value) : String(value)
  return text.length > 40 ? `${text.slice(0, 37)}...` : text
}

/** Checks a `READ` reply, and puts its load time on the reader's clock (`localNow`). */
export function parseRead(reply: unknown, withValue: boolean, localNow: number): ReadResult {
  if (!Array.isArray(reply)) return { kind: 'corrupt', why: 'an unexpected reply' }
  const [status, serverNow, version, loadedAt, stamp, size, payload, schema] = reply as unknown[]
  if (status === 0) return { kind: 'none' }
  if (status === 2) return { kind: 'corrupt', why: `its key holds a ${shown(version)}, not a hash` }
  const v = parseVersion(version)
  if (v === undefined)
    return { kind: 'corrupt', why: `its version is ${shown(version)}, not an integer in [1, 2^53)` }
  const at = parseTime(loadedAt)
  if (at === undefined) return { kind: 'corrupt', why: `its load time is ${shown(loadedAt)}, not a time` }
  // Asked for and not given: withheld for its size, or missing (a size of 0).
  if (withValue && typeof payload !== 'string' && !(typeof size === 'number' && size > 0))
    return { kind: 'corrupt', why: 'it has no value' }
  // A schema version is an integer in [0, 2^53); absent (nil) for an entry written without one.
  const schemaVersion = typeof schema === 'string' && VERSION_DIGITS.test(schema) ? Number(schema) : undefined
  if (schema !== null && schema !== undefined && !Number.isSafeInteger(schemaVersion))
    return { kind: 'corrupt', why: `its schema version is ${shown(schema)}, not an integer` }
  return {
    kind: 'entry',
    version: v,
    loadedAt: trustedLoadedAt(
      at,
      parseTime(stamp),
      typeof serverNow === 'number' ? serverNow : undefined,
      localNow,
    ),
    size: typeof size === 'number' ? size : 0,
    payload: typeof payload === 'string' ? payload : undefined,
    schemaVersion,
  }
}
