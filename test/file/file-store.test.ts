import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { nodeFs } from '../../src/file/fs.js'
import { type FileStoreFs, fileStore, SNAPSHOT_FORMAT } from '../../src/file/index.js'
import { StoreError } from '../../src/index.js'
import { deferred, readSnapshot, recordReports, tempDir } from './helpers.js'

function snapshotPath(): string {
  return join(tempDir(), 'snapshot.json')
}

/**
 * A real file system that logs every call on the snapshot and its temp files, and can be made to
 * fail or pause one kind of those calls. Calls on the lock file (`<path>.lock…`) pass through.
 */
function tracedFs() {
  const calls: string[] = []
  const faults = new Map<string, () => unknown>()
  const gates = new Map<string, Promise<void>>()
  const step = async (name: string, path: string) => {
    if (path.includes('.lock')) return
    calls.push(name)
    const gate = gates.get(name)
    if (gate !== undefined) await gate
    const fault = faults.get(name)
    if (fault !== undefined) throw fault()
  }
  const fs: FileStoreFs = {
    async open(path, flags, mode) {
      await step(`open ${flags}`, path)
      const handle = await nodeFs.open(path, flags, mode)
      return {
        stat: () => handle.stat(),
        readFile: async () => {
          await step('readFile', path)
          return handle.readFile()
        },
        writeFile: async (data) => {
          await step('writeFile', path)
          await handle.writeFile(data)
        },
        sync: async () => {
          await step(flags === 'r' ? 'sync r' : 'sync', path)
          await handle.sync()
        },
        close: () => handle.close(),
      }
    },
    rename: async (from, to) => {
      await step('rename', from)
      await nodeFs.rename(from, to)
    },
    unlink: async (path) => {
      await step('unlink', path)
      await nodeFs.unlink(path)
    },
    mkdir: (path, options) => nodeFs.mkdir(path, options),
    readdir: (path) => nodeFs.readdir(path),
  }
  return { fs, calls, faults, gates }
}

function systemError(code: string): Error {
  return Object.assign(new Error(`${code}: simulated`), { code })
}

function leftovers(path: string): string[] {
  const dir = join(path, '..')
  return readdirSync(dir).filter((name) => name.includes('.tmp-'))
}

