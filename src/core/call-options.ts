// The arguments of the registry's calls (start, remove, on), checked in one place: a bad call
// throws an OptionTypeError at the call, as a bad option of the constructor or of define does.
import { OptionTypeError } from './errors.js'
import type { ResourcesEvents } from './events.js'
import { checkOptionKeys } from './options.js'

/** Options of `Resources.start`. */
export interface StartOptions {
  /**
   * Resolve once every resource defined so far has a value or has settled its first load, and
   * reject with `SyncError` if any has no value then. The background loop runs either way.
   * @default false
   */
  wait?: boolean
}

/** Options of `Resources.remove`. */
export interface RemoveOptions {
  /**
   * Keep the resource's saved entry in its store instead of deleting it.
   * @default false
   */
  keepSaved?: boolean
}

const START_KEYS = new Set(['wait'])
const REMOVE_KEYS = new Set(['keepSaved'])

/** The events `on()` accepts: a typo must not be a listener that never fires. */
const EVENT_NAMES: ReadonlySet<string> = new Set<keyof ResourcesEvents>([
  'load',
  'error',
  'change',
  'restore',
  'storeError',
])

function checkObject(options: unknown, label: string, keys: Set<string>): void {
  if (typeof options !== 'object' || options === null || Array.isArray(options))
    throw new OptionTypeError(label, 'an object', options)
  checkOptionKeys(options, keys, (key) => `${label}.${key}`)
}

function checkBoolean(value: unknown, option: string): void {
  if (value !== undefined && typeof value !== 'boolean') throw new OptionTypeError(option, 'a boolean', value)
}

/** Whether `start(options)` asks to wait; throws for a bad call. */
export function startWaits(options: unknown): boolean {
  if (options === undefined) return false
  checkObject(options, 'start options', START_KEYS)
  const wait = (options as StartOptions).wait
  checkBoolean(wait, 'wait')
  return wait === true
}

/** Whether `remove(name, options)` keeps the saved entry; throws for a bad call. */
export function removeKeepsSaved(options: unknown): boolean {
  if (options === undefined) return false
  checkObject(options, 'remove options', REMOVE_KEYS)
  const keepSaved = (options as RemoveOptions).keepSaved
  checkBoolean(keepSaved, 'keepSaved')
  return keepSaved === true
}

/** Throws unless `event` is an event of the registry and `listener` a function. */
export function checkListener(event: unknown, listener: unknown): void {
  if (typeof event !== 'string' || !EVENT_NAMES.has(event))
    throw new OptionTypeError('event', `one of ${[...EVENT_NAMES].join(', ')}`, event)
  if (typeof listener !== 'function')
    throw new OptionTypeError(`listener" of event "${event}`, 'a function', listener)
}
