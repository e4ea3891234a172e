import { OptionRangeError } from '../core/errors.js'

/** A user's measure of a value's size, for a family's `maxSize`. */
export type SizeOf<V> = (value: V, key: string) => number

/**
 * The weight of `value` by the user's `sizeOf`: a finite number >= 0. A `sizeOf` that throws
 * or returns anything else gets an `OptionRangeError` naming `sizeOf` (its own error as `cause`),
 * which the caller reports; the value is then not kept.
 */
export function weigh<V>(sizeOf: SizeOf<V>, value: V, key: string): number {
  let size: unknown
  try {
    size = sizeOf(value, key)
  } catch (error) {
    const failure = new OptionRangeError('sizeOf', 'a function that returns without throwing', sizeOf)
    throw Object.assign(failure, { cause: error })
  }
  if (typeof size !== 'number' || !(size >= 0) || size === Number.POSITIVE_INFINITY) {
    throw new OptionRangeError('sizeOf', 'a function returning a finite number >= 0', size)
  }
  return size
}