describe('fileStore', () => {
  describe('saving and restoring', () => {
    it('serves entries written by an earlier store on the same file', async () => {
      const path = snapshotPath()
      const first = fileStore({ path, writeDelay: 0 })
      await first.set('pods', { value: ['web-1'], version: 3, loadedAt: 1_000 })
      await first.set('keys', { value: { k: 1 }, version: 1, loadedAt: 2_000 })
      await first.close()

      const second = fileStore({ path })
      expect(await second.get('pods')).toEqual({ value: ['web-1'], version: 3, loadedAt: 1_000 })
      expect(await second.get('keys')).toEqual({ value: { k: 1 }, version: 1, loadedAt: 2_000 })
      expect((await second.list()).sort()).toEqual(['keys', 'pods'])
      // Fencing holds across restarts.
      expect(await second.set('pods', { value: ['stale'], version: 2, loadedAt: 3_000 })).toBe(false)
      await second.close()
    })

    it('writes one JSON snapshot with the documented format', async () => {
      const path = snapshotPath()
      const store = fileStore({ path, writeDelay: 0 })
      await store.set('pods', { value: ['web-1'], version: 2, loadedAt: 1_234 })
      await store.close()
      const document = JSON.parse(readFileSync(path, 'utf8'))
      expect(document).toMatchObject({
        kind: 'evergreen-snapshot',
        format: SNAPSHOT_FORMAT,
        entries: { pods: { version: 2, loadedAt: 1_234, value: '["web-1"]' } },
      })
      expect(typeof document.savedAt).toBe('number')
    })

    it('creates the directory of the file when it is missing', async () => {
      const path = join(tempDir(), 'a', 'b', 'snapshot.json')
      const store = fileStore({ path, writeDelay: 0 })
      await store.set('x', { value: 1, version: 1, loadedAt: 1 })
      await store.close()
      expect(existsSync(path)).toBe(true)
    })

    it('treats a missing file as empty, reports nothing and writes nothing on reads', async () => {
      const path = snapshotPath()
      const store = fileStore({ path })
      const reports = recordReports(store)
      expect(await store.get('pods')).toBeUndefined()
      expect(await store.list()).toEqual([])
      await store.close()
      expect(reports).toEqual([])
      expect(existsSync(path)).toBe(false)
    })

    it('reads the file once, on first use', async () => {
      const path = snapshotPath()
      const { fs, calls } = tracedFs()
      const store = fileStore({ path, fs })
      expect(calls).toEqual([])
      await Promise.all([store.get('a'), store.get('b'), store.list()])
      await store.get('c')
      expect(calls.filter((c) => c === 'open r')).toHaveLength(1)
      await store.close()
    })

    it('restores values through a serialize/deserialize pair', async () => {
      const path = snapshotPath()
      type Tagged = { $: string; v: unknown }
      const serialize = (value: unknown) =>
        JSON.stringify(value, function (this: Record<string, unknown>, key, v: unknown) {
          const raw = this[key]
          if (raw instanceof Date) return { $: 'date', v: raw.toISOString() }
          if (raw instanceof Map) return { $: 'map', v: [...raw] }
          if (typeof raw === 'bigint') return { $: 'bigint', v: raw.toString() }
          return v
        })
      const deserialize = (text: string) =>
        JSON.parse(text, (_key, v: unknown) => {
          const t = v as Tagged | null
          if (t === null || typeof t !== 'object' || typeof t.$ !== 'string') return v
          if (t.$ === 'date') return new Date(t.v as string)
          if (t.$ === 'map') return new Map(t.v as [unknown, unknown][])
          if (t.$ === 'bigint') return BigInt(t.v as string)
          return v
        })
      const value = { at: new Date('2024-05-06T07:08:09.010Z'), ids: new Map([['a', 1n]]), n: 2n ** 70n }
      const first = fileStore({ path, serialize, deserialize, writeDelay: 0 })
      await first.set('typed', { value, version: 1, loadedAt: 1 })
      await first.close()
      const second = fileStore({ path, serialize, deserialize })
      expect((await second.get('typed'))?.value).toEqual(value)
      await second.close()
    })
  })

  describe('writing', () => {
    it('turns a burst of set() calls into one write', async () => {
      const path = snapshotPath()
      const { fs, calls } = tracedFs()
      const store = fileStore({ path, fs, writeDelay: 0 })
      const results = await Promise.all(
        Array.from({ length: 100 }, (_, i) => store.set(`r${i}`, { value: i, version: 1, loadedAt: i })),
      )
      expect(results.every((r) => r)).toBe(true)
      expect(calls.filter((c) => c === 'rename')).toHaveLength(1)
      expect(readSnapshot(path).size).toBe(100)
      await store.close()
    })

    it('gathers changes made during a write into the next single write', async () => {
      const path = snapshotPath()
      const { fs, calls, gates } = tracedFs()
      const store = fileStore({ path, fs, writeDelay: 0 })
      const gate = deferred<void>()
      gates.set('writeFile', gate.promise)
      const first = store.set('a', { value: 1, version: 1, loadedAt: 1 })
      await waitUntil(() => calls.includes('writeFile'))
      const during = [2, 3, 4].map((v) => store.set('a', { value: v, version: v, loadedAt: v }))
      gates.delete('writeFile')
      gate.resolve()
      expect(await first).toBe(true)
      expect(await Promise.all(during)).toEqual([true, true, true])
      expect(calls.filter((c) => c === 'rename')).toHaveLength(2)
      expect(readSnapshot(path).get('a')?.version).toBe(4)
      await store.close()
    })

    it('resolves set() only once the snapshot is synced, renamed and its directory synced', async () => {
      const path = snapshotPath()
      const { fs, calls, gates } = tracedFs()
      const store = fileStore({ path, fs, writeDelay: 0 })
      await store.list()
      calls.length = 0
      const gate = deferred<void>()
      gates.set('sync r', gate.promise)
      let settled = false
      const write = store.set('a', { value: 1, version: 1, loadedAt: 1 }).then(() => {
        settled = true
      })
      await waitUntil(() => calls.includes('sync r'))
      expect(settled).toBe(false)
      gate.resolve()
      await write
      expect(calls).toEqual(['open wx', 'writeFile', 'sync', 'rename', 'open r', 'sync r'])
      await store.close()
    })

    it('never changes the file on a read', async () => {
      const path = snapshotPath()
      const first = fileStore({ path, writeDelay: 0 })
      await first.set('a', { value: 1, version: 1, loadedAt: 1 })
      await first.close()
      const before = readFileSync(path, 'utf8')
      const { fs, calls } = tracedFs()
      const second = fileStore({ path, fs })
      await second.get('a')
      await second.close()
      expect(calls.filter((c) => c === 'rename' || c === 'open wx')).toEqual([])
      expect(readFileSync(path, 'utf8')).toBe(before)
    })

    it('rejects the set() of a value JSON cannot hold and still saves the others', async () => {
      const path = snapshotPath()
      const store = fileStore({ path, writeDelay: 0 })
      const cycle: Record<string, unknown> = {}
      cycle.self = cycle
      const results = await Promise.allSettled([
        store.set('good', { value: 'fine', version: 1, loadedAt: 1 }),
        store.set('bigint', { value: 10n, version: 1, loadedAt: 1 }),
        store.set('cycle', { value: cycle, version: 1, loadedAt: 1 }),
        store.set('function', { value: () => 1, version: 1, loadedAt: 1 }),
      ])
      expect(results[0]).toEqual({ status: 'fulfilled', value: true })
      for (const [i, name] of ['bigint', 'cycle', 'function'].entries()) {
        const result = results[i + 1]
        expect(result?.status, name).toBe('rejected')
        const error = (result as PromiseRejectedResult).reason
        expect(error, name).toBeInstanceOf(StoreError)
        expect(error.resource, name).toBe(name)
        expect(error.code).toBe('E_STORE')
      }
      expect(await store.list()).toEqual(['good'])
      await store.close()
      expect([...readSnapshot(path).keys()]).toEqual(['good'])
    })

    it('saves a value of undefined, which comes back as undefined', async () => {
      const path = snapshotPath()
      const first = fileStore({ path, writeDelay: 0 })
      expect(await first.set('nothing', { value: undefined, version: 1, loadedAt: 1 })).toBe(true)
      await first.close()
      const second = fileStore({ path })
      expect(await second.get('nothing')).toEqual({ value: undefined, version: 1, loadedAt: 1 })
      expect(await second.list()).toEqual(['nothing'])
      await second.close()
    })

    it('rejects a set() whose serialize throws or returns something other than text', async () => {
      const store = fileStore({
        path: snapshotPath(),
        serialize: (value) => (value === 'bad' ? (42 as unknown as string) : JSON.stringify(value)),
        deserialize: JSON.parse,
        writeDelay: 0,
      })
      await expect(store.set('a', { value: 'bad', version: 1, loadedAt: 1 })).rejects.toMatchObject({
        code: 'E_STORE',
        resource: 'a',
        message: expect.stringContaining('not a string'),
      })
      expect(await store.set('a', { value: 'good', version: 1, loadedAt: 1 })).toBe(true)
      await store.close()
    })

    it('rejects an entry without a positive integer version', async () => {
      const store = fileStore({ path: snapshotPath(), writeDelay: 0 })
      for (const version of [0, -1, 1.5, Number.NaN]) {
        await expect(
          store.set('a', { value: 1, version, loadedAt: 1 }),
          String(version),
        ).rejects.toBeInstanceOf(StoreError)
      }
      await store.close()
    })

    it('rejects pending set() calls when the disk refuses the write, then recovers on the next set()', async () => {
      const path = snapshotPath()
      const { fs, faults } = tracedFs()
      const store = fileStore({ path, fs, writeDelay: 0 })
      await store.set('before', { value: 0, version: 1, loadedAt: 1 })
      faults.set('writeFile', () => systemError('ENOSPC'))
      const failed = await Promise.allSettled([
        store.set('a', { value: 1, version: 1, loadedAt: 1 }),
        store.set('b', { value: 2, version: 1, loadedAt: 1 }),
      ])
      for (const [i, name] of ['a', 'b'].entries()) {
        const reason = (failed[i] as PromiseRejectedResult).reason
        expect(reason).toBeInstanceOf(StoreError)
        expect(reason.resource).toBe(name)
        expect(reason.cause.code).toBe('ENOSPC')
      }
      expect(leftovers(path)).toEqual([])
      expect([...readSnapshot(path).keys()]).toEqual(['before'])

      faults.clear()
      expect(await store.set('c', { value: 3, version: 1, loadedAt: 1 })).toBe(true)
      // The entries whose write failed are saved with the next snapshot.
      expect([...readSnapshot(path).keys()].sort()).toEqual(['a', 'b', 'before', 'c'])
      await store.close()
    })

    it('writes at close() what a failed write left only in memory, when no set() came since', async () => {
      const path = snapshotPath()
      const { fs, faults } = tracedFs()
      const store = fileStore({ path, fs, writeDelay: 0 })
      faults.set('writeFile', () => systemError('ENOSPC'))
      await expect(store.set('a', { value: 1, version: 1, loadedAt: 1 })).rejects.toBeInstanceOf(StoreError)
      faults.clear()
      await store.close()
      expect(readSnapshot(path).get('a')?.version).toBe(1)
    })

    it('rejects close() when that last try fails too', async () => {
      const { fs, faults } = tracedFs()
      const store = fileStore({ path: snapshotPath(), fs, writeDelay: 0 })
      faults.set('writeFile', () => systemError('ENOSPC'))
      await expect(store.set('a', { value: 1, version: 1, loadedAt: 1 })).rejects.toBeInstanceOf(StoreError)
      await expect(store.close()).rejects.toMatchObject({ code: 'E_STORE', cause: { code: 'ENOSPC' } })
    })

    it.each(['open wx', 'sync', 'rename'])('cleans up its temp file when %s fails', async (step) => {
      const path = snapshotPath()
      const { fs, faults } = tracedFs()
      const store = fileStore({ path, fs, writeDelay: 0 })
      faults.set(step, () => systemError('EACCES'))
      await expect(store.set('a', { value: 1, version: 1, loadedAt: 1 })).rejects.toBeInstanceOf(StoreError)
      expect(leftovers(path)).toEqual([])
      expect(existsSync(path)).toBe(false)
      await store.close().catch(() => {})
    })

    it('removes temp files left by a killed writer, even one that had the same PID', async () => {
      const path = snapshotPath()
      // In a container every process may be PID 1: a leftover can carry any PID, ours included.
      writeFileSync(`${path}.tmp-${process.pid}-123456`, '{"kind":')
      writeFileSync(`${path}.tmp-1-abcdef`, '{"kind":')
      writeFileSync(`${path}.tmp-9f86d081884c-1`, '{"kind":')
      writeFileSync(`${path}.lock.tmp-9f86d081884c-2`, '{"owner":')
      const store = fileStore({ path })
      await store.list()
      await waitUntil(() => leftovers(path).length === 0)
      await store.close()
    })

    it('removes no temp file while another process holds the lock', async () => {
      const path = snapshotPath()
      writeFileSync(`${path}.lock`, lockOf('9f86d081884c', Date.now()))
      writeFileSync(`${path}.tmp-9f86d081884c-7`, 'in flight')
      const store = fileStore({ path })
      await store.list()
      expect(leftovers(path)).toEqual(['snapshot.json.tmp-9f86d081884c-7'])
      await store.close()
    })
  })

  describe('closing', () => {
    it('flushes a pending write, then refuses further changes', async () => {
      const path = snapshotPath()
      const store = fileStore({ path, writeDelay: '1h' })
      const write = store.set('a', { value: 1, version: 1, loadedAt: 1 })
      await store.close()
      expect(await write).toBe(true)
      expect(readSnapshot(path).get('a')?.version).toBe(1)
      await expect(store.set('a', { value: 2, version: 2, loadedAt: 2 })).rejects.toMatchObject({
        code: 'E_STORE',
        resource: 'a',
        message: expect.stringContaining('closed'),
      })
      await expect(store.delete('a')).rejects.toBeInstanceOf(StoreError)
      expect(await store.get('a')).toEqual({ value: 1, version: 1, loadedAt: 1 })
    })

    it('includes a set() made before close() while the file was still being read', async () => {
      const path = snapshotPath()
      const store = fileStore({ path, writeDelay: '1h' })
      const write = store.set('a', { value: 1, version: 1, loadedAt: 1 })
      const closed = store.close()
      expect(await write).toBe(true)
      await closed
      expect(readSnapshot(path).has('a')).toBe(true)
    })

    it('takes writes again after reopen(), keeping its entries and its fencing', async () => {
      const path = snapshotPath()
      const store = fileStore({ path, writeDelay: 0 })
      await store.set('a', { value: 1, version: 1, loadedAt: 1 })
      await store.close()
      store.reopen?.()
      expect(await store.set('a', { value: 1, version: 1, loadedAt: 1 })).toBe(false)
      expect(await store.set('a', { value: 2, version: 2, loadedAt: 2 })).toBe(true)
      expect(readSnapshot(path).get('a')?.version).toBe(2)
      store.reopen?.() // open already: nothing to do
      await store.close()
      expect(readSnapshot(path).get('a')?.version).toBe(2)
    })

    it('reopens once a close() still writing has finished, and refuses writes until then', async () => {
      const { fs, gates } = tracedFs()
      const path = snapshotPath()
      const store = fileStore({ path, fs, writeDelay: '1h' })
      await store.list()
      const gate = deferred<void>()
      gates.set('rename', gate.promise)
      const first = store.set('a', { value: 1, version: 1, loadedAt: 1 })
      const closed = store.close()
      store.reopen?.()
      await expect(store.set('b', { value: 1, version: 1, loadedAt: 1 })).rejects.toMatchObject({
        message: expect.stringContaining('closed'),
      })
      gate.resolve()
      await closed
      expect(await first).toBe(true)
      gates.clear()
      const second = store.set('b', { value: 2, version: 2, loadedAt: 2 })
      await store.close()
      expect(await second).toBe(true)
      expect([...readSnapshot(path).keys()]).toEqual(['a', 'b'])
    })

    it('rejects close() when its last write fails, naming the file and the cause', async () => {
      const { fs, faults } = tracedFs()
      const path = snapshotPath()
      const store = fileStore({ path: path, fs, writeDelay: '1h' })
      await store.list()
      faults.set('rename', () => systemError('EIO'))
      const write = store.set('a', { value: 1, version: 1, loadedAt: 1 }).catch((error: unknown) => error)
      const closed = store.close().catch((error: unknown) => error)
      const error = await closed
      expect(error).toBeInstanceOf(StoreError)
      expect((error as StoreError).message).toContain(path)
      expect((error as StoreError).message).toContain('EIO: simulated')
      expect(await write).toBeInstanceOf(StoreError)
    })
  })
})

/** The text of a lock file held by `owner`, refreshed at `refreshedAt`. */
function lockOf(owner: string, refreshedAt: number): string {
  return JSON.stringify({ owner, pid: 1, host: 'elsewhere', refreshedAt, timeout: 10_000, beat: 0 })
}

/** Polls `condition` on each turn of the event loop; fails after 5 s. */
async function waitUntil(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met within 5 s')
    await new Promise((resolve) => setImmediate(resolve))
  }
}
