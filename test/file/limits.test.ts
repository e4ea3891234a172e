// What the file store refuses and what it drops, so that one entry cannot stop every write and
// names that no longer exist are not carried forever.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { fileStore } from '../../src/file/index.js'
import { Resources, StoreError } from '../../src/index.js'
import { readSnapshot, recordReports, tempDir } from './helpers.js'

const DAY = 86_400_000

describe('an oversized value', () => {
  it('is refused alone, naming the resource and its size; the others are saved, also later', async () => {
    const path = join(tempDir(), 'snapshot.json')
    const store = fileStore({ path, writeDelay: 0, maxBytes: 1_000 })
    expect(await store.set('small', { value: 'v1', version: 1, loadedAt: 1 })).toBe(true)
    const results = await Promise.allSettled([
      store.set('large', { value: 'y'.repeat(2_000), version: 1, loadedAt: 1 }),
      store.set('small', { value: 'v2', version: 2, loadedAt: 2 }),
    ])
    expect(results[1]).toEqual({ status: 'fulfilled', value: true })
    const error = (results[0] as PromiseRejectedResult).reason
    expect(error).toBeInstanceOf(StoreError)
    expect(error.resource).toBe('large')
    expect(error.message).toMatch(
      /resource "large" to .*snapshot\.json: its entry is 20\d\d bytes, over maxBytes \(1000\)/,
    )
    // Later changes of the others still reach the disk.
    for (let version = 3; version <= 10; version++) {
      expect(await store.set('small', { value: `v${version}`, version, loadedAt: version })).toBe(true)
    }
    expect(readSnapshot(path).get('small')).toMatchObject({ version: 10, data: '"v10"' })
    expect([...readSnapshot(path).keys()]).toEqual(['small'])
    // And the resource itself saves again once its value fits.
    expect(await store.set('large', { value: 'fits', version: 2, loadedAt: 3 })).toBe(true)
    await store.close()
    expect(readSnapshot(path).get('large')).toMatchObject({ version: 2, data: '"fits"' })
  })

  it('refuses the largest changes of a write that would exceed maxBytes together, and keeps their saved entries', async () => {
    const path = join(tempDir(), 'snapshot.json')
    const store = fileStore({ path, writeDelay: 0, maxBytes: 1_000 })
    expect(await store.set('a', { value: 'a1', version: 1, loadedAt: 1 })).toBe(true)
    const results = await Promise.allSettled([
      store.set('a', { value: 'a'.repeat(400), version: 2, loadedAt: 2 }),
      store.set('b', { value: 'b'.repeat(300), version: 1, loadedAt: 2 }),
      store.set('c', { value: 'c'.repeat(500), version: 1, loadedAt: 2 }),
    ])
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected'])
    expect((results[2] as PromiseRejectedResult).reason).toMatchObject({
      code: 'E_STORE',
      resource: 'c',
      message: expect.stringMatching(
        /its entry of 5\d\d bytes would make the snapshot \d+ bytes, over maxBytes/,
      ),
    })
    expect(await store.get('c')).toBeUndefined()
    await store.close()
    expect([...readSnapshot(path).keys()].sort()).toEqual(['a', 'b'])
  })

  it('in a registry, is reported for that resource only, while another resource goes on being saved', async () => {
    const path = join(tempDir(), 'snapshot.json')
    const errors: [string, string | undefined][] = []
    const resources = new Resources({
      store: fileStore({ path, writeDelay: 0, maxBytes: 2_000 }),
      jitter: 0,
      onError: (error, name) => errors.push([error.message, name]),
    })
    let n = 0
    const counter = resources.define('counter', () => ++n)
    const big = resources.define('big', () => 'x'.repeat(5_000))
    await resources.start({ wait: true })
    for (let i = 0; i < 3; i++) await counter.refresh()
    await resources.remove('big')
    await counter.refresh()
    await resources.stop()
    expect(big.peek().hasValue).toBe(true)
    expect(readSnapshot(path).get('counter')).toMatchObject({ version: counter.peek().version, data: `${n}` })
    expect(readSnapshot(path).has('big')).toBe(false)
    expect(errors).toEqual([[expect.stringMatching(/"big" .* over maxBytes/), 'big']])
  })
})

describe('entries of names that no longer exist', () => {
  function snapshotWith(path: string, entries: Record<string, number>): void {
    const lines = Object.entries(entries).map(
      ([name, loadedAt]) => `${JSON.stringify(name)}:{"version":1,"loadedAt":${loadedAt},"value":"1"}`,
    )
    writeFileSync(
      path,
      `{"kind":"evergreen-snapshot","format":1,"savedAt":1,"entries":{\n${lines.join(',\n')}\n}}\n`,
    )
  }

  it('are dropped at the next write once older than orphanAge, unless this process read or wrote them', async () => {
    const path = join(tempDir(), 'snapshot.json')
    const now = Date.now()
    snapshotWith(path, {
      'gone-long-ago': now - 3 * DAY,
      'gone-recently': now - 60_000,
      'still-used': now - 3 * DAY,
    })
    const store = fileStore({ path, writeDelay: 0, orphanAge: '1d' })
    expect((await store.get('still-used'))?.version).toBe(1)
    expect(await store.set('new', { value: 1, version: 1, loadedAt: now })).toBe(true)
    expect([...readSnapshot(path).keys()].sort()).toEqual(['gone-recently', 'new', 'still-used'])
    expect(await store.list()).not.toContain('gone-long-ago')
    await store.close()
  })

  it('are all kept with orphanAge: Infinity', async () => {
    const path = join(tempDir(), 'snapshot.json')
    snapshotWith(path, { ancient: 1 })
    const store = fileStore({ path, writeDelay: 0, orphanAge: Number.POSITIVE_INFINITY })
    expect(await store.set('new', { value: 1, version: 1, loadedAt: Date.now() })).toBe(true)
    await store.close()
    expect([...readSnapshot(path).keys()].sort()).toEqual(['ancient', 'new'])
  })

  it('are gone once deleted: 1,000 live names and churn leave a snapshot of the live ones only', async () => {
    const path = join(tempDir(), 'snapshot.json')
    const store = fileStore({ path, writeDelay: 0 })
    const reports = recordReports(store)
    const now = Date.now()
    let next = 0
    const live: string[] = []
    await Promise.all(
      Array.from({ length: 1_000 }, () => {
        const name = `r${next++}`
        live.push(name)
        return store.set(name, { value: { name }, version: 1, loadedAt: now })
      }),
    )
    for (let round = 0; round < 20; round++) {
      const removed = live.splice(0, 10)
      const added = Array.from({ length: 10 }, () => `r${next++}`)
      live.push(...added)
      await Promise.all([
        ...removed.map((name) => store.delete(name)),
        ...added.map((name) => store.set(name, { value: { name }, version: 1, loadedAt: now })),
      ])
    }
    await store.close()
    expect(readSnapshot(path).size).toBe(1_000)
    expect([...readSnapshot(path).keys()].sort()).toEqual([...live].sort())
    expect(reports).toEqual([])
  })
})
