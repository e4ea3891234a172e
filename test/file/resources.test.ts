import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { fileStore } from '../../src/file/index.js'
import { type EvergreenError, Resources, StoreError } from '../../src/index.js'
import { deferred, readSnapshot, tempDir } from './helpers.js'

function saved(path: string) {
  return readSnapshot(path)
}

/** Runs one registry on `path` that loads `value` into `name`, then stops it. */
async function previousRun(path: string, name: string, value: unknown): Promise<void> {
  const resources = new Resources({ store: fileStore({ path }), jitter: 0 })
  resources.define(name, () => value)
  await resources.start({ wait: true })
  await resources.stop()
}

describe('Resources with a file store', () => {
  it('saves a value after it loads', async () => {
    const path = join(tempDir(), 'snapshot.json')
    const before = Date.now()
    await previousRun(path, 'pods', ['web-1', 'web-2'])
    const entry = saved(path).get('pods')
    expect(entry).toMatchObject({ version: 1, data: '["web-1","web-2"]' })
    expect(entry?.loadedAt).toBeGreaterThanOrEqual(before)
  })

  it('serves the saved value at once after a restart, before its slow loader settles', async () => {
    const path = join(tempDir(), 'snapshot.json')
    await previousRun(path, 'pods', ['web-1', 'web-2'])

    const slow = deferred<string[]>()
    const restores: unknown[] = []
    const resources = new Resources({ store: fileStore({ path }), jitter: 0 })
    resources.on('restore', (event) => restores.push(event))
    const pods = resources.define('pods', () => slow.promise)
    await resources.start()

    expect(await pods.ready()).toEqual(['web-1', 'web-2'])
    const restored = pods.peek()
    expect(restored).toMatchObject({ source: 'store', status: 'restored', version: 1, loading: true })
    expect(restored.age).toBeGreaterThanOrEqual(0)
    expect(pods.get()).toEqual(['web-1', 'web-2'])
    expect(restores).toEqual([{ name: 'pods', version: 1, age: expect.any(Number) }])

    slow.resolve(['web-3'])
    await expect.poll(() => pods.peek().source).toBe('load')
    expect(pods.peek()).toMatchObject({ status: 'ready', version: 2 })
    await resources.stop()
    expect(saved(path).get('pods')).toMatchObject({ version: 2, data: '["web-3"]' })
  })

  it('ignores a saved value older than maxRestoredAge, but versions go on from it', async () => {
    const path = join(tempDir(), 'snapshot.json')
    const store = fileStore({ path, writeDelay: 0 })
    await store.set('pods', { value: ['ancient'], version: 7, loadedAt: Date.now() - 60_000 })
    await store.close()

    const slow = deferred<string[]>()
    const resources = new Resources({ store: fileStore({ path }), maxRestoredAge: '10s', jitter: 0 })
    const pods = resources.define('pods', () => slow.promise)
    await resources.start()
    slow.resolve(['fresh'])
    expect(await pods.ready()).toEqual(['fresh'])
    expect(pods.peek()).toMatchObject({ source: 'load', version: 8 })
    await resources.stop()
  })

  it('goes on saving after stop() and start(): start() reopens the file store stop() closed', async () => {
    const path = join(tempDir(), 'snapshot.json')
    const errors: unknown[] = []
    const resources = new Resources({
      store: fileStore({ path, writeDelay: 0 }),
      jitter: 0,
      onError: (e) => errors.push(e),
    })
    let n = 0
    const pods = resources.define('pods', () => `v${++n}`)
    await resources.start({ wait: true })
    await resources.stop()
    expect(saved(path).get('pods')).toMatchObject({ version: 1, data: '"v1"' })
    await resources.start()
    await pods.refresh()
    await resources.stop()
    expect(pods.peek().version).toBeGreaterThanOrEqual(2)
    expect(saved(path).get('pods')).toMatchObject({ version: pods.peek().version, data: `"v${n}"` })
    expect(errors).toEqual([])
  })

  it('neither saves nor restores a resource with persist: false', async () => {
    const path = join(tempDir(), 'snapshot.json')
    const store = fileStore({ path, writeDelay: 0 })
    await store.set('secret', { value: 'old secret', version: 1, loadedAt: Date.now() })
    await store.close()

    const slow = deferred<string>()
    const resources = new Resources({ store: fileStore({ path }) })
    const secret = resources.define('secret', () => slow.promise, { persist: false })
    resources.define('public', () => 'hello')
    await resources.start()
    await resources.resource('public').ready()
    expect(secret.peek().hasValue).toBe(false)
    slow.resolve('new secret')
    expect(await secret.ready()).toBe('new secret')
    await resources.stop()
    const entries = saved(path)
    expect(entries.get('secret')?.data).toBe('"old secret"')
    expect(entries.get('public')?.data).toBe('"hello"')
  })

  it('reports a value that cannot be saved as an error of that resource only', async () => {
    const path = join(tempDir(), 'snapshot.json')
    const errors: [EvergreenError, string | undefined][] = []
    const resources = new Resources({
      store: fileStore({ path }),
      onError: (error, name) => errors.push([error, name]),
    })
    const big = resources.define('big', () => 2n ** 64n)
    resources.define('plain', () => ({ ok: true }))
    await resources.start({ wait: true })
    await resources.stop()

    expect(big.get()).toBe(2n ** 64n)
    expect(errors).toHaveLength(1)
    const [error, name] = errors[0]!
    expect(name).toBe('big')
    expect(error).toBeInstanceOf(StoreError)
    expect(error.resource).toBe('big')
    expect([...saved(path).keys()]).toEqual(['plain'])
  })

  it('reports a corrupt snapshot through onError and starts cold', async () => {
    const path = join(tempDir(), 'snapshot.json')
    writeFileSync(path, '{"kind":"evergreen-snap')
    const errors: EvergreenError[] = []
    const resources = new Resources({ store: fileStore({ path }), onError: (error) => errors.push(error) })
    const pods = resources.define('pods', () => ['web-1'])
    await resources.start({ wait: true })
    expect(pods.peek()).toMatchObject({ source: 'load', version: 1 })
    await resources.stop()
    expect(errors).toEqual([expect.any(StoreError)])
    expect(errors[0]?.message).toMatch(/moved it to .*snapshot\.json\.corrupt-/)
    expect(saved(path).get('pods')?.version).toBe(1)
  })
})
