// Every example in examples/ runs as a user would run it: a child process (`node --import tsx`), the
// package imported by its name, on 127.0.0.1 with a port the system picks, for a few seconds, and is
// asked to stop with SIGTERM; it must then exit by itself, with code 0. Each child is killed if it
// outlives its bounds.
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { root } from './build.js'
import { type RedisServer, startRedis } from './redis/redis-server.js'

/** Longest time an example may take to print its first line, or to exit after SIGTERM. */
const BOUND_MS = 15_000

interface Running {
  child: ChildProcess
  lines: string[]
  /** Resolves with the first line matching `pattern` (rejects after BOUND_MS or at exit). */
  line(pattern: RegExp): Promise<string>
  /** Sends SIGTERM and resolves with the exit code. */
  stop(): Promise<number | null>
  /** Resolves with the exit code once the child exits by itself. */
  exited(): Promise<number | null>
}

const children = new Set<ChildProcess>()

function run(example: string, env: Record<string, string> = {}): Running {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'examples', example)], {
    cwd: root,
    env: { ...process.env, PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.add(child)
  const lines: string[] = []
  let stderr = ''
  let buffer = ''
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buffer += chunk
    const parts = buffer.split('\n')
    buffer = parts.pop()!
    lines.push(...parts)
  })
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  const exit = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      children.delete(child)
      resolve(code)
    }),
  )
  const bounded = async (what: string): Promise<number | null> => {
    const timer = setTimeout(() => child.kill('SIGKILL'), BOUND_MS)
    const code = await exit
    clearTimeout(timer)
    if (code !== 0) throw new Error(`${example} ${what} with code ${code}:\n${lines.join('\n')}\n${stderr}`)
    return code
  }
  return {
    child,
    lines,
    async line(pattern) {
      const deadline = Date.now() + BOUND_MS
      for (;;) {
        const found = lines.find((l) => pattern.test(l))
        if (found !== undefined) return found
        if (child.exitCode !== null || Date.now() > deadline) {
          throw new Error(`${example} printed no line matching ${pattern}:\n${lines.join('\n')}\n${stderr}`)
        }
        await sleep(25)
      }
    },
    stop() {
      child.kill('SIGTERM')
      return bounded('exited after SIGTERM')
    },
    exited: () => bounded('exited'),
  }
}

async function json(url: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5_000) })
  return { status: response.status, body: await response.json() }
}

async function listening(server: Running): Promise<string> {
  return /https?:\/\/[\d.:]+/.exec(await server.line(/^listening on /))![0]
}

afterEach(() => {
  for (const child of children) child.kill('SIGKILL')
})

