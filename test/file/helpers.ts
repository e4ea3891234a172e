import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach } from 'vitest'
import { entryData } from '../../src/file/snapshot.js'
import { parseSnapshot } from '../../src/file/snapshot-parse.js'
import type { StoreError } from '../../src/index.js'
import type { Store, StoreContext } from '../../src/stores/store.js'

const made: string[] = []

/** A fresh directory under the OS temp dir, removed after the test. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'evergreen-file-'))
  made.push(dir)
  return dir
}

afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true })
})

/** Attaches a context to `store` that records what it reports. */
export function recordReports(store: Store): { error: StoreError; resource: string | undefined }[] {
  const reports: { error: StoreError; resource: string | undefined }[] = []
  const context: StoreContext = {
    reportError: (error, resource) => reports.push({ error: error as StoreError, resource }),
  }
  store.attach?.(context)
  return reports
}

/** A promise with its settle functions outside. */
export function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void
  const promise = new Promise<T>((r) => {
    resolve = r
  })
  return { promise, resolve }
}

/** The entries of the snapshot file at `path`, each with its value's text as `data`. */
export function readSnapshot(path: string): Map<string, { version: number; loadedAt: number; data: string }> {
  const entries = new Map<string, { version: number; loadedAt: number; data: string }>()
  for (const [name, entry] of parseSnapshot(readFileSync(path, 'utf8'))) {
    entries.set(name, { version: entry.version, loadedAt: entry.loadedAt, data: entryData(entry) })
  }
  return entries
}
