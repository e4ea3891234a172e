import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { fileStore } from '../../src/file/index.js'
import { StoreError } from '../../src/index.js'
import type { StoreContext } from '../../src/stores/store.js'
import { readSnapshot, recordReports, tempDir } from './helpers.js'

const GOOD = `{"kind":"evergreen-snapshot","format":1,"savedAt":5,"entries":{
"pods":{"version":2,"loadedAt":1,"value":"[\\"web-1\\",\\"web-2\\"]"}
}}
`

/** Files a store must refuse, moved aside and reported, each with a word its report must contain. */
const UNUSABLE: [string, string | Buffer, RegExp][] = [
  ['a truncated snapshot', GOOD.slice(0, GOOD.length - 12), /not valid JSON/],
  ['a snapshot cut to nothing', '', /not valid JSON/],
  ['garbage bytes', Buffer.from([0xff, 0xfe, 0x00, 0x9c, 0x80, 0x41]), /not UTF-8/],
  ['text that is not JSON', 'pods = web-1, web-2\n', /not valid JSON/],
  ['a JSON array', '[1,2,3]', /not an evergreen snapshot/],
  ['JSON of another program', '{"name":"my-app","version":"1.0.0"}', /not an evergreen snapshot/],
  ['a snapshot without a format', '{"kind":"evergreen-snapshot","entries":{}}', /format/],
  ['a snapshot whose entries are a list', '{"kind":"evergreen-snapshot","format":1,"entries":[]}', /entries/],
  [
    'an entry with a text version',
    '{"kind":"evergreen-snapshot","format":1,"entries":{"a":{"version":"2","loadedAt":1,"value":"1"}}}',
    /entry "a"/,
  ],
  [
    'an entry whose value is not serialised text',
    '{"kind":"evergreen-snapshot","format":1,"entries":{"a":{"version":2,"loadedAt":1,"value":1}}}',
    /entry "a"/,
  ],
  [
    'a snapshot of a newer format',
    '{"kind":"evergreen-snapshot","format":2,"entries":{"a":{"something":"else"}}}',
    /format 2, newer than/,
  ],
]

function setup() {
  const dir = tempDir()
  const path = join(dir, 'snapshot.json')
  return { dir, path }
}

describe('fileStore with a bad snapshot file', () => {
  it('reads a good file (the baseline of this table)', async () => {
    const { path } = setup()
    writeFileSync(path, GOOD)
    const store = fileStore({ path })
    const reports = recordReports(store)
    expect(await store.get('pods')).toEqual({ value: ['web-1', 'web-2'], version: 2, loadedAt: 1 })
    await store.close()
    expect(reports).toEqual([])
  })

  it.each(UNUSABLE)('reports %s, moves it aside, starts empty and keeps working', async (_, content, why) => {
    const { dir, path } = setup()
    writeFileSync(path, content)
    const store = fileStore({ path, writeDelay: 0 })
    const reports = recordReports(store)

    expect(await store.get('pods')).toBeUndefined()
    expect(await store.list()).toEqual([])
    expect(reports).toHaveLength(1)
    const [report] = reports
    expect(report?.error).toBeInstanceOf(StoreError)
    expect(report?.error.code).toBe('E_STORE')
    expect(report?.error.message).toMatch(why)
    expect(report?.resource).toBeUndefined()

    // The file was kept for a human, byte for byte, under a new name.
    const aside = readdirSync(dir).filter((name) => name.startsWith('snapshot.json.corrupt-'))
    expect(aside).toHaveLength(1)
    expect(aside[0]).toMatch(/^snapshot\.json\.corrupt-\d{8}T\d{9}Z$/)
    expect(report?.error.message).toContain(aside[0])
    expect(readFileSync(join(dir, aside[0]!))).toEqual(Buffer.from(content))

    expect(await store.set('pods', { value: ['new'], version: 1, loadedAt: 9 })).toBe(true)
    await store.close()
    expect(readSnapshot(path).get('pods')?.version).toBe(1)
  })

  it('reports a directory where the file should be, leaves it alone, and fails writes', async () => {
    const { path } = setup()
    mkdirSync(path)
    writeFileSync(join(path, 'inside'), 'keep')
    const store = fileStore({ path, writeDelay: 0 })
    const reports = recordReports(store)
    expect(await store.get('pods')).toBeUndefined()
    expect(reports.map((r) => r.error.message)).toEqual([expect.stringMatching(/not a regular file/)])
    await expect(store.set('pods', { value: 1, version: 1, loadedAt: 1 })).rejects.toMatchObject({
      code: 'E_STORE',
      resource: 'pods',
    })
    expect(readFileSync(join(path, 'inside'), 'utf8')).toBe('keep')
    await store.close().catch(() => {})
    expect(readdirSync(join(path, '..'))).toEqual(['snapshot.json'])
  })

  it('checks the size before reading: a file over maxBytes is reported and moved aside unread', async () => {
    const { dir, path } = setup()
    writeFileSync(path, GOOD)
    let reads = 0
    const { nodeFs } = await import('../../src/file/fs.js')
    const store = fileStore({
      path,
      maxBytes: 50,
      fs: {
        ...nodeFs,
        open: async (p, flags, mode) => {
          const handle = await nodeFs.open(p, flags, mode)
          const readFile = handle.readFile.bind(handle)
          return Object.assign(handle, {
            readFile: () => {
              reads++
              return readFile()
            },
          })
        },
      },
    })
    const reports = recordReports(store)
    expect(await store.list()).toEqual([])
    expect(reads).toBe(0)
    expect(reports[0]?.error.message).toMatch(/over maxBytes \(50\)/)
    expect(readdirSync(dir).some((name) => name.startsWith('snapshot.json.corrupt-'))).toBe(true)
    await store.close()
  })

  it('keeps problems found before a registry attached, and reports them to it when it does', async () => {
    const { path } = setup()
    writeFileSync(path, 'garbage')
    const store = fileStore({ path })
    expect(await store.list()).toEqual([])
    const seen: unknown[] = []
    const context: StoreContext = { reportError: (error) => seen.push(error) }
    store.attach?.(context)
    expect(seen).toEqual([expect.any(StoreError)])
    // And every registry attached later hears of new problems, none of the old ones twice.
    const other: unknown[] = []
    store.attach?.({ reportError: (error) => other.push(error) })
    expect(other).toEqual([])
    await store.close()
  })

  it('survives a reporter that throws', async () => {
    const { path } = setup()
    writeFileSync(path, '{')
    const store = fileStore({ path })
    store.attach?.({
      reportError: () => {
        throw new Error('reporter broke')
      },
    })
    expect(await store.get('a')).toBeUndefined()
    await store.close()
  })

  it('rejects get() of an entry its deserialize cannot read, for that resource only', async () => {
    const { path } = setup()
    writeFileSync(
      path,
      '{"kind":"evergreen-snapshot","format":1,"entries":{"bad":{"version":1,"loadedAt":1,"value":"{nope"},"good":{"version":1,"loadedAt":1,"value":"7"}}}',
    )
    const store = fileStore({ path })
    await expect(store.get('bad')).rejects.toMatchObject({ code: 'E_STORE', resource: 'bad' })
    expect(await store.get('good')).toEqual({ value: 7, version: 1, loadedAt: 1 })
    await store.close()
  })
})

