import { execFileSync, spawnSync } from 'node:child_process'
import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { nodeFs } from '../../src/file/fs.js'
import { type FileStoreFs, fileStore } from '../../src/file/index.js'
import { StoreError } from '../../src/index.js'
import { ensureBuilt, root } from '../build.js'
import { readSnapshot, recordReports, tempDir } from './helpers.js'

const FIXTURES = join(root, 'test', 'file', 'fixtures')

function node(fixture: string, args: string[], options: { uid?: number; gid?: number } = {}) {
  const result = spawnSync(process.execPath, [join(FIXTURES, fixture), ...args], {
    encoding: 'utf8',
    timeout: 15_000,
    cwd: '/',
    ...options,
  })
  if (result.status !== 0)
    throw new Error(`${fixture} exited with ${result.status ?? result.signal}:\n${result.stderr}`)
  return JSON.parse(result.stdout.trim().split('\n').pop() ?? '')
}

beforeAll(() => ensureBuilt(), 120_000)

describe('a restarted process', () => {
  it('serves the value saved by the previous process before its slow loader settles', () => {
    const path = join(tempDir(), 'snapshot.json')
    const first = node('restart.mjs', ['first', path])
    expect(first.saved).toMatchObject({ greeting: 'hello' })

    const second = node('restart.mjs', ['second', path])
    expect(second).toMatchObject({
      value: first.saved,
      source: 'store',
      status: 'restored',
      version: 1,
      loading: true,
      loads: 0,
    })
    expect(second.age).toBeGreaterThanOrEqual(0)
    // The saved value did not wait for the loader (which never settles on its own).
    expect(second.waited).toBeLessThan(5_000)
  })
})

const isRoot = process.getuid?.() === 0
/** The uid and gid of user `nobody`, if there is one. */
const nobody = (() => {
  try {
    const id = (flag: string) => Number(execFileSync('id', [flag, 'nobody'], { encoding: 'utf8' }).trim())
    return { uid: id('-u'), gid: id('-g') }
  } catch {
    return undefined
  }
})()

const GOOD = `{"kind":"evergreen-snapshot","format":1,"savedAt":5,"entries":{
"pods":{"version":2,"loadedAt":1,"value":"[\\"web-1\\"]"}
}}
`

/** A directory that user `nobody` can reach, for files it must not be able to use. */
function sharedDir(): string {
  const dir = tempDir()
  chmodSync(dir, 0o755)
  return dir
}

describe.runIf(isRoot && nobody !== undefined)('a process without permission', () => {
  it('reports a snapshot it cannot read, starts empty, and rejects writes to a directory it cannot write', () => {
    const dir = sharedDir()
    const path = join(dir, 'snapshot.json')
    writeFileSync(path, GOOD, { mode: 0o600 })
    const result = node('probe.mjs', [path], nobody)
    expect(result.uid).toBe(nobody?.uid)
    expect(result.got).toBeNull()
    expect(result.reports).toEqual([{ message: expect.stringContaining('could not read'), cause: 'EACCES' }])
    expect(result.set).toMatchObject({ code: 'E_STORE', resource: 'pods', cause: 'EACCES' })
    // Nothing was moved aside or overwritten.
    expect(readFileSync(path, 'utf8')).toBe(GOOD)
    expect(readdirSync(dir)).toEqual(['snapshot.json'])
  })

  it('serves a snapshot in a read-only directory, and rejects writes without leaving files', () => {
    const dir = join(sharedDir(), 'readonly')
    mkdirSync(dir)
    const path = join(dir, 'snapshot.json')
    writeFileSync(path, GOOD, { mode: 0o644 })
    chownSync(dir, nobody!.uid, nobody!.gid)
    chmodSync(dir, 0o500)
    const result = node('probe.mjs', [path], nobody)
    expect(result.got).toEqual({ value: ['web-1'], version: 2, loadedAt: 1 })
    expect(result.reports).toEqual([])
    expect(result.set).toMatchObject({ code: 'E_STORE', resource: 'pods', cause: 'EACCES' })
    expect(readFileSync(path, 'utf8')).toBe(GOOD)
    expect(readdirSync(dir)).toEqual(['snapshot.json'])
  })

  it('reports a directory where the file should be', () => {
    const dir = sharedDir()
    const path = join(dir, 'snapshot.json')
    mkdirSync(path, { mode: 0o555 })
    const result = node('probe.mjs', [path], nobody)
    expect(result.got).toBeNull()
    expect(result.reports).toEqual([{ message: expect.stringContaining('not a regular file') }])
    expect(result.set).toMatchObject({ code: 'E_STORE', resource: 'pods' })
  })
})

/** Mounts a 64 KiB tmpfs, or returns undefined where mounting is not permitted. */
function mountSmallDisk(): string | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'evergreen-disk-'))
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir], { stdio: 'ignore' })
  if (mounted.status === 0) return dir
  rmSync(dir, { recursive: true, force: true })
  return undefined
}

/** A file system whose disk fills up after `capacity` bytes of writes: the fallback when mount fails. */
function fullDiskFs(capacity: number): FileStoreFs {
  return {
    ...nodeFs,
    async open(path, flags, mode) {
      const handle = await nodeFs.open(path, flags, mode)
      return Object.assign(handle, {
        writeFile: async (data: string) => {
          if (Buffer.byteLength(data) > capacity) {
            await handle.writeFile(data.slice(0, capacity))
            throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })
          }
          await handle.writeFile(data)
        },
      })
    },
  }
}

describe('a full disk', () => {
  const disk = isRoot ? mountSmallDisk() : undefined
  afterAll(() => {
    if (disk === undefined) return
    spawnSync('umount', [disk], { stdio: 'ignore' })
    rmSync(disk, { recursive: true, force: true })
  })

  const where = disk === undefined ? 'a simulated full disk' : 'a real 64 KiB tmpfs'
  it(`rejects the pending set() calls, keeps the previous snapshot and no temp file, and recovers (${where})`, async () => {
    const dir = disk ?? tempDir()
    const path = join(dir, 'snapshot.json')
    const store = fileStore({
      path,
      writeDelay: 0,
      ...(disk === undefined ? { fs: fullDiskFs(64 * 1024) } : {}),
    })
    const reports = recordReports(store)
    expect(await store.set('small', { value: 'x', version: 1, loadedAt: 1 })).toBe(true)
    const before = readFileSync(path, 'utf8')

    const huge = 'y'.repeat(200 * 1024)
    const results = await Promise.allSettled([
      store.set('huge', { value: huge, version: 1, loadedAt: 1 }),
      store.set('small', { value: 'z', version: 2, loadedAt: 2 }),
    ])
    for (const result of results) {
      expect(result.status).toBe('rejected')
      const reason = (result as PromiseRejectedResult).reason
      expect(reason).toBeInstanceOf(StoreError)
      expect(reason.cause.code).toBe('ENOSPC')
    }
    expect(readFileSync(path, 'utf8')).toBe(before)
    expect(readdirSync(dir).filter((n) => n.includes('.tmp-'))).toEqual([])

    // The next load of the resource brings a value that fits: everything is saved again.
    expect(await store.set('huge', { value: 'fits', version: 2, loadedAt: 3 })).toBe(true)
    await store.close()
    const entries = readSnapshot(path)
    expect(entries.get('huge')?.data).toBe('"fits"')
    expect(entries.get('small')?.data).toBe('"z"')
    expect(reports).toEqual([])
  })
})
