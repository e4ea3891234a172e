// close() releases every connection the store opened: a process that used a store from a URL and
// closed it exits by itself, at once.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { Redis } from 'ioredis'
import { describe, expect, it } from 'vitest'
import { StoreError } from '../../src/core/errors.js'
import { redisStore } from '../../src/redis/index.js'
import { freshPrefix, subscribed, until, useRedis } from './helpers.js'
import { freePort } from './redis-server.js'

const redis = useRedis()
const CHILD = fileURLToPath(new URL('./fixtures/store-child.ts', import.meta.url))
const ROOT = fileURLToPath(new URL('../..', import.meta.url))

interface Run {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly lines: Record<string, unknown>[]
  readonly stderr: string
  /** Ms from the last line printed to the exit; `undefined` when it was still running at the deadline. */
  readonly exitAfterLastLine: number | undefined
}

/** Runs the child; kills it if it is still alive `deadline` ms after its last line. */
function runChild(mode: string, deadline: number, url = redis.server.url): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, url, mode], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const lines: Record<string, unknown>[] = []
    let stderr = ''
    let lastLine = performance.now()
    let killed = false
    let timer = setTimeout(() => {}, 0)
    const arm = () => {
      clearTimeout(timer)
      timer = setTimeout(() => {
        killed = true
        child.kill('SIGKILL')
      }, deadline)
    }
    // Startup (tsx) may be slow: the deadline counts from the last line, with a generous first one.
    timer = setTimeout(() => {
      killed = true
      child.kill('SIGKILL')
    }, 15_000)
    let buffered = ''
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString()
      let nl = buffered.indexOf('\n')
      while (nl !== -1) {
        lines.push(JSON.parse(buffered.slice(0, nl)) as Record<string, unknown>)
        buffered = buffered.slice(nl + 1)
        nl = buffered.indexOf('\n')
      }
      lastLine = performance.now()
      arm()
    })
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      resolve({
        code,
        signal,
        lines,
        stderr,
        exitAfterLastLine: killed ? undefined : performance.now() - lastLine,
      })
    })
  })
}

