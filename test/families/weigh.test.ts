import { describe, expect, it } from 'vitest'
import { OptionRangeError } from '../../src/core/errors.js'
import { weigh } from '../../src/families/weigh.js'

describe('weigh', () => {
  it('returns the size sizeOf gives for the value and key', () => {
    expect(weigh((value: string, key) => value.length + key.length, 'abc', 'k')).toBe(4)
    expect(weigh(() => 0, 1, 'k')).toBe(0)
  })

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY, '3', undefined])('rejects a size of %s', (size) => {
    expect(() => weigh(() => size as number, 1, 'k')).toThrow(OptionRangeError)
  })

  it('turns a throwing sizeOf into an OptionRangeError with the cause', () => {
    const cause = new Error('boom')
    const sizeOf = () => {
      throw cause
    }
    try {
      weigh(sizeOf, 1, 'k')
      expect.unreachable()
    } catch (error) {
      expect(error).toBeInstanceOf(OptionRangeError)
      expect((error as OptionRangeError).option).toBe('sizeOf')
      expect((error as Error).cause).toBe(cause)
    }
  })
})
