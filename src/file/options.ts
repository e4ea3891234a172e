import { type Duration, parseDuration } from '../core/duration.js'
import { OptionRangeError, OptionTypeError } from '../core/errors.js'
import { type Codec, jsonCodec } from '../stores/codec.js'
import { type FileStoreFs, nodeFs } from './fs.js'

/** Options of {@link fileStore}. */
export interface FileStoreOptions {
  /**
   * Path of the snapshot file. Its directory is created when missing. Required: a non-empty path to
   * a file (no NUL character, not ending in a path separator).
   */
  path: string
  /**
   * Turns a value into text. A throw (or a result that is not a string) rejects that resource's
   * `set()` with a `StoreError`; the other entries are saved. Give it with `deserialize`.
   * @default the JSON codec of the stores (a top-level `undefined` is kept; a function is refused)
   */
  serialize?: (value: unknown) => string
  /**
   * Turns text made by `serialize` back into a value. A throw rejects that resource's `get()`.
   * @default `JSON.parse`, dropping only `__proto__` keys
   */
  deserialize?: (text: string) => unknown
  /**
   * Largest snapshot read or written, in bytes. A bigger file is reported and moved aside; an entry
   * that alone exceeds it is refused, and so are the largest changes of a write that would.
   * Positive. @default 67108864 (64 MiB)
   */
  maxBytes?: number
  /**
   * How long a change waits before the snapshot is written; changes meanwhile join the same write.
   * A change during a write joins the next one. From 0 to 1 hour. @default '100ms'
   */
  writeDelay?: Duration
  /**
   * How long the lock file of another process may go unrefreshed before this store takes it over
   * (its owner was killed). The owner refreshes it every fifth of this. From 100 ms to 1 hour.
   * @default '10s'
   */
  lockTimeout?: Duration
  /**
   * How old (by its `loadedAt`) an entry that this store has neither read nor written since it
   * opened the file may be before it is dropped from the snapshot: the entries of resources that no
   * longer exist. Positive, or `Infinity` to keep them. @default '1d'
   */
  orphanAge?: Duration
  /** File mode of a new snapshot file. @default 0o600 */
  mode?: number
  /** File-system operations, to simulate faults in tests. @default node:fs/promises */
  fs?: FileStoreFs
}

/** Every default of {@link FileStoreOptions} in one place. */
export const FILE_STORE_DEFAULTS = {
  maxBytes: 64 * 1024 * 1024,
  writeDelay: 100,
  lockTimeout: 10_000,
  orphanAge: 86_400_000,
  mode: 0o600,
} as const

/** The options of a file store, checked and with their defaults. */
export interface FileStoreSettings {
  readonly path: string
  readonly codec: Codec
  readonly maxBytes: number
  readonly writeDelay: number
  readonly lockTimeout: number
  readonly orphanAge: number
  readonly mode: number
  readonly fs: FileStoreFs
}

const KNOWN = [
  'path',
  'serialize',
  'deserialize',
  'maxBytes',
  'writeDelay',
  'lockTimeout',
  'orphanAge',
  'mode',
  'fs',
] as const

const FS_METHODS = ['open', 'rename', 'unlink', 'mkdir', 'readdir'] as const

const HOUR = 3_600_000

/** A {@link Duration} in ms within [min, max]; throws naming `option`. */
function durationIn(input: unknown, option: string, min: number, max: number, expected: string): number {
  const ms = parseDuration(input, option)
  if (!(ms >= min && ms <= max)) throw new OptionRangeError(option, expected, input)
  return ms
}

function checkPath(path: unknown): string {
  if (typeof path !== 'string' || path.length === 0)
    throw new OptionTypeError('path', 'a non-empty string', path)
  if (path.includes('\0')) throw new OptionRangeError('path', 'a file path without NUL characters', path)
  if (path.endsWith('/') || path.endsWith('\\')) {
    throw new OptionRangeError('path', 'the path of a file, not ending in a path separator', path)
  }
  return path
}

function checkFs(fs: unknown): FileStoreFs {
  const methods = fs as Record<string, unknown> | null
  if (typeof fs !== 'object' || fs === null || !FS_METHODS.every((m) => typeof methods?.[m] === 'function')) {
    throw new OptionTypeError('fs', `an object with ${FS_METHODS.join(', ')} functions`, fs)
  }
  return fs as FileStoreFs
}

function checkCodec(input: FileStoreOptions): Codec {
  const { serialize, deserialize } = input
  if ((serialize === undefined) !== (deserialize === undefined)) {
    throw new OptionTypeError(
      serialize === undefined ? 'serialize' : 'deserialize',
      'given together with its pair (serialize and deserialize)',
      undefined,
    )
  }
  if (serialize === undefined || deserialize === undefined) return jsonCodec
  if (typeof serialize !== 'function') throw new OptionTypeError('serialize', 'a function', serialize)
  if (typeof deserialize !== 'function') throw new OptionTypeError('deserialize', 'a function', deserialize)
  return {
    encode(value) {
      const text: unknown = serialize(value)
      if (typeof text !== 'string') throw new TypeError(`serialize returned ${typeof text}, not a string`)
      return text
    },
    decode: deserialize,
  }
}

/** Checks every option of {@link fileStore} and fills in the defaults; throws a typed error naming the option. */
export function resolveFileStoreOptions(options: unknown): FileStoreSettings {
  if (typeof options !== 'object' || options === null) {
    throw new OptionTypeError('fileStore options', 'an object with a "path"', options)
  }
  const input = options as FileStoreOptions
  for (const key of Object.keys(input)) {
    if (!(KNOWN as readonly string[]).includes(key)) {
      throw new OptionTypeError(
        key,
        `left out: fileStore knows only ${KNOWN.join(', ')}`,
        input[key as never],
      )
    }
  }
  const path = checkPath(input.path)
  const maxBytes = input.maxBytes ?? FILE_STORE_DEFAULTS.maxBytes
  if (typeof maxBytes !== 'number') throw new OptionTypeError('maxBytes', 'a number', maxBytes)
  if (!(maxBytes > 0)) throw new OptionRangeError('maxBytes', 'a positive number of bytes', maxBytes)
  const mode = input.mode ?? FILE_STORE_DEFAULTS.mode
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) {
    throw new OptionRangeError('mode', 'a file mode such as 0o600', mode)
  }
  return {
    path,
    codec: checkCodec(input),
    maxBytes,
    writeDelay:
      input.writeDelay === undefined
        ? FILE_STORE_DEFAULTS.writeDelay
        : durationIn(input.writeDelay, 'writeDelay', 0, HOUR, 'a duration from 0 to 1 hour'),
    lockTimeout:
      input.lockTimeout === undefined
        ? FILE_STORE_DEFAULTS.lockTimeout
        : durationIn(input.lockTimeout, 'lockTimeout', 100, HOUR, 'a duration from 100 ms to 1 hour'),
    orphanAge:
      input.orphanAge === undefined
        ? FILE_STORE_DEFAULTS.orphanAge
        : durationIn(
            input.orphanAge,
            'orphanAge',
            1,
            Number.POSITIVE_INFINITY,
            'a positive duration or Infinity',
          ),
    mode,
    fs: input.fs === undefined ? nodeFs : checkFs(input.fs),
  }
}
