// One writer per snapshot file: in this process (a second store on the path is refused) and
// against the lock file of another process, driven here on a manual clock.
import { readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'
import { FileLockError, fileStore } from '../../src/file/index.js'
import { StoreError } from '../../src/index.js'
import type { Store } from '../../src/stores/store.js'
import { manualClock } from '../scheduling/manual-clock.js'
import { readSnapshot, tempDir } from './helpers.js'

const SNAPSHOT = (entries: Record<string, number>) =>
  `{"kind":"evergreen-snapshot","format":1,"savedAt":1,"entries":{\n${Object.entries(entries)
    .map(
      ([name, version]) =>
        `${JSON.stringify(name)}:{"version":${version},"loadedAt":${Date.now()},"value":"${version}"}`,
    )
    .join(',\n')}\n}}\n`

/** The lock file of a process on another host; `beat` changes with each of its refreshes. */
function otherLock(path: string, beat: number, refreshedAt = Date.now()): void {
  // Written whole, as a holder does: a reader never sees it half written.
  const text = JSON.stringify({
    owner: 'other0000000',
    pid: 7,
    host: 'elsewhere',
    refreshedAt,
    timeout: 1_000,
    beat,
  })
  writeFileSync(`${path}.lock.next`, text)
  renameSync(`${path}.lock.next`, `${path}.lock`)
}

/**
 * Runs `clock` on in steps of `step` ms until `promise` settles; file I/O runs in real time
 * meanwhile, so each step also yields to it. Gives up after 10 s of real time.
 */
async function drive<T>(clock: ReturnType<typeof manualClock>, promise: Promise<T>, step = 10): Promise<T> {
  let settled = false
  const done = promise.finally(() => {
    settled = true
  })
  const deadline = Date.now() + 10_000
  while (!settled && Date.now() < deadline) {
    clock.advance(step)
    await new Promise((resolve) => setTimeout(resolve, 1))
  }
  return done
}

function attach(store: Store) {
  const clock = manualClock()
  const reports: StoreError[] = []
  store.attach?.({ reportError: (error) => reports.push(error as StoreError), clock })
  return { clock, reports }
}

describe('a second store on one file in this process', () => {
  it('is refused with a FileLockError while the first is open, whatever the spelling of the path', async () => {
    const path = join(tempDir(), 'snapshot.json')
    const first = fileStore({ path })
    for (const same of [
      path,
      relative(process.cwd(), path),
      `${path.replace('snapshot.json', '')}./snapshot.json`,
    ]) {
      expect(() => fileStore({ path: same })).toThrow(FileLockError)
    }
    try {
      fileStore({ path })
    } catch (error) {
      expect(error).toMatchObject({ code: 'E_STORE', path, message: expect.stringContaining(path) })
    }
    await first.close()
    const second = fileStore({ path })
    // The first cannot come back while the second has the file.
    expect(() => first.reopen?.()).toThrow(FileLockError)
    await second.close()
    first.reopen?.()
    await first.close()
  })
})

describe('the lock file of another process', () => {
  it('refuses writes once its holder is seen alive, reports that once, and leaves the file alone', async () => {
    const path = join(tempDir(), 'snapshot.json')
    writeFileSync(path, SNAPSHOT({ theirs: 1 }))
    otherLock(path, 0)
    const store = fileStore({ path, writeDelay: 0, lockTimeout: '1s' })
    const { clock, reports } = attach(store)
    // A warm start still: what the file holds is served.
    expect((await store.get('theirs'))?.version).toBe(1)
    const waiting = store.set('ours', { value: 1, version: 1, loadedAt: 1 }).catch((error: unknown) => error)
    await expect.poll(() => clock.pending).toBeGreaterThan(0)
    otherLock(path, 1) // its owner refreshes it
    clock.advance(200)
    const refused = await waiting
    expect(refused).toBeInstanceOf(FileLockError)
    expect(refused).toMatchObject({ resource: 'ours', path, holder: 'pid 7 on host elsewhere' })
    await expect(store.set('again', { value: 1, version: 1, loadedAt: 1 })).rejects.toBeInstanceOf(
      FileLockError,
    )
    expect(reports.map((r) => r.message)).toEqual([
      expect.stringMatching(/held by another process \(pid 7 on host elsewhere\)/),
    ])
    expect(readSnapshot(path).has('ours')).toBe(false)
    // Still refused at close, which names the file and why.
    await expect(store.close()).rejects.toThrow(
      new RegExp(`could not save the last changes to ${path}: .*held by another process`),
    )
    expect(readFileSync(`${path}.lock`, 'utf8')).toContain('other0000000')
  })

  it('is taken over once unchanged for lockTimeout, with a report, and the file is merged first', async () => {
    const path = join(tempDir(), 'snapshot.json')
    writeFileSync(path, SNAPSHOT({ theirs: 1 }))
    otherLock(path, 0)
    const store = fileStore({ path, writeDelay: 0, lockTimeout: '1s' })
    const { clock, reports } = attach(store)
    await store.list()
    const write = store.set('ours', { value: 1, version: 1, loadedAt: 1 })
    // Its holder wrote once more before it died.
    writeFileSync(path, SNAPSHOT({ theirs: 2, more: 1 }))
    for (let i = 0; i < 6 && reports.length === 0; i++) {
      await expect.poll(() => clock.pending).toBeGreaterThan(0)
      clock.advance(250)
    }
    expect(await write).toBe(true)
    expect(reports.map((r) => r.message)).toEqual([
      expect.stringMatching(/took over the lock of .* not refreshed for \d+ ms/),
    ])
    expect(readSnapshot(path).get('theirs')?.version).toBe(2)
    expect([...readSnapshot(path).keys()].sort()).toEqual(['more', 'ours', 'theirs'])
    await store.close()
  })

  it('is taken over at once when its wall time says it went unrefreshed for longer than its timeout', async () => {
    const path = join(tempDir(), 'snapshot.json')
    otherLock(path, 0, Date.now() - 60_000)
    const store = fileStore({ path, writeDelay: 0 })
    const { clock, reports } = attach(store)
    expect(await drive(clock, store.set('ours', { value: 1, version: 1, loadedAt: 1 }))).toBe(true)
    expect(reports).toEqual([expect.any(StoreError)])
    await store.close()
  })

  it('is never overwritten by a store that lost its lock while paused: it says so and writes nothing', async () => {
    const path = join(tempDir(), 'snapshot.json')
    // A long timeout: no refresh of its own runs while the test plays the other process.
    const store = fileStore({ path, writeDelay: 0, lockTimeout: '1h' })
    const { clock, reports } = attach(store)
    expect(await drive(clock, store.set('ours', { value: 1, version: 1, loadedAt: 1 }))).toBe(true)
    // Another process took the lock over (this one was paused) and wrote its own snapshot.
    otherLock(path, 0)
    writeFileSync(path, SNAPSHOT({ theirs: 1 }))
    const write = store.set('ours', { value: 2, version: 2, loadedAt: 2 }).catch((error: unknown) => error)
    clock.advance(0)
    await expect.poll(() => reports.length).toBe(1)
    expect(reports[0]?.message).toMatch(/lost the lock of .* to pid 7 on host elsewhere/)
    expect([...readSnapshot(path).keys()]).toEqual(['theirs'])
    await store.close().catch(() => {})
    expect(await write).toBeInstanceOf(StoreError)
    expect([...readSnapshot(path).keys()]).toEqual(['theirs'])
  })
})