describe('the examples', { timeout: 60_000 }, () => {
  it('node:http serves the last good rates and its health', async () => {
    const server = run('node-http/server.ts')
    const url = await listening(server)
    expect(await json(`${url}/rates`)).toEqual({ status: 200, body: { EUR: expect.any(Number), GBP: 0.79 } })
    await sleep(2_500) // a refresh or two, one of which the stand-in backend fails
    expect((await json(`${url}/rates`)).status).toBe(200)
    expect(await json(`${url}/healthz`)).toMatchObject({
      status: 200,
      body: { healthy: true, started: true },
    })
    expect(await server.stop()).toBe(0)
  })

  it('Express reports not ready, then ready, and reads the flags', async () => {
    const server = run('express/server.ts')
    const url = await listening(server)
    for (let i = 0; i < 100 && (await json(`${url}/readyz`)).status !== 200; i++) await sleep(50)
    expect(await json(`${url}/readyz`)).toMatchObject({ status: 200, body: { healthy: true } })
    expect(await json(`${url}/checkout`)).toEqual({
      status: 200,
      body: { flow: expect.stringMatching(/new|classic/) },
    })
    expect(await server.stop()).toBe(0)
  })

  it('Fastify serves the signing keys and stops the registry on close', async () => {
    const server = run('fastify/server.ts')
    const url = await listening(server)
    const keys = (await json(`${url}/keys`)) as { status: number; body: { keys: { kid: string }[] } }
    expect(keys.status).toBe(200)
    const kid = keys.body.keys[0]!.kid
    expect((await json(`${url}/keys/${kid}`)).status).toBe(200)
    expect((await json(`${url}/keys/nope`)).status).toBe(404)
    await sleep(2_500)
    expect((await json(`${url}/keys`)).body).not.toEqual(keys.body) // the keys rotated meanwhile
    expect(await server.stop()).toBe(0)
  })

  describe('a worker with a file snapshot', () => {
    let dir = ''
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'evergreen-example-'))
    })
    afterAll(() => rmSync(dir, { recursive: true, force: true }))

    it('saves its values, and starts from them while the service is down', async () => {
      const snapshot = join(dir, 'pricing.json')
      const first = run('file-snapshot/worker.ts', { SNAPSHOT: snapshot, RUN_FOR: '1.5' })
      expect(JSON.parse(await first.line(/"started"/))).toMatchObject({ status: 'ready', source: 'load' })
      expect(await first.exited()).toBe(0)
      expect(JSON.parse(await first.line(/"stopped"/)).jobs).toBeGreaterThan(3)

      const second = run('file-snapshot/worker.ts', { SNAPSHOT: snapshot, RUN_FOR: '1.5', PRICING_DOWN: '1' })
      const started = JSON.parse(await second.line(/"started"/))
      expect(started).toMatchObject({ status: 'restored', source: 'store', pricing: { basic: 10, pro: 25 } })
      const work = JSON.parse(await second.line(/"jobs"/))
      expect(work).toMatchObject({ total: 75, status: 'degraded' }) // still served, loads failing
      expect(await second.exited()).toBe(0)
    })
  })

  describe('a fleet of two processes on Redis', () => {
    let redis: RedisServer
    beforeAll(async () => {
      redis = await startRedis()
    })
    afterAll(() => redis?.stop())

    it('loads once per interval for the fleet, and both replicas serve the same version', async () => {
      const env = { REDIS_URL: redis.url }
      const replicas = [run('redis-fleet/replica.ts', env), run('redis-fleet/replica.ts', env)]
      const urls = await Promise.all(replicas.map(listening))
      const started = Date.now() // each replica has made or taken its first value
      await sleep(3_500) // three or four intervals of 1 s
      type Stats = {
        pid: number
        ownLoads: number
        changes: { load: number; fleet: number }
        version: number
      }
      const stats = async () =>
        Promise.all(urls.map(async (url) => (await json(`${url}/stats`)).body as Stats))
      let seen = await stats()
      // Both replicas serve what the fleet loaded: within a few polls they hold one version.
      for (let i = 0; i < 40 && seen[0]!.version !== seen[1]!.version; i++) {
        await sleep(25)
        seen = await stats()
      }
      expect(seen[0]!.version).toBe(seen[1]!.version)
      // Values loaded by one replica reached the other (which replica wins each interval's lease is
      // up to the timers, so only the fleet as a whole is checked), and every version is one load:
      // one load per interval for the fleet, where two replicas alone would make twice as many.
      expect(seen[0]!.changes.fleet + seen[1]!.changes.fleet).toBeGreaterThanOrEqual(1)
      const loads = seen[0]!.ownLoads + seen[1]!.ownLoads
      expect(loads).toBeLessThanOrEqual(seen[0]!.version)
      const alone = 2 * (1 + (Date.now() - started) / 1_000) // two replicas, each once a second
      expect(loads).toBeLessThan(0.8 * alone)
      const rates = (await json(`${urls[0]}/rates`)).body as { loadedBy: number; source: string }
      expect(seen.map((s) => s.pid)).toContain(rates.loadedBy)
      expect(await Promise.all(replicas.map((r) => r.stop()))).toEqual([0, 0])
    })
  })
})
