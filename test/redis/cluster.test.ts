/**
 * Fleet mode on a real Redis Cluster of three masters: each resource's keys share a hash tag, so
 * its scripts run on one node; announcements published from a script reach subscribers on any node.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Cluster } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Resources } from '../../src/index.js'
import { redisStore } from '../../src/redis/index.js'
import { storeConformance } from '../../src/testing/index.js'
import { freshPrefix, until } from './helpers.js'
import { freePort, redisServerBinary } from './redis-server.js'

const nodes: ChildProcess[] = []
const ports: number[] = []
const clients: Cluster[] = []
let dir = ''

/** A free port whose cluster-bus port (port + 10000) is free too. */
async function clusterPort(): Promise<number> {
  for (;;) {
    const port = await freePort()
    if (port + 10_000 > 65_535 || ports.includes(port)) continue
    if (await portFree(port + 10_000)) return port
  }
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}

function cluster(): Cluster {
  const client = new Cluster(
    ports.map((port) => ({ host: '127.0.0.1', port })),
    { redisOptions: { maxRetriesPerRequest: 1 } },
  )
  clients.push(client)
  return client
}

beforeAll(async () => {
  const binary = redisServerBinary()
  dir = mkdtempSync(join(tmpdir(), 'evergreen-cluster-'))
  for (let i = 0; i < 3; i++) {
    const port = await clusterPort()
    ports.push(port)
    const child = spawn(
      binary,
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        join(dir, `nodes-${port}.conf`),
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
      ],
      { stdio: 'ignore' },
    )
    nodes.push(child)
  }
  await until(
    () => {
      try {
        for (const port of ports) execFileSync('redis-cli', ['-p', String(port), 'ping'], { stdio: 'pipe' })
        return true
      } catch {
        return false
      }
    },
    20_000,
    'cluster nodes did not start',
  )
  execFileSync(
    'redis-cli',
    [
      '--cluster',
      'create',
      ...ports.map((p) => `127.0.0.1:${p}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ],
    { stdio: 'pipe' },
  )
  await until(
    () =>
      execFileSync('redis-cli', ['-p', String(ports[0]), 'cluster', 'info'], { encoding: 'utf8' }).includes(
        'cluster_state:ok',
      ),
    15_000,
    'cluster did not become ok',
  )
}, 40_000)

afterAll(() => {
  for (const client of clients) client.disconnect()
  for (const node of nodes) node.kill('SIGKILL')
  if (dir !== '') rmSync(dir, { recursive: true, force: true })
})

storeConformance(
  'redisStore({ client: Cluster })',
  () => redisStore({ client: cluster(), prefix: freshPrefix('cluster') }),
  {
    describe,
    it,
  },
)

describe('fleet mode on a Redis Cluster', () => {
  it('lets one replica load each resource and brings the value to the others', async () => {
    const prefix = freshPrefix('cluster-fleet')
    let calls = 0
    const replicas = [0, 1, 2].map(() => {
      const resources = new Resources({ interval: '1m', store: redisStore({ client: cluster(), prefix }) })
      // Names spread over the slots of all three masters.
      for (const name of ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot']) {
        resources.define(name, async () => {
          calls++
          return `${name}-value`
        })
      }
      return resources
    })
    await replicas[0]!.start({ wait: true })
    expect(calls).toBe(6)
    await Promise.all(replicas.slice(1).map((r) => r.start({ wait: true })))
    // Warm from the cluster: nobody loads again within the interval.
    expect(calls).toBe(6)
    for (const r of replicas) expect(r.get('delta')).toBe('delta-value')

    // A refresh on one replica is announced and adopted by the others.
    const fresh = replicas[2]!.resource('echo')
    const before = fresh.peek().version
    await fresh.refresh()
    await until(
      () => replicas.every((r) => r.resource('echo').peek().version > before),
      5_000,
      'the other replicas did not adopt the new version',
    )
    for (const r of replicas) await r.stop()
  }, 30_000)
})