describe('fileStore reading a hostile snapshot', () => {
  const HOSTILE = JSON.stringify({
    kind: 'evergreen-snapshot',
    format: 1,
    ['__proto__']: { polluted: 'top' },
    entries: {
      ['__proto__']: { version: 1, loadedAt: 1, value: '{"polluted":"entry"}' },
      constructor: { version: 1, loadedAt: 1, value: '{"prototype":{"polluted":"ctor"}}' },
      pods: {
        version: 3,
        loadedAt: 1,
        value:
          '{"list":[{"__proto__":{"polluted":"value"}}],"__proto__":{"polluted":"value"},"constructor":{"prototype":{"polluted":"value"}},"ok":1}',
      },
    },
  })

  it('contains the keys it is given as data', () => {
    // The fixture really holds the hostile keys as text (JSON.stringify kept them).
    expect(HOSTILE).toContain('"__proto__":{"polluted":"top"}')
    expect(HOSTILE).toContain('\\"__proto__\\":{\\"polluted\\":\\"value\\"}')
  })

  it('never touches Object.prototype, drops only __proto__ keys and keeps constructor and prototype as data', async () => {
    const { path } = setup()
    writeFileSync(path, HOSTILE)
    const store = fileStore({ path, writeDelay: 0 })
    const reports = recordReports(store)

    const pods = await store.get('pods')
    expect(pods?.version).toBe(3)
    const value = pods?.value as Record<string, unknown>
    expect(value).toEqual({ list: [{}], constructor: { prototype: { polluted: 'value' } }, ok: 1 })
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype)
    expect(Object.hasOwn(value, '__proto__')).toBe(false)
    expect(Object.hasOwn((value.list as object[])[0]!, '__proto__')).toBe(false)
    expect(Object.hasOwn(value, 'constructor')).toBe(true)
    // Names that are object internals are ordinary resources.
    expect(await store.get('__proto__')).toEqual({ value: { polluted: 'entry' }, version: 1, loadedAt: 1 })
    expect(await store.get('constructor')).toEqual({
      value: { prototype: { polluted: 'ctor' } },
      version: 1,
      loadedAt: 1,
    })
    expect(await store.get('toString')).toBeUndefined()
    expect((await store.list()).sort()).toEqual(['__proto__', 'constructor', 'pods'])

    // A merge that copies own keys into a plain object cannot reach the prototype: no __proto__ key is left.
    const merged = Object.assign({}, value, ...(value.list as object[]))
    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(Object.prototype).not.toHaveProperty('polluted')
    expect(reports).toEqual([])

    // It writes them back as plain entries too.
    expect(await store.set('pods', { value: { ok: 2 }, version: 4, loadedAt: 2 })).toBe(true)
    await store.close()
    expect([...readSnapshot(path).keys()].sort()).toEqual(['__proto__', 'constructor', 'pods'])
    expect(Object.prototype).not.toHaveProperty('polluted')
  })
})
