import { describe, expect, it } from 'vitest'
import { FILE_STORE_DEFAULTS, fileStore } from '../../src/file/index.js'
import { OptionRangeError, OptionTypeError } from '../../src/index.js'
import { tempDir } from './helpers.js'

const fine = {
  ...Object.fromEntries(['open', 'rename', 'unlink', 'mkdir', 'readdir'].map((m) => [m, () => {}])),
}

describe('fileStore options', () => {
  it.each([
    ['no options', undefined, 'fileStore options', OptionTypeError],
    ['no path', {}, 'path', OptionTypeError],
    ['an empty path', { path: '' }, 'path', OptionTypeError],
    ['a path with a NUL character', { path: 'var/cache\0.json' }, 'path', OptionRangeError],
    ['a path ending in /', { path: 'var/cache/' }, 'path', OptionRangeError],
    ['a path ending in \\', { path: 'var\\cache\\' }, 'path', OptionRangeError],
    ['a misspelt option', { path: 'x', pth: 'y' }, 'pth', OptionTypeError],
    ['an fs without methods', { path: 'x', fs: {} }, 'fs', OptionTypeError],
    ['an fs that lacks readdir', { path: 'x', fs: { ...fine, readdir: undefined } }, 'fs', OptionTypeError],
    ['an fs of null', { path: 'x', fs: null }, 'fs', OptionTypeError],
    [
      'serialize without deserialize',
      { path: 'x', serialize: JSON.stringify },
      'deserialize',
      OptionTypeError,
    ],
    [
      'a serialize that is not a function',
      { path: 'x', serialize: 1, deserialize: JSON.parse },
      'serialize',
      OptionTypeError,
    ],
    ['maxBytes of 0', { path: 'x', maxBytes: 0 }, 'maxBytes', OptionRangeError],
    ['a negative writeDelay', { path: 'x', writeDelay: -1 }, 'writeDelay', OptionRangeError],
    ['an unparsable writeDelay', { path: 'x', writeDelay: 'soon' }, 'writeDelay', OptionTypeError],
    ['a writeDelay of 30 days', { path: 'x', writeDelay: '30d' }, 'writeDelay', OptionRangeError],
    [
      'a writeDelay of Infinity',
      { path: 'x', writeDelay: Number.POSITIVE_INFINITY },
      'writeDelay',
      OptionRangeError,
    ],
    ['a lockTimeout of 10 ms', { path: 'x', lockTimeout: 10 }, 'lockTimeout', OptionRangeError],
    ['a lockTimeout of a week', { path: 'x', lockTimeout: '7d' }, 'lockTimeout', OptionRangeError],
    ['an orphanAge of 0', { path: 'x', orphanAge: 0 }, 'orphanAge', OptionRangeError],
    ['a mode that is not a file mode', { path: 'x', mode: 0o17777 }, 'mode', OptionRangeError],
  ])('throws at once on %s, naming the option', (_, options, option, type) => {
    let thrown: unknown
    try {
      fileStore(options as never)
    } catch (error) {
      thrown = error
    }
    expect(thrown).toBeInstanceOf(type)
    expect(thrown).toMatchObject({ code: 'E_INVALID_OPTION', option })
    expect((thrown as Error).message).toContain(`option "${option}" must be`)
  })

  it('lists the options it knows when it meets one it does not', () => {
    expect(() => fileStore({ path: 'x', pth: 'y' } as never)).toThrow(/knows only path, serialize/)
  })

  it('takes every documented option with an in-range value', async () => {
    const store = fileStore({
      path: `${tempDir()}/snapshot.json`,
      maxBytes: 1_000,
      writeDelay: '1h',
      lockTimeout: '100ms',
      orphanAge: Number.POSITIVE_INFINITY,
      mode: 0o640,
    })
    await store.close()
    expect(FILE_STORE_DEFAULTS).toMatchObject({ writeDelay: 100, lockTimeout: 10_000, orphanAge: 86_400_000 })
  })
})
