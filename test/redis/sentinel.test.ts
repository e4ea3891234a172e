/**
 * Fleet mode through a Sentinel-managed client, as the docs promise: one master, one replica of it,
 * one Sentinel watching them. The store takes the user's client, and its subscriber is a duplicate
 * of that client, so both follow Sentinel to the new master after a failover.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Resources } from '../../src/index.js'
import { redisStore } from '../../src/redis/index.js'
import { freshPrefix, pause, until } from './helpers.js'
import { freePort, type RedisServer, rawCommand, redisServerBinary, startRedis } from './redis-server.js'

const MASTER_NAME = 'evergreen-test'
let master: RedisServer
let replica: RedisServer
let sentinel: ChildProcess | undefined
let sentinelPort = 0
let dir = ''
const clients: Redis[] = []

/** What Sentinel answers, or `undefined` while it does not answer. */
async function ask(...args: string[]): Promise<unknown> {
  try {
    return await rawCommand(sentinelPort, ['SENTINEL', ...args], 500)
  } catch {
    return undefined
  }
}

/** The port Sentinel gives for the master now. */
async function masterPort(): Promise<number | undefined> {
  const address = await ask('get-master-addr-by-name', MASTER_NAME)
  return Array.isArray(address) ? Number(address[1]) : undefined
}

function sentinelClient(): Redis {
  const client = new Redis({
    sentinels: [{ host: '127.0.0.1', port: sentinelPort }],
    name: MASTER_NAME,
    maxRetriesPerRequest: 1,
  })
  // Connection errors while the master is down are expected here; the store reports its own.
  client.on('error', () => {})
  clients.push(client)
  return client
}

/** Starts Sentinel on {@link sentinelPort}, watching the master. */
function startSentinel(): ChildProcess {
  // Sentinel rewrites its configuration file, so it gets one of its own in a writable directory.
  const config = join(dir, `sentinel-${sentinelPort}.conf`)
  writeFileSync(
    config,
    [
      `port ${sentinelPort}`,
      'bind 127.0.0.1',
      `dir ${dir}`,
      `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${master.port} 1`,
      `sentinel down-after-milliseconds ${MASTER_NAME} 1000`,
      `sentinel failover-timeout ${MASTER_NAME} 5000`,
      '',
    ].join('\n'),
  )
  return spawn(redisServerBinary(), [config, '--sentinel'], { stdio: 'ignore' })
}

beforeAll(async () => {
  master = await startRedis()
  replica = await startRedis()
  await replica.command('REPLICAOF', '127.0.0.1', master.port)
  dir = mkdtempSync(join(tmpdir(), 'evergreen-sentinel-'))
  // Another process may take the free port between the probe and the start: try a few.
  for (let attempt = 0; sentinel === undefined; attempt++) {
    sentinelPort = await freePort()
    const started = startSentinel()
    try {
      await until(async () => (await ask('masters')) !== undefined, 5_000, 'Sentinel did not answer')
      sentinel = started
    } catch (error) {
      started.kill('SIGKILL')
      if (attempt >= 3) throw error
    }
  }
  // Ready once Sentinel knows the master and has found its replica (from the master's INFO).
  await until(
    async () => {
      const replicas = await ask('replicas', MASTER_NAME)
      return Array.isArray(replicas) && replicas.length > 0
    },
    20_000,
    'Sentinel did not find the replica',
  )
}, 40_000)

afterAll(async () => {
  for (const client of clients) client.disconnect()
  sentinel?.kill('SIGKILL')
  await master?.stop()
  await replica?.stop()
  if (dir !== '') rmSync(dir, { recursive: true, force: true })
})

describe('fleet mode with a Sentinel-managed client', () => {
  it('shares refreshes, and coordinates again through the new master after a failover', {
    timeout: 60_000,
  }, async () => {
    const prefix = freshPrefix('sentinel')
    let calls = 0
    const replicaOf = () => {
      const resources = new Resources({
        interval: '1h',
        store: redisStore({ client: sentinelClient(), prefix }),
      })
      resources.define('rates', () => ({ call: ++calls }))
      return resources
    }
    const first = replicaOf()
    const second = replicaOf()
    try {
      await first.start({ wait: true })
      await second.start({ wait: true })
      // The second registry took the shared value instead of loading it again.
      expect(calls).toBe(1)
      expect(second.get('rates')).toEqual({ call: 1 })

      // The master dies; Sentinel promotes the replica, which has the shared entry.
      await master.kill()
      await until(async () => (await masterPort()) === replica.port, 30_000, 'Sentinel did not fail over')

      // Coordination resumes by itself: a refresh on one registry reaches the other, by the announcement
      // its subscriber receives from the new master. Refreshes made while the clients still look for the
      // master load alone (the store is down for them), so the check is repeated until one is shared.
      await until(
        async () => {
          const value = (await first.resource('rates').refresh()) as { call: number }
          await pause(200)
          return (second.get('rates') as { call: number }).call === value.call
        },
        30_000,
        'a refresh after the failover never reached the other registry',
      )
      const shared = await replica.command('HGET', `${prefix}:{rates}:value`, 'version')
      expect(Number(shared)).toBe(first.resource('rates').peek().version)
      expect(second.resource('rates').peek().version).toBe(first.resource('rates').peek().version)
    } finally {
      await first.stop()
      await second.stop()
    }
  })
})
