// The file store under random sequences of writes (some while the disk refuses them), reads,
// close() and reopen() of the same store, and new stores on the same file, against a model of what it promises: a write it acknowledged is in the
// file for good; a read never returns an older version than before, nor one never written, and its
// value is that version's; after a close() that flushed, a new store on the file reads at least what
// the old one served.

import { join } from 'node:path'
import fc from 'fast-check'
import { expect, it } from 'vitest'
import { nodeFs } from '../../src/file/fs.js'
import { type FileStoreFs, fileStore } from '../../src/file/index.js'
import type { Store } from '../../src/index.js'
import { recordReports, tempDir } from './helpers.js'

const NAMES = ['a', 'b', 'c'] as const
type Name = (typeof NAMES)[number]

type Command =
  | { readonly kind: 'set'; readonly name: Name; readonly version: number; readonly wait: boolean }
  | { readonly kind: 'get'; readonly name: Name }
  | { readonly kind: 'disk'; readonly full: boolean }
  | { readonly kind: 'reopen' }
  | { readonly kind: 'cycle'; readonly wait: boolean }

const name = fc.constantFrom(...NAMES)
const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('set' as const),
      name,
      version: fc.integer({ min: 1, max: 12 }),
      wait: fc.boolean(),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('get' as const), name }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('disk' as const), full: fc.boolean() }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'reopen' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('cycle' as const), wait: fc.boolean() }) },
)

/** The real file system, except that writing a file fails while the disk is "full". */
function fillableFs(disk: { full: boolean }): FileStoreFs {
  return {
    ...nodeFs,
    async open(path, flags, mode) {
      const handle = await nodeFs.open(path, flags, mode)
      return {
        stat: () => handle.stat(),
        readFile: () => handle.readFile(),
        writeFile: (data) =>
          disk.full
            ? Promise.reject(Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' }))
            : handle.writeFile(data),
        sync: () => handle.sync(),
        close: () => handle.close(),
      }
    },
  }
}

it('keeps every acknowledged write, never serves or keeps an older version, and reopens to what it served', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 30 }), async (commands) => {
      const path = join(tempDir(), 'snapshot.json')
      const disk = { full: false }
      const open = (): Store => {
        const store = fileStore({ path, writeDelay: 0, fs: fillableFs(disk) })
        recordReports(store)
        return store
      }
      let store = open()
      const problems: string[] = []
      /** Per name: the highest version any set() was called with, and the highest one acknowledged. */
      const tried = new Map<Name, number>()
      const acknowledged = new Map<Name, number>()
      /** Per name: the highest version a read has returned. */
      const served = new Map<Name, number>()
      const pending: Promise<unknown>[] = []

      const read = async (n: Name, step: string) => {
        const entry = await store.get(n)
        const version = entry?.version ?? 0
        if (entry !== undefined && entry.value !== `${n}@${version}`)
          problems.push(`${step}: ${n} read ${String(entry.value)} under version ${version}`)
        if (version < (served.get(n) ?? 0))
          problems.push(`${step}: ${n} read v${version} after v${served.get(n)}`)
        if (version < (acknowledged.get(n) ?? 0))
          problems.push(`${step}: ${n} read v${version}, below the acknowledged v${acknowledged.get(n)}`)
        if (version > (tried.get(n) ?? 0)) problems.push(`${step}: ${n} read v${version}, never written`)
        served.set(n, Math.max(version, served.get(n) ?? 0))
      }

      for (const [i, c] of commands.entries()) {
        const step = `step ${i} (${JSON.stringify(c)})`
        switch (c.kind) {
          case 'set': {
            tried.set(c.name, Math.max(c.version, tried.get(c.name) ?? 0))
            const write = store
              .set(c.name, { value: `${c.name}@${c.version}`, version: c.version, loadedAt: 0 })
              .then(
                (written) => {
                  if (written) acknowledged.set(c.name, Math.max(c.version, acknowledged.get(c.name) ?? 0))
                },
                () => {}, // a refused disk: reported, and retried with the next write
              )
            if (c.wait) await write
            else pending.push(write)
            break
          }
          case 'get':
            await read(c.name, step)
            break
          case 'disk':
            disk.full = c.full
            break
          case 'cycle': {
            // The same store closed and reopened, as a registry's stop() and start() do; reopen() may
            // come while close() still writes. Its entries stay in memory, so reads go on as before.
            const closing = store.close().catch(() => {})
            store.reopen?.()
            if (c.wait) await closing
            else pending.push(closing)
            break
          }
          case 'reopen': {
            // close() flushes what is pending (or rejects if the disk refuses it); then a new store
            // reads the file.
            const flushed = await store.close().then(
              () => true,
              () => false,
            )
            await Promise.all(pending.splice(0))
            // Unflushed, what the old store served from memory may not be in the file: only the
            // acknowledged writes must be.
            if (!flushed) served.clear()
            store = open()
            for (const n of NAMES) await read(n, step)
            break
          }
        }
        if (problems.length > 0) break
      }
      const flushed = await store.close().then(
        () => true,
        () => false,
      )
      await Promise.all(pending.splice(0))
      if (!flushed) served.clear()
      if (problems.length === 0) {
        store = open()
        for (const n of NAMES) await read(n, 'at the end')
        await store.close()
      }
      expect(problems).toEqual([])
    }),
    // `npm run test:soak` runs many more (file-store-model.soak.ts).
    { numRuns: Number(process.env.FILE_MODEL_RUNS ?? 60) },
  )
})