describe('redisStore: close()', () => {
  it('leaves nothing open: a process that used a store from a URL and closed it exits by itself', async () => {
    const run = await runChild('close', 2_000)
    expect(run.stderr).toBe('')
    expect(run.lines.map((l) => l.step)).toEqual(['used', 'closed'])
    expect(run.lines[0]).toMatchObject({ ready: true })
    expect(run.code).toBe(0)
    expect(run.exitAfterLastLine).toBeLessThan(1_000)
  })

  it('leaves nothing open after a close, a reopen, more use and a second close', async () => {
    const run = await runChild('reopen', 2_000)
    expect(run.stderr).toBe('')
    expect(run.lines.map((l) => l.step)).toEqual(['used', 'closed', 'used again', 'closed again'])
    expect(run.lines[2]).toMatchObject({ ready: true })
    expect(run.code).toBe(0)
    expect(run.exitAfterLastLine).toBeLessThan(1_000)
  })

  it('is what lets the process exit: the same process without close() keeps running', async () => {
    const run = await runChild('keep-open', 1_500)
    expect(run.lines.map((l) => l.step)).toEqual(['used'])
    expect(run.exitAfterLastLine).toBeUndefined()
    expect(run.signal).toBe('SIGKILL')
  })

  it('leaves nothing open when closed while its connection is still being opened', async () => {
    const run = await runChild('close-at-once', 2_000)
    expect(run.stderr).toBe('')
    expect(run.lines).toEqual([{ step: 'closed', pending: 'rejected' }])
    expect(run.code).toBe(0)
    expect(run.exitAfterLastLine).toBeLessThan(1_000)
  })

  it('leaves nothing open when Redis is unreachable: the process exits at once after close()', async () => {
    // ioredis arms a referenced timer when it disconnects a socket that already closed; the store's
    // own connections do without it, so a process whose Redis is down does not exit seconds late.
    const run = await runChild('unreachable', 3_000, `redis://127.0.0.1:${await freePort()}`)
    expect(run.stderr).toBe('')
    expect(run.lines).toEqual(Array.from({ length: 3 }, () => ({ step: 'closed', failed: true })))
    expect(run.code).toBe(0)
    expect(run.exitAfterLastLine).toBeLessThan(500)
  })

  it("closes its subscriber connection but not the caller's own client, which stays usable", async () => {
    const client = redis.client()
    const prefix = freshPrefix()
    const store = redisStore({ client, prefix })
    await subscribed(store, redis.client(), prefix)
    const pubsubClients = async () => {
      const list = String(await redis.server.command('CLIENT', 'LIST', 'TYPE', 'pubsub'))
      return list.split('\n').filter((line) => line.includes(`sub=1`)).length
    }
    expect(await pubsubClients()).toBeGreaterThan(0)
    const before = await pubsubClients()
    await store.close()
    await until(async () => (await pubsubClients()) === before - 1, 2_000, 'the subscriber is closed')
    expect(await client.ping()).toBe('PONG')
  })

  it('rejects every call after close() with a StoreError, and can be closed again', async () => {
    const store = redis.store()
    await store.close()
    for (const call of [
      () => store.get('pods'),
      () => store.set('pods', { value: 1, version: 1, loadedAt: 1 }),
      () => store.list(),
      () => store.delete('pods'),
      () => store.fleet.head('pods'),
      () => store.fleet.acquire('pods', 0),
    ]) {
      await expect(call()).rejects.toBeInstanceOf(StoreError)
    }
    await store.close()
  })

  it.each(['url', 'client'] as const)(
    'works again after reopen(), with a new subscription (store from a %s)',
    async (via) => {
      const prefix = freshPrefix()
      const store = redis.store({ via, prefix })
      expect(await store.set('pods', { value: 1, version: 1, loadedAt: 1 })).toBe(true)
      await store.close()
      await expect(store.get('pods')).rejects.toBeInstanceOf(StoreError)
      store.reopen?.()
      expect(await store.set('pods', { value: 2, version: 2, loadedAt: 2 })).toBe(true)
      expect(await store.get('pods')).toEqual({ value: 2, version: 2, loadedAt: 2 })
      await subscribed(store, redis.client(), prefix)
      const heard: [string, number][] = []
      store.fleet.watch((name, version) => heard.push([name, version]))
      await redis.store({ prefix }).set('pods', { value: 3, version: 3, loadedAt: 3 })
      await until(() => heard.length > 0, 2_000, 'the announcement arrives')
      expect(heard).toEqual([['pods', 3]])
      await store.close()
    },
  )

  it('lets the commands under way finish before it disconnects: none fails after a reopen', async () => {
    const prefix = freshPrefix()
    const store = redis.store({ via: 'url', prefix })
    const reported: unknown[] = []
    store.attach?.({ reportError: (error) => reported.push(error) })
    const entry = { value: 'v1', version: 1, loadedAt: 1 }
    expect(await store.set('pods', entry)).toBe(true)
    // Asked just before a registry's stop() closes the store, answered after its start() reopened it.
    const reads = [store.get('pods'), store.fleet.head('pods')]
    const closing = store.close()
    store.reopen?.()
    expect(await Promise.all(reads)).toEqual([entry, { version: 1, loadedAt: 1 }])
    await closing
    expect(await store.get('pods')).toEqual(entry)
    expect(reported).toEqual([])
    await store.close()
  })

  it('does not subscribe after close()', async () => {
    const own = new Redis(redis.server.url)
    const store = redisStore({ client: own, prefix: freshPrefix() })
    await store.close()
    store.fleet.watch(() => {})
    await new Promise((resolve) => setTimeout(resolve, 100))
    const list = String(await redis.server.command('CLIENT', 'LIST', 'TYPE', 'pubsub'))
    expect(list).not.toContain(`sub=1`)
    own.disconnect()
  })
})
